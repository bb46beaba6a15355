import { escapeHelp, formatSample } from './format.ts';
import { checkLabelNames } from './names.ts';

export type LabelValues = Readonly<Record<string, string | number>>;

type Pairs = (readonly [string, string])[];

/** A metric's children, one per distinct set of label values, in first-use order. */
abstract class Metric<T> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  private readonly children = new Map<string, { pairs: Pairs; value: T }>();

  constructor(name: string, help: string, labelNames: readonly string[], reservedLabels: readonly string[] = []) {
    checkLabelNames(name, labelNames, reservedLabels);
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames];
  }

  protected abstract initial(): T;
  protected abstract samples(pairs: Pairs, value: T): string[];

  /** The child for these label values, created on first use; refuses missing or unknown labels. */
  protected child(labels: LabelValues = {}): T {
    const keys = Object.keys(labels);
    const unknown = keys.filter((k) => !this.labelNames.includes(k));
    const missing = this.labelNames.filter((k) => !(k in labels));
    if (unknown.length > 0 || missing.length > 0) {
      throw new Error(`${this.name}: expected labels [${this.labelNames.join(', ')}], got [${keys.join(', ')}]`);
    }
    const pairs: Pairs = this.labelNames.map((k) => [k, String(labels[k])] as const);
    const key = JSON.stringify(pairs.map(([, v]) => v));
    let entry = this.children.get(key);
    if (entry === undefined) {
      entry = { pairs, value: this.initial() };
      this.children.set(key, entry);
    }
    return entry.value;
  }

  /** Unlabelled metrics always render (as 0 before any update); labelled ones once used. */
  protected touchUnlabelled(): void {
    if (this.labelNames.length === 0) this.child();
  }

  /** Hook for values read at scrape time. */
  collect(): void {}

  render(): string[] {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { pairs, value } of this.children.values()) lines.push(...this.samples(pairs, value));
    return lines;
  }
}

/** `(value)` or `(labels, value)`, as prom-client takes them. */
function split(labelsOrValue: LabelValues | number | undefined, value: number | undefined, fallback: number): [LabelValues | undefined, number] {
  if (typeof labelsOrValue === 'number') return [undefined, labelsOrValue];
  return [labelsOrValue, value ?? fallback];
}

function checkNumber(metric: string, value: number): void {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`${metric}: value must be a number, got ${value}`);
}

export class Counter extends Metric<{ v: number }> {
  readonly type = 'counter';

  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    this.touchUnlabelled();
  }

  inc(value?: number): void;
  inc(labels: LabelValues, value?: number): void;
  inc(labelsOrValue?: LabelValues | number, value?: number): void {
    const [labels, n] = split(labelsOrValue, value, 1);
    checkNumber(this.name, n);
    // A counter that goes down reads as a restart to rate(); refuse it.
    if (n < 0) throw new Error(`${this.name}: counters only go up, got inc(${n})`);
    this.child(labels).v += n;
  }

  get(labels?: LabelValues): number {
    return this.child(labels).v;
  }

  /** A handle bound to one label set, for hot paths. */
  labels(labels: LabelValues): { inc(value?: number): void } {
    const c = this.child(labels);
    const name = this.name;
    return {
      inc(value = 1) {
        checkNumber(name, value);
        if (value < 0) throw new Error(`${name}: counters only go up, got inc(${value})`);
        c.v += value;
      },
    };
  }

  protected initial() {
    return { v: 0 };
  }

  protected samples(pairs: Pairs, value: { v: number }): string[] {
    return [formatSample(this.name, pairs, value.v)];
  }
}

export interface GaugeOptions {
  labelNames?: readonly string[];
  /**
   * Called at every render to read a live value (queue depth, pool size). Returning a number sets
   * an unlabelled gauge; a labelled one sets its children through the gauge it is given.
   */
  collect?: (gauge: Gauge) => number | void;
}

export class Gauge extends Metric<{ v: number }> {
  readonly type = 'gauge';
  private readonly collector?: (gauge: Gauge) => number | void;

  constructor(name: string, help: string, options: GaugeOptions = {}) {
    super(name, help, options.labelNames ?? []);
    this.collector = options.collect;
    this.touchUnlabelled();
  }

  set(value: number): void;
  set(labels: LabelValues, value: number): void;
  set(labelsOrValue: LabelValues | number, value?: number): void {
    const [labels, n] = split(labelsOrValue, value, Number.NaN);
    checkNumber(this.name, n);
    this.child(labels).v = n;
  }

  inc(value?: number): void;
  inc(labels: LabelValues, value?: number): void;
  inc(labelsOrValue?: LabelValues | number, value?: number): void {
    const [labels, n] = split(labelsOrValue, value, 1);
    checkNumber(this.name, n);
    this.child(labels).v += n;
  }

  dec(value?: number): void;
  dec(labels: LabelValues, value?: number): void;
  dec(labelsOrValue?: LabelValues | number, value?: number): void {
    const [labels, n] = split(labelsOrValue, value, 1);
    checkNumber(this.name, n);
    this.child(labels).v -= n;
  }

  get(labels?: LabelValues): number {
    return this.child(labels).v;
  }

  override collect(): void {
    if (this.collector === undefined) return;
    const value = this.collector(this);
    if (typeof value === 'number') this.set(value);
  }

  protected initial() {
    return { v: 0 };
  }

  protected samples(pairs: Pairs, value: { v: number }): string[] {
    return [formatSample(this.name, pairs, value.v)];
  }
}

export interface HistogramOptions {
  /** Upper bounds, strictly increasing; `+Inf` is always added. */
  buckets: readonly number[];
  labelNames?: readonly string[];
}

interface HistogramData {
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramData> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(name: string, help: string, options: HistogramOptions) {
    super(name, help, options.labelNames ?? [], ['le']);
    const buckets = options.buckets.filter((b) => b !== Number.POSITIVE_INFINITY);
    if (buckets.length === 0) throw new Error(`${name}: a histogram needs at least one finite bucket`);
    buckets.forEach((b, i) => {
      if (!Number.isFinite(b)) throw new Error(`${name}: bucket bounds must be finite numbers, got ${b}`);
      if (i > 0 && b <= buckets[i - 1]!) throw new Error(`${name}: bucket bounds must increase strictly, got ${buckets[i - 1]} then ${b}`);
    });
    this.buckets = Object.freeze(buckets);
    this.touchUnlabelled();
  }

  observe(value: number): void;
  observe(labels: LabelValues, value: number): void;
  observe(labelsOrValue: LabelValues | number, value?: number): void {
    const [labels, n] = split(labelsOrValue, value, Number.NaN);
    checkNumber(this.name, n);
    const data = this.child(labels);
    let i = 0;
    while (i < this.buckets.length && n > this.buckets[i]!) i++;
    data.counts[i]!++;
    data.sum += n;
    data.count++;
  }

  protected initial(): HistogramData {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  protected samples(pairs: Pairs, data: HistogramData): string[] {
    const lines: string[] = [];
    let cumulative = 0;
    const bounds = [...this.buckets, Number.POSITIVE_INFINITY];
    bounds.forEach((bound, i) => {
      cumulative += data.counts[i]!;
      const le = bound === Number.POSITIVE_INFINITY ? '+Inf' : String(bound);
      lines.push(formatSample(`${this.name}_bucket`, [...pairs, ['le', le]], cumulative));
    });
    lines.push(formatSample(`${this.name}_sum`, pairs, data.sum));
    lines.push(formatSample(`${this.name}_count`, pairs, data.count));
    return lines;
  }
}

export type AnyMetric = Counter | Gauge | Histogram;
