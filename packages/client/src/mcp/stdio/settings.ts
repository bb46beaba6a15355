// Where the stdio server searches: --endpoint/--key, else EDGESEARCH_ENDPOINT/EDGESEARCH_API_KEY.
// Shared by the package's bin and the repository's `edgesearch mcp`, so both read them alike.

export interface StdioSettings {
  endpoint: string;
  apiKey?: string;
}

export const ENDPOINT_ENV = 'EDGESEARCH_ENDPOINT';
export const API_KEY_ENV = 'EDGESEARCH_API_KEY';

/** A setting that is missing or wrong: the command says so and exits with status 2. */
export class StdioSettingsError extends Error {
  override readonly name = 'StdioSettingsError';
}

/** The settings from flags, falling back on the environment; throws StdioSettingsError saying what is missing. */
export function stdioSettings(flags: { endpoint?: string; key?: string }, env: Record<string, string | undefined>): StdioSettings {
  const endpoint = flags.endpoint || env[ENDPOINT_ENV];
  if (!endpoint) throw new StdioSettingsError(`no endpoint: pass --endpoint URL (the edge's base URL, e.g. http://127.0.0.1:8787) or set ${ENDPOINT_ENV}`);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new StdioSettingsError(`--endpoint must be an http(s) URL, not ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new StdioSettingsError(`--endpoint must be an http(s) URL, not ${JSON.stringify(endpoint)}`);
  const apiKey = flags.key || env[API_KEY_ENV];
  return { endpoint, ...(apiKey ? { apiKey } : {}) };
}
