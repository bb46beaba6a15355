// Authentication: hashed API keys with scopes, and public mode by client IP.
export { Authenticator, generateApiKey, type AuthOptions, type Principal } from './api-keys.ts';
