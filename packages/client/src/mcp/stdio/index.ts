// @edgesearch/client/mcp/stdio: the MCP server on stdio (Node only).
export { runStdioServer, type RunningStdioServer, type StdioServerOptions } from './server.js';
export { API_KEY_ENV, ENDPOINT_ENV, StdioSettingsError, stdioSettings, type StdioSettings } from './settings.js';
