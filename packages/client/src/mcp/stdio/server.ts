/// <reference types="node" />
// The MCP server on stdin/stdout, for desktop agents that start it as a child process. stdout
// carries the protocol alone: anything else goes to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createClient, type ClientOptions } from '../../index.js';
import { createMcpServer, type EdgeSearchMcpOptions } from '../server.js';
import type { StdioSettings } from './settings.js';

export interface StdioServerOptions extends StdioSettings, EdgeSearchMcpOptions {
  /** Further client options (retries, timeout, headers). */
  client?: Omit<ClientOptions, 'endpoint' | 'apiKey'>;
}

export interface RunningStdioServer {
  server: McpServer;
  /** Resolves when the client has gone (stdin ended) and the server is closed. */
  closed: Promise<void>;
}

/** Serves the edgesearch tools on this process's stdin and stdout until stdin ends. */
export async function runStdioServer(opts: StdioServerOptions): Promise<RunningStdioServer> {
  const { endpoint, apiKey, client: clientOptions, ...serverOptions } = opts;
  const client = createClient({ ...clientOptions, endpoint, ...(apiKey !== undefined ? { apiKey } : {}) });
  const server = createMcpServer(client, serverOptions);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    // The client closes our stdin to stop us: close the server, so the process can exit.
    process.stdin.once('end', () => void server.close().catch(() => {}).then(resolve));
  });
  await server.connect(transport);
  process.stderr.write(`edgesearch MCP server on stdio, searching ${client.endpoint} ${apiKey ? 'with an API key' : 'without an API key'}\n`);
  return { server, closed };
}
