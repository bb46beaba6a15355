// The client and the OpenAPI document the edge serves, checked against each other: the
// generated types are the document's, every operation the client calls is in the document with
// its method and path (and every API operation has a client method), the statuses the client
// retries are exactly those the document sends with Retry-After, and the package's major
// version is the API's version.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_VERSION, CONVERSATION_ID_PATTERN, MAX_K, MAX_QUERY_CHARS, MODES, OPERATIONS, RETRYABLE_STATUSES, UNITS } from '../src/index.js';
import { GENERATED_FILE, generateClientTypes, sourceDocument } from './openapi-types.ts';

type Operation = { operationId: string; responses: Record<string, { headers?: Record<string, unknown> }> };
const doc = sourceDocument() as unknown as {
  info: { version: string };
  paths: Record<string, Record<string, Operation & { parameters?: { name: string; schema: { pattern?: string } }[] }>>;
  components: { schemas: { SearchRequest: { properties: Record<string, any> } } };
};

function documentOperations(): Map<string, { method: string; path: string; op: Operation }> {
  const out = new Map<string, { method: string; path: string; op: Operation }>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) out.set(op.operationId, { method: method.toUpperCase(), path, op });
  }
  return out;
}

describe('client ↔ OpenAPI document', () => {
  it('the committed types are generated from the current document (npm run client:types)', async () => {
    const committed = await readFile(GENERATED_FILE, 'utf8');
    expect(committed === (await generateClientTypes()), 'packages/client/src/openapi.gen.ts is stale: run npm run client:types').toBe(true);
  });

  it('every client operation is in the document with its method and path, and every API operation has one', () => {
    const ops = documentOperations();
    for (const [id, { method, path }] of Object.entries(OPERATIONS)) {
      expect(ops.get(id), `operation ${id}`).toBeDefined();
      expect({ id, method, path }).toEqual({ id, method: ops.get(id)!.method, path: ops.get(id)!.path });
    }
    // The HTML demo page and the document itself are not API calls.
    const api = [...ops.keys()].filter((id) => id !== 'demoPage' && id !== 'openApi');
    expect(api.filter((id) => !(id in OPERATIONS)), 'API operations the client lacks').toEqual([]);
  });

  it('the client retries exactly the statuses the document sends with Retry-After', () => {
    const withRetryAfter = new Set<number>();
    for (const { op } of documentOperations().values()) {
      for (const [status, res] of Object.entries(op.responses)) if (res.headers && 'Retry-After' in res.headers) withRetryAfter.add(Number(status));
    }
    expect([...RETRYABLE_STATUSES].sort()).toEqual([...withRetryAfter].sort());
  });

  it("the package's major version is the API's version", async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(API_VERSION).toBe(doc.info.version);
    expect(pkg.version.split('.')[0]).toBe(doc.info.version);
  });

  it('the limits and choices the tool schemas offer a model are the API\'s', () => {
    const search = doc.components.schemas.SearchRequest.properties;
    expect([...MODES]).toEqual(search.mode.enum);
    expect([...UNITS]).toEqual(search.params.properties.unit.enum);
    expect(MAX_K).toBe(search.k.maximum);
    expect(MAX_QUERY_CHARS).toBe(search.query.maxLength);
    const id = doc.paths['/v1/conversations/{id}']!.get!.parameters!.find((p) => p.name === 'id')!;
    expect(CONVERSATION_ID_PATTERN.source).toBe(id.schema.pattern);
  });
});
