// Public surface of the edge's JSON API contract: schemas, types, limits, validation and error
// codes, shared by the worker, the OpenAPI document and the typed client. Runtime-neutral.
export {
  AdminHealthResponse,
  AdminStatsResponse,
  BatchRequest,
  BatchResponse,
  BreakerState,
  EndpointHealth,
  ErrorBody,
  ErrorCode,
  HealthResponse,
  Hit,
  QueryText,
  SearchParams,
  SearchRequest,
  SearchResponse,
  Timings,
  batchRequestSchema,
  normalizeQuery,
  type BatchRequestInput,
  type SearchRequestInput,
} from './schemas.ts';
export {
  DEFAULT_MAX_BATCH_QUERIES,
  ENVELOPE_BYTES,
  MAX_JSON_BYTES_PER_CHAR,
  MAX_K,
  MAX_QUERY_CHARS,
  MAX_QUERY_JSON_BYTES,
  QUERY_FIELDS_BYTES,
  batchBodyLimit,
  searchBodyLimit,
} from './limits.ts';
export { issueMessage, parseRequest, validationError } from './validation.ts';
export { API_ERRORS, ApiError, type ApiErrorCode } from './errors.ts';
