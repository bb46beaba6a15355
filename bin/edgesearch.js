#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader, so `npm ci` needs no compile step. The
// repository's tsconfig is named, not looked up from the working directory: its paths map
// `@edgesearch/client` to the source wherever the command is started (`edgesearch mcp` is
// started by desktop agents, from a directory of theirs).
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../gpu-pool/cli/index.ts');
process.exitCode = await main(process.argv);
