// The API version this client speaks: the OpenAPI document's info.version, and the major version
// of this package (a test checks both).
export const API_VERSION = '1';
