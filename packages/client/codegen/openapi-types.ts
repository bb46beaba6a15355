// The client's API types are generated from the edge's OpenAPI document (openapi-typescript),
// so the client cannot describe a request or response the edge does not: a change to the API's
// schemas changes the document, and the test beside this file fails until the file is
// regenerated (`npm run client:types`).
import openapiTS, { astToString } from 'openapi-typescript';
import { DEFAULT_MAX_BATCH_QUERIES } from '../../../shared/api/index.ts';
import { openApiDocument } from '../../../edge/openapi/index.ts';

export const GENERATED_FILE = new URL('../src/openapi.gen.ts', import.meta.url);

/** The document the client is generated from: the edge's defaults (keys required). */
export function sourceDocument(): ReturnType<typeof openApiDocument> {
  return openApiDocument({ maxBatchQueries: DEFAULT_MAX_BATCH_QUERIES, publicMode: false });
}

export async function generateClientTypes(): Promise<string> {
  // JSON round trip: the generator wants plain data, the document is built of frozen literals.
  const ast = await openapiTS(JSON.parse(JSON.stringify(sourceDocument())), {
    // Fields with a default (mode, k, cache) are optional in a request: the edge fills them in.
    defaultNonNullable: false,
  });
  return [
    '// Generated from the edge\'s OpenAPI document by packages/client/codegen (npm run client:types).',
    '// Do not edit: the test beside the generator fails when this file and the document differ.',
    '',
    astToString(ast),
  ].join('\n');
}
