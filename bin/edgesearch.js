#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader, so `npm ci` needs no compile step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../gpu-pool/cli/index.ts');
process.exitCode = await main(process.argv);
