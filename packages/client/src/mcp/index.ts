// @edgesearch/client/mcp: edgesearch as a Model Context Protocol server (peer dependencies
// @modelcontextprotocol/sdk and zod). Runtime-neutral: serve it from a worker with the SDK's
// WebStandardStreamableHTTPServerTransport, as the edge does at /mcp. In Node, run it on stdio
// with runStdioServer ('@edgesearch/client/mcp/stdio') or the package's `edgesearch-mcp` bin.
export { TOOL_NAMES, createMcpServer, type EdgeSearchMcpOptions } from './server.js';
export { apiToolError, conversationResult, searchOutputOf, searchResult } from './results.js';
export {
  MODES,
  UNITS,
  answerInput,
  conversationSearchInput,
  conversationSearchOutput,
  searchInput,
  searchOutput,
  toolHit,
  type AnswerToolInput,
  type ConversationSearchToolInput,
  type ConversationSearchToolOutput,
  type SearchToolInput,
  type SearchToolOutput,
  type ToolHit,
} from './schemas.js';
