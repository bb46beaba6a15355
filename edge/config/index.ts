// The edge's configuration: environment bindings parsed and validated.
export { ApiKeyEntry, ConfigError, PoolEndpoint, RateLimit, Scope, parseEdgeConfig, type ConversationSettings, type EdgeConfig, type EdgeEnv } from './edge-config.ts';
export type { DurableObjectNamespaceLike } from './namespace.ts';
