import type { Command } from 'commander';
import { API_KEY_ENV, ENDPOINT_ENV, StdioSettingsError, runStdioServer, stdioSettings } from '@edgesearch/client/mcp/stdio';

/** `edgesearch mcp`: the MCP server on stdio (search, answer, conversation_search), for desktop agents. */
export function mcpCommand(cmd: Command): Command {
  return cmd
    .description(`serve the edge's search, answer and conversation_search tools over MCP on stdin/stdout (stdout is the protocol; messages go to stderr)`)
    .option('--endpoint <url>', `the edge's base URL, e.g. http://127.0.0.1:8787 (default: $${ENDPOINT_ENV})`)
    .option('--key <key>', `an API key with the search scope (default: $${API_KEY_ENV}; none in public mode)`)
    .action(async (o: { endpoint?: string; key?: string }) => {
      let settings;
      try {
        settings = stdioSettings(o, process.env);
      } catch (err) {
        // A usage error: commander prints it and the command exits with status 2.
        if (err instanceof StdioSettingsError) cmd.error(`error: ${err.message}`, { exitCode: 2, code: 'edgesearch.mcp.settings' });
        throw err;
      }
      const { closed } = await runStdioServer(settings);
      await closed;
    });
}
