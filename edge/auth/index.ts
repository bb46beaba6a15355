// Authentication: hashed API keys with scopes, and public mode by client IP.
export { Authenticator, UNKNOWN_CLIENT, generateApiKey, type AuthOptions, type Principal } from './api-keys.ts';
