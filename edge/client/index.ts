// The typed TypeScript client of the edge API.
export { EdgeApiError, createEdgeClient, type EdgeClient, type EdgeClientOptions } from './edge-client.ts';
