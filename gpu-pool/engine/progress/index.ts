// Progress for long work: a live bar with rate and ETA on a terminal, plain lines otherwise
// (CI logs and pipes should not fill with carriage returns).

export interface Progress {
  tick(n?: number): void;
  /** Set the absolute position (e.g. when resuming from a checkpoint). */
  set(done: number): void;
  finish(): void;
}

export interface ProgressOptions {
  label: string;
  total?: number;
  unit?: string;
  stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  /** Seconds between plain lines when not on a terminal. */
  interval?: number;
  now?: () => number;
  /** false: report nothing (libraries and tests). */
  enabled?: boolean;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function describeProgress(done: number, total: number | undefined, elapsedS: number, unit: string, startedAt = 0): string {
  const rate = elapsedS > 0 ? (done - startedAt) / elapsedS : 0;
  const rateText = `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)} ${unit}/s`;
  if (total === undefined || total <= 0) return `${done} ${unit} | ${rateText} | ${formatDuration(elapsedS)}`;
  const pct = Math.min(100, (100 * done) / total);
  const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
  return `${done}/${total} ${unit} (${pct.toFixed(1)}%) | ${rateText} | elapsed ${formatDuration(elapsedS)} | ETA ${formatDuration(eta)}`;
}

export function createProgress(opts: ProgressOptions): Progress {
  if (opts.enabled === false) return { tick() {}, set() {}, finish() {} };
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const now = opts.now ?? (() => performance.now() / 1000);
  const unit = opts.unit ?? 'items';
  const interval = opts.interval ?? 5;
  const start = now();
  let done = 0;
  let startedAt: number | undefined;
  let lastDraw = -Infinity;

  const line = () => describeProgress(done, opts.total, now() - start, unit, startedAt ?? 0);
  const draw = (force: boolean) => {
    const t = now();
    if (tty) {
      if (!force && t - lastDraw < 0.1) return;
      const width = 24;
      const frac = opts.total ? Math.min(1, done / opts.total) : 0;
      const filled = Math.round(frac * width);
      const bar = opts.total ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
      stream.write(`\r\x1b[K${opts.label} ${bar}${line()}`);
    } else {
      if (!force && t - lastDraw < interval) return;
      stream.write(`${opts.label}: ${line()}\n`);
    }
    lastDraw = t;
  };

  return {
    tick(n = 1) {
      if (startedAt === undefined) startedAt = done;
      done += n;
      draw(false);
    },
    set(value) {
      done = value;
      startedAt = value;
      draw(false);
    },
    finish() {
      draw(true);
      if (tty) stream.write('\n');
    },
  };
}

/**
 * Progress of a training loop: a bar per epoch (`epoch N/E`) fed by onProgress(done, total), and
 * one log line per epoch from onEpoch. What colbert train and phrase train both report.
 */
export function epochProgress<R extends { epoch: number }>(opts: { epochs: number; unit: string; enabled: boolean; log: (line: string) => void; line: (report: R) => string }) {
  let bar: Progress | undefined;
  let reported = 0;
  let epochNo = 1;
  return {
    onProgress: (done: number, total: number) => {
      bar ??= createProgress({ label: `epoch ${epochNo}/${opts.epochs}`, total, unit: opts.unit, enabled: opts.enabled });
      bar.tick(done - reported);
      reported = done;
    },
    onEpoch: (r: R) => {
      bar?.finish();
      bar = undefined;
      reported = 0;
      epochNo = r.epoch + 1;
      opts.log(opts.line(r));
    },
  };
}
