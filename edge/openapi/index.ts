// The OpenAPI document of the public API.
export { openApiDocument } from './openapi-document.ts';
