#!/usr/bin/env node
/// <reference types="node" />
// edgesearch-mcp: the edgesearch MCP server on stdio, for desktop agents.
//   edgesearch-mcp --endpoint https://search.example.com --key es_...
// (or EDGESEARCH_ENDPOINT and EDGESEARCH_API_KEY). stdout is the protocol; messages go to stderr.
import { parseArgs } from 'node:util';
import { ENDPOINT_ENV, API_KEY_ENV, StdioSettingsError, runStdioServer, stdioSettings } from './stdio/index.js';

const USAGE = `usage: edgesearch-mcp --endpoint URL [--key KEY]

Serves edgesearch's search, answer and conversation_search tools over MCP on stdin/stdout.
  --endpoint URL  the edge's base URL (else $${ENDPOINT_ENV})
  --key KEY       an API key with the search scope (else $${API_KEY_ENV}; none in public mode)
`;

async function main(argv: string[]): Promise<number> {
  let values: { endpoint?: string; key?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { endpoint: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`edgesearch-mcp: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  try {
    const { closed } = await runStdioServer(stdioSettings(values, process.env));
    await closed;
    return 0;
  } catch (err) {
    if (err instanceof StdioSettingsError) {
      process.stderr.write(`edgesearch-mcp: ${err.message}\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`edgesearch-mcp: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
