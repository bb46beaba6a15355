// Structured logs: one JSON object per line, so log shippers need no parsing rules.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

/** Read when no `level` is passed, so operators can turn on debug without a code change. */
export const LOG_LEVEL_ENV = 'EDGESEARCH_LOG_LEVEL';

export interface LoggerOptions {
  name: string;
  /** Lowest level written (default: $EDGESEARCH_LOG_LEVEL, else 'info'); 'silent' writes nothing. */
  level?: LogLevel;
  /** Receives each line without its trailing newline (default: appended to stderr). */
  write?: (line: string) => void;
  /** Fields on every line. */
  base?: LogFields;
  /** Where the level variable is read from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Logger {
  readonly name: string;
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether `level` would be written: skip building costly fields when not. */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
  /** A logger whose lines also carry `fields` (e.g. a requestId). */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: Number.POSITIVE_INFINITY };
const CORE_KEYS = new Set(['time', 'level', 'name', 'msg']);

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? levelFromEnv(options.env ?? process.env) ?? 'info';
  if (!isLogLevel(level)) throw new Error(`unknown log level ${JSON.stringify(level)}; expected one of ${LOG_LEVELS.join(', ')}`);
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  return makeLogger(options.name, level, write, { ...options.base });
}

function levelFromEnv(env: Readonly<Record<string, string | undefined>>): LogLevel | undefined {
  const raw = env[LOG_LEVEL_ENV]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  // A typo should fail at startup, not silently log at the wrong level.
  if (!isLogLevel(raw)) throw new Error(`${LOG_LEVEL_ENV}=${JSON.stringify(raw)} is not a log level; expected one of ${LOG_LEVELS.join(', ')}`);
  return raw;
}

function makeLogger(name: string, level: LogLevel, write: (line: string) => void, bound: LogFields): Logger {
  const threshold = RANK[level];
  const log = (lineLevel: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields) => {
    if (RANK[lineLevel] < threshold) return;
    write(formatLine({ time: new Date().toISOString(), level: lineLevel, name, msg }, bound, fields));
  };
  return {
    name,
    level,
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    enabled: (l) => RANK[l] >= threshold,
    child: (fields) => makeLogger(name, level, write, { ...bound, ...fields }),
  };
}

/** Serialize one line; never throws, since a failing log call must not fail the request. */
export function formatLine(core: LogFields, ...fieldSets: (LogFields | undefined)[]): string {
  const record: LogFields = { ...core };
  for (const fields of fieldSets) {
    if (fields === undefined) continue;
    for (const [key, value] of Object.entries(fields)) {
      // Fields cannot overwrite time/level/name/msg; they are kept under `_key` instead.
      record[CORE_KEYS.has(key) ? `_${key}` : key] = value;
    }
  }
  try {
    return JSON.stringify(record, replacer);
  } catch (error) {
    // Circular structures and throwing toJSON methods: keep the line, drop the fields.
    return JSON.stringify({ ...core, logError: `fields not serializable: ${error instanceof Error ? error.message : String(error)}` });
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return serializeError(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Errors' own properties are not enumerable, so JSON.stringify would print `{}`. */
export function serializeError(error: Error): { message: string; code?: unknown; stack?: string } {
  const out: { message: string; code?: unknown; stack?: string } = { message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.stack !== undefined) out.stack = error.stack;
  return out;
}
