// @edgesearch/client/ai-sdk: edgesearch as Vercel AI SDK tools (peer dependencies ai and zod).
export { edgesearchAnswerTool, edgesearchTool, type AnswerToolOptions, type SearchToolOptions, type ToolClientOptions } from './tools.js';
export { toolResult, type EdgeSearchToolHit, type EdgeSearchToolResult } from './result.js';
export { answerInputSchema, searchInputSchema, type AnswerToolInput, type SearchToolInput } from './schema.js';
