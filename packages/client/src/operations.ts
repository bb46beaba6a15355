// The API operations the client calls, by the OpenAPI document's operationId, and the statuses
// the document says a retry can cure. A test checks both against the document the edge serves.
import type { operations, paths } from './openapi.gen.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export const OPERATIONS = {
  search: { method: 'POST', path: '/v1/search' },
  searchBatch: { method: 'POST', path: '/v1/search/batch' },
  createConversation: { method: 'POST', path: '/v1/conversations' },
  getConversation: { method: 'GET', path: '/v1/conversations/{id}' },
  deleteConversation: { method: 'DELETE', path: '/v1/conversations/{id}' },
  conversationSearch: { method: 'POST', path: '/v1/conversations/{id}/search' },
  recordResponse: { method: 'PUT', path: '/v1/conversations/{id}/turns/{n}/response' },
  health: { method: 'GET', path: '/v1/health' },
  adminHealth: { method: 'GET', path: '/v1/admin/health' },
  adminStats: { method: 'GET', path: '/v1/admin/stats' },
} as const satisfies { [K in keyof operations]?: { method: HttpMethod; path: keyof paths } };

export type OperationId = keyof typeof OPERATIONS;

/**
 * The error statuses the API sends with Retry-After (rate_limited, pool_unavailable): the
 * request was not carried out and may succeed later. Every other error is final, and a lost
 * connection is not retried either (a conversation turn may have been stored).
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);
