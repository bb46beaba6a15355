// The edge's configuration: environment bindings parsed and validated.
export { ApiKeyEntry, ConfigError, PoolEndpoint, RateLimit, Scope, parseEdgeConfig, type EdgeConfig, type EdgeEnv } from './edge-config.ts';
