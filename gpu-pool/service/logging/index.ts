// Structured JSON logs: one object per line, levels, child loggers with bound fields.
export {
  createLogger,
  formatLine,
  isLogLevel,
  serializeError,
  LOG_LEVEL_ENV,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from './logger.ts';
export { rateLimited, type RateLimitedLogger, type RateLimitOptions } from './rate-limit.ts';
