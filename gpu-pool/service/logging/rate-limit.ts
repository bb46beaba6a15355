// A warning that fires once per failed call (a node down under load: ~50 a second) would drown
// the logs; one line per key and window, with a count of what was held back, tells the same.
import type { LogFields, Logger, LogLevel } from './logger.ts';

export interface RateLimitOptions {
  /** At most one line per key in this many ms (default 10 s). */
  windowMs?: number;
}

export interface RateLimitedLogger {
  /** Writes at once if `key` was quiet for a window; otherwise counts it for the window's summary. */
  warn(key: string, msg: string, fields?: LogFields): void;
  error(key: string, msg: string, fields?: LogFields): void;
  /** Writes the summaries still held back (call on shutdown) and forgets every key. */
  flush(): void;
}

interface KeyState {
  level: Exclude<LogLevel, 'silent' | 'debug' | 'info'>;
  msg: string;
  /** Occurrences held back since the last line, and the fields of the latest. */
  held: number;
  fields?: LogFields;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The first occurrence of a key is written at once; later ones within `windowMs` are counted, and
 * when the window ends one line says `repeated: N` (with the latest occurrence's fields) and a
 * new window starts. A key quiet for a whole window is forgotten.
 */
export function rateLimited(logger: Logger, options: RateLimitOptions = {}): RateLimitedLogger {
  const windowMs = options.windowMs ?? 10_000;
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) throw new Error(`rateLimited: windowMs must be a positive number of ms, got ${windowMs}`);
  const keys = new Map<string, KeyState>();

  const summarize = (state: KeyState) => {
    logger[state.level](state.msg, { ...state.fields, repeated: state.held, windowMs });
    state.held = 0;
  };
  const arm = (id: string, state: KeyState) => {
    state.timer = setTimeout(() => {
      if (state.held === 0) return void keys.delete(id);
      summarize(state);
      arm(id, state);
    }, windowMs);
    // Summaries must not keep a process alive that has nothing else to do.
    state.timer.unref?.();
  };
  const log = (level: KeyState['level']) => (key: string, msg: string, fields?: LogFields) => {
    // One key per message: the same caller key under two messages is two warnings.
    const id = JSON.stringify([level, msg, key]);
    const state = keys.get(id);
    if (state !== undefined) {
      state.held++;
      state.fields = fields;
      return;
    }
    logger[level](msg, fields);
    const fresh: KeyState = { level, msg, held: 0, timer: undefined as never };
    keys.set(id, fresh);
    arm(id, fresh);
  };

  return {
    warn: log('warn'),
    error: log('error'),
    flush() {
      for (const state of keys.values()) {
        clearTimeout(state.timer);
        if (state.held > 0) summarize(state);
      }
      keys.clear();
    },
  };
}
