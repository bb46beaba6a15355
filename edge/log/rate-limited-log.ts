// Console logging that does not flood: the same warning (the same pool failure, the same
// configuration error) is written once per window, and the next time it is written it says
// how many like it were held back. An edge logs per call; a dead pool router at 1000 requests
// a second would otherwise write 1000 identical lines a second.
//
// A line that must exist for every request (its request id is what a caller reports) can ask
// for a short stand-in when held back: one line per request, the detail once per window.

export type LogLevel = 'warn' | 'error';

export interface LogSink {
  warn(message: string): void;
  error(message: string): void;
}

/** The stand-in for a held-back line: `ref` names this line, `line` writes it given the ref of the full one. */
export interface Repeat {
  ref: string;
  line: (writtenRef: string) => string;
}

export interface RateLimitedLogOptions {
  /** How long a key stays quiet after it was written (default 10 s). */
  windowMs?: number;
  /** Keys remembered at most; the oldest is forgotten first (default 1000). */
  maxKeys?: number;
  now?: () => number;
  sink?: LogSink;
}

export class RateLimitedLog {
  private readonly seen = new Map<string, { at: number; held: number; ref?: string }>();
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly sink: LogSink;

  constructor(opts: RateLimitedLogOptions = {}) {
    this.windowMs = opts.windowMs ?? 10_000;
    this.maxKeys = opts.maxKeys ?? 1000;
    this.now = opts.now ?? Date.now;
    // Bound late: tests replace console methods after this module is loaded.
    this.sink = opts.sink ?? { warn: (m) => console.warn(m), error: (m) => console.error(m) };
  }

  warn(key: string, message: string, repeat?: Repeat): boolean {
    return this.write('warn', key, message, repeat);
  }

  error(key: string, message: string, repeat?: Repeat): boolean {
    return this.write('error', key, message, repeat);
  }

  /**
   * Writes `message` unless `key` was written within the window; true when written. When held
   * back and `repeat` is given, writes `repeat.line(ref of the line that was written)` instead.
   */
  write(level: LogLevel, key: string, message: string, repeat?: Repeat): boolean {
    const now = this.now();
    const last = this.seen.get(key);
    if (last && now - last.at < this.windowMs) {
      last.held++;
      if (repeat && last.ref !== undefined) this.sink[level](repeat.line(last.ref));
      return false;
    }
    const held = last?.held ? ` [${last.held} more like this in the ${Math.round((now - last.at) / 1000)} s before, not logged in full]` : '';
    this.sink[level](`${message}${held}`);
    this.seen.delete(key); // re-inserted last: the map's order is the eviction order
    this.seen.set(key, { at: now, held: 0, ref: repeat?.ref });
    if (this.seen.size > this.maxKeys) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }
}

/** The isolate's log (one per isolate, like the console it writes to). */
export const edgeLog = new RateLimitedLog();
