// Public surface of the edge's JSON API contract: schemas, types and error codes, shared by the
// worker, the OpenAPI document and the typed client. Runtime-neutral.
export {
  AdminHealthResponse,
  BatchRequest,
  BatchResponse,
  DEFAULT_MAX_BATCH_QUERIES,
  EndpointHealth,
  ErrorBody,
  HealthResponse,
  Hit,
  MAX_K,
  MAX_QUERY_CHARS,
  QueryText,
  SearchRequest,
  SearchResponse,
  batchRequestSchema,
  normalizeQuery,
  type BatchRequestInput,
  type SearchRequestInput,
} from './schemas.ts';
export { API_ERRORS, ApiError, type ApiErrorCode } from './errors.ts';
