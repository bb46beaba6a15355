import { checkMetricName } from './names.ts';
import { Counter, Gauge, Histogram, type AnyMetric, type GaugeOptions, type HistogramOptions } from './metrics.ts';

/** Metrics of one process, rendered together for a `/metrics` scrape. */
export class Registry {
  private readonly metrics: AnyMetric[] = [];
  /** Every sample name in use: a histogram `x` also owns `x_bucket`, `x_sum` and `x_count`. */
  private readonly sampleNames = new Set<string>();

  counter(name: string, help: string, labelNames?: readonly string[]): Counter {
    return this.add(name, [name], () => new Counter(name, help, labelNames));
  }

  /** The third argument is the label names, or options with label names and a `collect` callback. */
  gauge(name: string, help: string, labelNamesOrOptions?: readonly string[] | GaugeOptions): Gauge {
    const options: GaugeOptions = Array.isArray(labelNamesOrOptions)
      ? { labelNames: labelNamesOrOptions }
      : ((labelNamesOrOptions as GaugeOptions | undefined) ?? {});
    return this.add(name, [name], () => new Gauge(name, help, options));
  }

  histogram(name: string, help: string, options: HistogramOptions): Histogram {
    const owned = [name, `${name}_bucket`, `${name}_sum`, `${name}_count`];
    return this.add(name, owned, () => new Histogram(name, help, options));
  }

  /** Text exposition format 0.0.4; serve with CONTENT_TYPE. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.metrics) {
      metric.collect();
      lines.push(...metric.render());
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  private add<M extends AnyMetric>(name: string, owned: string[], create: () => M): M {
    checkMetricName(name);
    const clash = owned.find((n) => this.sampleNames.has(n));
    if (clash !== undefined) throw new Error(`metric ${JSON.stringify(name)}: name ${JSON.stringify(clash)} is already registered`);
    const metric = create();
    this.metrics.push(metric);
    for (const n of owned) this.sampleNames.add(n);
    return metric;
  }
}
