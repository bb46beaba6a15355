// What the integrations (LangChain retriever, AI SDK tools) share in reading their options: a
// client given or made from an endpoint, and requests that leave unset options out.
import { createClient, type EdgeSearchClient } from './client.js';

/** A client to search with: given, or made from `endpoint` (and `apiKey`). */
export interface ClientSource {
  client?: EdgeSearchClient;
  /** The edge's base URL (without `client`). */
  endpoint?: string;
  /** An API key (without `client`; omit in public mode). */
  apiKey?: string;
}

/** The client `opts` give or name; `who` names the integration in the error when they give neither. */
export function clientOf(opts: ClientSource, who: string): EdgeSearchClient {
  if (opts.client) return opts.client;
  if (opts.endpoint) return createClient({ endpoint: opts.endpoint, ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}) });
  throw new TypeError(`${who} needs a \`client\` or an \`endpoint\``);
}

/** The entries whose value is not undefined: unset options stay out of requests. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
