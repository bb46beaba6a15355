// The edge's logging: console warnings and errors, rate-limited per kind of message.
export { RateLimitedLog, edgeLog, type LogLevel, type LogSink, type RateLimitedLogOptions, type Repeat } from './rate-limited-log.ts';
