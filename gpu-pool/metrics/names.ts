// Prometheus's naming rules (https://prometheus.io/docs/concepts/data_model/). A bad name would
// make the whole scrape unparsable, so it is refused at registration instead.
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function checkMetricName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}: must match ${METRIC_NAME.source}`);
}

/** `reserved` names a label the metric type itself emits (histograms' `le`). */
export function checkLabelNames(metric: string, labelNames: readonly string[], reserved: readonly string[] = []): void {
  const seen = new Set<string>();
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label)) throw new Error(`${metric}: invalid label name ${JSON.stringify(label)}: must match ${LABEL_NAME.source}`);
    if (label.startsWith('__')) throw new Error(`${metric}: label name ${JSON.stringify(label)} is reserved (starts with "__")`);
    if (reserved.includes(label)) throw new Error(`${metric}: label name ${JSON.stringify(label)} is reserved for this metric type`);
    if (seen.has(label)) throw new Error(`${metric}: duplicate label name ${JSON.stringify(label)}`);
    seen.add(label);
  }
}
