import { DeadlineError, OverloadError } from './errors.ts';

export interface BatchInfo {
  size: number;
  /** How long each item of the batch waited in the queue, in ms (same order as the batch). */
  waitedMs: number[];
}

export interface DynamicBatcherOptions<I, O> {
  /** Most items handed to `process` at once. */
  maxBatchSize: number;
  /**
   * The expected cost of an item (any unit, e.g. ms of work), taken once at submit; default 1.
   * With `maxBatchWeight` it bounds how long one batch runs.
   */
  weigh?: (item: I) => number;
  /**
   * A batch takes items while their total weight stays within this (one item at least).
   * Default: no bound besides maxBatchSize.
   */
  maxBatchWeight?: number;
  /** Longest the oldest waiting item waits for company before a partial batch goes out. */
  maxWaitMs: number;
  /** Most items waiting (not counting those being processed); beyond it submits are shed. */
  maxQueue: number;
  /** Batches processed at once (default 1). */
  concurrency?: number;
  /**
   * Computes one output per item, in order. An `Error` at position i rejects only item i;
   * throwing or rejecting fails the whole batch.
   */
  process: (items: I[]) => Promise<O[]>;
  /** Epoch ms; deadlines are compared against it (default Date.now). */
  now?: () => number;
  onBatch?: (info: BatchInfo) => void;
  /** A submit was refused with OverloadError (queue full or shutting down). */
  onShed?: () => void;
  /** `n` queued items were dropped because their deadline passed. */
  onExpired?: (n: number) => void;
}

interface Entry<I, O> {
  item: I;
  weight: number;
  deadline: number;
  enqueuedAt: number;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

/** Batch durations kept for the Retry-After estimate. */
const DURATION_WINDOW = 16;

export class DynamicBatcher<I, O> {
  private readonly maxBatchSize: number;
  private readonly maxWaitMs: number;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly processFn: (items: I[]) => Promise<O[]>;
  private readonly weigh: (item: I) => number;
  private readonly maxBatchWeight: number;
  private readonly now: () => number;
  private readonly hooks: Pick<DynamicBatcherOptions<I, O>, 'onBatch' | 'onShed' | 'onExpired'>;

  private readonly queue: Entry<I, O>[] = [];
  private queued = 0;
  private inFlight = 0;
  private closed = false;
  private timer: { cancel(): void } | undefined;
  private timerAt = 0;
  private readonly durations: number[] = [];
  private drainWaiters: (() => void)[] = [];

  constructor(options: DynamicBatcherOptions<I, O>) {
    const concurrency = options.concurrency ?? 1;
    requireInt('maxBatchSize', options.maxBatchSize, 1);
    requireInt('maxQueue', options.maxQueue, 0);
    requireInt('concurrency', concurrency, 1);
    if (!Number.isFinite(options.maxWaitMs) || options.maxWaitMs < 0) {
      throw new RangeError(`maxWaitMs must be a finite number >= 0, got ${options.maxWaitMs}`);
    }
    this.maxBatchSize = options.maxBatchSize;
    this.maxWaitMs = options.maxWaitMs;
    this.maxQueue = options.maxQueue;
    this.concurrency = concurrency;
    this.processFn = options.process;
    this.weigh = options.weigh ?? (() => 1);
    this.maxBatchWeight = options.maxBatchWeight ?? Infinity;
    this.now = options.now ?? (() => Date.now());
    this.hooks = { onBatch: options.onBatch, onShed: options.onShed, onExpired: options.onExpired };
  }

  /** Items waiting to be batched. */
  get depth(): number {
    return this.queue.length;
  }

  /** Total weight of the items waiting. */
  get queuedWeight(): number {
    return this.queued;
  }

  /** Batches being processed. */
  get running(): number {
    return this.inFlight;
  }

  submit(item: I, deadline: number): Promise<O> {
    if (this.closed) return this.shed('shutting down');
    if (this.queue.length >= this.maxQueue) return this.shed(`queue full (${this.maxQueue} waiting)`);
    const now = this.now();
    if (deadline <= now) return Promise.reject(new DeadlineError('deadline passed before the request was queued', deadline));
    const weight = this.weigh(item);
    if (!Number.isFinite(weight) || weight < 0) return Promise.reject(new RangeError(`weigh() returned ${weight}; weights must be finite and >= 0`));
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, weight, deadline, enqueuedAt: now, resolve, reject });
      this.queued += weight;
      this.pump(false);
    });
  }

  /** Resolves once nothing is queued or running. Does not stop new submits (see close). */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Refuse new work; what is already queued is still processed. */
  close(): void {
    this.closed = true;
    this.pump(true);
  }

  private shed(reason: string): Promise<never> {
    this.notify('onShed', () => this.hooks.onShed?.());
    return Promise.reject(new OverloadError(reason, this.retryAfterMs()));
  }

  /**
   * Time until the current backlog would clear, from recent batch durations. With no history yet,
   * maxWaitMs is the best guess there is (and a floor: sooner retries would find the same queue).
   */
  private retryAfterMs(): number {
    const batchesAhead = Math.ceil(this.queue.length / this.maxBatchSize) + this.inFlight;
    const mean = this.durations.length === 0 ? 0 : this.durations.reduce((a, b) => a + b, 0) / this.durations.length;
    return Math.max(1, Math.ceil(this.maxWaitMs), Math.ceil((batchesAhead * mean) / this.concurrency));
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  /**
   * Dispatch whatever may go now; otherwise arm the timer for the oldest item's maxWaitMs.
   * `allowPartial` is false inside submit: a partial batch then leaves from the timer, never
   * synchronously, so items submitted in the same tick share a batch even with maxWaitMs 0.
   */
  private pump(allowPartial: boolean): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const now = this.now();
      const full = this.queue.length >= this.maxBatchSize || this.queued >= this.maxBatchWeight;
      // Once closed nothing else can arrive, so waiting for a fuller batch would only delay drain.
      const due = this.closed || (allowPartial && now - this.queue[0]!.enqueuedAt >= this.maxWaitMs);
      if (!full && !due) {
        this.arm(now);
        break;
      }
      this.dispatch(now);
    }
    // While every slot is busy, the next completion pumps; a timer would only spin.
    if (this.queue.length === 0 || this.inFlight >= this.concurrency) this.disarm();
    this.settleDrain();
  }

  private arm(now: number): void {
    const at = this.queue[0]!.enqueuedAt + this.maxWaitMs;
    if (this.timer !== undefined && this.timerAt === at) return;
    this.disarm();
    this.timerAt = at;
    const fire = () => {
      this.timer = undefined;
      this.pump(true);
    };
    // Nothing to wait for: run after this turn's I/O callbacks (setTimeout(0) costs ~1 ms).
    const delay = at - now;
    if (delay <= 0 && typeof setImmediate === 'function') {
      const handle = setImmediate(fire);
      this.timer = { cancel: () => clearImmediate(handle) };
    } else {
      const handle = setTimeout(fire, Math.max(0, delay));
      this.timer = { cancel: () => clearTimeout(handle) };
    }
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /**
   * Take up to maxBatchSize live items (and at most maxBatchWeight of them, one item at least)
   * from the front, rejecting expired ones on the way.
   */
  private dispatch(now: number): void {
    const batch: Entry<I, O>[] = [];
    let expired = 0;
    let weight = 0;
    while (batch.length < this.maxBatchSize && this.queue.length > 0) {
      if (batch.length > 0 && weight + this.queue[0]!.weight > this.maxBatchWeight) break;
      const entry = this.queue.shift()!;
      this.queued -= entry.weight;
      if (entry.deadline <= now) {
        expired++;
        entry.reject(new DeadlineError('deadline passed while queued', entry.deadline));
      } else {
        batch.push(entry);
        weight += entry.weight;
      }
    }
    if (this.queue.length === 0) this.queued = 0; // no drift from float sums
    if (expired > 0) this.notify('onExpired', () => this.hooks.onExpired?.(expired));
    if (batch.length === 0) return;

    this.inFlight++;
    const waitedMs = batch.map((e) => now - e.enqueuedAt);
    this.notify('onBatch', () => this.hooks.onBatch?.({ size: batch.length, waitedMs }));
    const items = batch.map((e) => e.item);
    const started = this.now();
    // The promise wrapper turns a synchronous throw in `process` into a batch failure too.
    new Promise<O[]>((resolve) => resolve(this.processFn(items)))
      .then(
        (outputs) => deliver(batch, outputs),
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      )
      .finally(() => {
        this.recordDuration(this.now() - started);
        this.inFlight--;
        this.pump(true);
      });
  }

  private recordDuration(ms: number): void {
    this.durations.push(Math.max(0, ms));
    if (this.durations.length > DURATION_WINDOW) this.durations.shift();
  }

  private settleDrain(): void {
    if (!this.idle() || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Observers (metrics) must not be able to wedge the queue, so their errors become warnings. */
  private notify(hook: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      process.emitWarning(`DynamicBatcher ${hook} hook threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function deliver<I, O>(batch: Entry<I, O>[], outputs: O[]): void {
  if (!Array.isArray(outputs) || outputs.length !== batch.length) {
    const got = Array.isArray(outputs) ? `${outputs.length} outputs` : typeof outputs;
    const error = new Error(`batch process returned ${got} for ${batch.length} items`);
    for (const entry of batch) entry.reject(error);
    return;
  }
  batch.forEach((entry, i) => {
    const out = outputs[i];
    if (out instanceof Error) entry.reject(out);
    else entry.resolve(out as O);
  });
}

function requireInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
}
