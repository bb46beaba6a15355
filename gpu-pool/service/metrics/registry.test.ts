import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from './exposition.test-support.ts';
import { BATCH_SIZE_BUCKETS, CONTENT_TYPE, Counter, DEFAULT_LATENCY_BUCKETS_MS, Gauge, Histogram, createRegistry } from './index.ts';

/** The lines of one family, without the blank lines prom-client puts between families. */
function familyLines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `) || new RegExp(`^${name}(_bucket|_sum|_count)?[{ ]`).test(l));
}

describe('createRegistry', () => {
  it('renders counters, gauges and histograms in the format the hand-written registry wrote', async () => {
    const r = createRegistry({ processMetrics: false });
    const requests = new Counter({ name: 'edgesearch_requests_total', help: 'Search requests.', labelNames: ['method', 'status'], registers: [r] });
    new Gauge({ name: 'edgesearch_queue_depth', help: 'Items waiting for a batch.', registers: [r], collect() { this.set(7); } });
    const latency = new Histogram({ name: 'edgesearch_latency_ms', help: 'Request latency in ms.', buckets: [1, 10], registers: [r] });
    requests.inc({ method: 'dense', status: 'ok' });
    requests.inc({ method: 'dense', status: 'ok' }, 2);
    requests.inc({ method: 'bm25', status: 429 });
    for (const v of [0.5, 4, 30]) latency.observe(v);

    const text = await r.metrics();
    expect(text.split('\n').filter((l) => l !== '')).toEqual([
      '# HELP edgesearch_requests_total Search requests.',
      '# TYPE edgesearch_requests_total counter',
      'edgesearch_requests_total{method="dense",status="ok"} 3',
      'edgesearch_requests_total{method="bm25",status="429"} 1',
      '# HELP edgesearch_queue_depth Items waiting for a batch.',
      '# TYPE edgesearch_queue_depth gauge',
      'edgesearch_queue_depth 7',
      '# HELP edgesearch_latency_ms Request latency in ms.',
      '# TYPE edgesearch_latency_ms histogram',
      'edgesearch_latency_ms_bucket{le="1"} 1',
      'edgesearch_latency_ms_bucket{le="10"} 2',
      'edgesearch_latency_ms_bucket{le="+Inf"} 3',
      'edgesearch_latency_ms_sum 34.5',
      'edgesearch_latency_ms_count 3',
    ]);
    expect(parseExposition(text).samples).toHaveLength(8);
    expect(CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('renders unlabelled metrics as zero before any update, labelled ones only once used', async () => {
    const r = createRegistry({ processMetrics: false });
    new Counter({ name: 'a_total', help: 'A.', registers: [r] });
    new Counter({ name: 'b_total', help: 'B.', labelNames: ['shard'], registers: [r] });
    new Histogram({ name: 'c', help: 'C.', buckets: [1], registers: [r] });
    const e = parseExposition(await r.metrics());
    expect(e.samples.map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)).toEqual(['a_total{} 0', 'c_bucket{"le":"1"} 0', 'c_bucket{"le":"+Inf"} 0', 'c_sum{} 0', 'c_count{} 0']);
    expect(e.types.get('b_total')).toBe('counter');
  });

  it('renders cumulative buckets per label set, a value equal to a bound counted in it', async () => {
    const r = createRegistry({ processMetrics: false });
    const h = new Histogram({ name: 'batch_size', help: 'Items per batch.', buckets: [...BATCH_SIZE_BUCKETS], labelNames: ['encoder'], registers: [r] });
    for (const size of [1, 3, 3, 8, 200, 300]) h.observe({ encoder: 'q' }, size);
    h.observe({ encoder: 'd' }, 2);
    const e = parseExposition(await r.metrics());
    const q = e.samples.filter((s) => s.name === 'batch_size_bucket' && s.labels.encoder === 'q').map((s) => [s.labels.le, s.value]);
    expect(q).toEqual([['1', 1], ['2', 1], ['4', 3], ['8', 4], ['16', 4], ['32', 4], ['64', 4], ['128', 4], ['256', 5], ['+Inf', 6]]);
    expect(sampleValue(e, 'batch_size_sum', { encoder: 'q' })).toBe(515);
    expect(sampleValue(e, 'batch_size_count', { encoder: 'q' })).toBe(6);
    expect(sampleValue(e, 'batch_size_bucket', { encoder: 'd', le: '1' })).toBe(0);
    expect(sampleValue(e, 'batch_size_bucket', { encoder: 'd', le: '2' })).toBe(1);
  });

  it('escapes label values and help text so the scrape stays parseable', async () => {
    const r = createRegistry({ processMetrics: false });
    const c = new Counter({ name: 'errors_total', help: 'Errors by message.\nBackslash: \\ "quotes" stay.', labelNames: ['msg'], registers: [r] });
    const nasty = 'a "quoted" \\path\\\nnext line';
    c.inc({ msg: nasty });
    const text = await r.metrics();
    expect(familyLines(text, 'errors_total')).toEqual([
      '# HELP errors_total Errors by message.\\nBackslash: \\\\ "quotes" stay.',
      '# TYPE errors_total counter',
      'errors_total{msg="a \\"quoted\\" \\\\path\\\\\\nnext line"} 1',
    ]);
    expect(parseExposition(text).samples[0].labels.msg).toBe(nasty);
  });

  it('refuses bad names, wrong label sets and decreasing counters', () => {
    const r = createRegistry({ processMetrics: false });
    expect(() => new Counter({ name: 'has-dash', help: 'x', registers: [r] })).toThrow(/Invalid metric name/);
    expect(() => new Counter({ name: 'ok_total', help: 'x', labelNames: ['bad-label'], registers: [r] })).toThrow(/Invalid label name/);
    expect(() => new Histogram({ name: 'h', help: 'x', labelNames: ['le'], registers: [r] })).toThrow(/le/);
    const c = new Counter({ name: 'c_total', help: 'x', labelNames: ['method'], registers: [r] });
    expect(() => c.inc({ method: 'dense', extra: 1 } as never)).toThrow(/extra/);
    expect(() => c.inc({ method: 'dense' }, -1)).toThrow(/not possible to decrease/);
    expect(() => new Gauge({ name: 'c_total', help: 'again', registers: [r] })).toThrow(/already been registered/);
  });

  it('serves the process metrics, numeric, beside the node’s own', async () => {
    const r = createRegistry();
    new Counter({ name: 'edgesearch_requests_total', help: 'x', registers: [r] });
    // prom-client counts CPU time from when its collectors started (possibly just now in this
    // process): spend some, so the counter must have moved by the scrape.
    const cpu0 = process.cpuUsage();
    while (process.cpuUsage(cpu0).user < 20_000) Math.sqrt(Math.random());
    const e = parseExposition(await r.metrics());
    for (const [name, type] of [
      ['process_resident_memory_bytes', 'gauge'],
      ['process_cpu_user_seconds_total', 'counter'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
      ['nodejs_gc_duration_seconds', 'histogram'],
      ['edgesearch_requests_total', 'counter'],
    ]) expect(e.types.get(name), name).toBe(type);
    expect(sampleValue(e, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(sampleValue(e, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(Number.isFinite(sampleValue(e, 'nodejs_eventloop_lag_seconds'))).toBe(true);
  });

  it('keeps registries apart: two nodes in one process register the same names, each with its own values', async () => {
    const [a, b] = [createRegistry(), createRegistry()];
    const ca = new Counter({ name: 'edgesearch_shed_queries_total', help: 'x', registers: [a] });
    new Counter({ name: 'edgesearch_shed_queries_total', help: 'x', registers: [b] });
    ca.inc(3);
    const [ea, eb] = [parseExposition(await a.metrics()), parseExposition(await b.metrics())];
    expect(sampleValue(ea, 'edgesearch_shed_queries_total')).toBe(3);
    expect(sampleValue(eb, 'edgesearch_shed_queries_total')).toBe(0);
    // The process is one: both show the same process families.
    expect([...ea.types.keys()].filter((n) => n !== 'edgesearch_shed_queries_total')).toEqual([...eb.types.keys()].filter((n) => n !== 'edgesearch_shed_queries_total'));
  });

  it('exports the standard bucket layouts', () => {
    expect(DEFAULT_LATENCY_BUCKETS_MS).toEqual([0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);
    expect(BATCH_SIZE_BUCKETS).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
  });
});

describe('parseExposition (the test reader)', () => {
  it('refuses what Prometheus would refuse', () => {
    const family = '# TYPE x counter\n';
    expect(() => parseExposition(`${family}x 1`)).toThrow(/newline/);
    expect(() => parseExposition('y 1\n')).toThrow(/no declared family/);
    expect(() => parseExposition(`${family}x one\n`)).toThrow(/bad value/);
    expect(() => parseExposition(`${family}x{a="1" 1\n`)).toThrow(/line 2/);
    expect(() => parseExposition(`${family}x{a=1} 1\n`)).toThrow(/not quoted/);
    expect(() => parseExposition(`${family}x{a="\\t"} 1\n`)).toThrow(/bad escape/);
    expect(() => parseExposition(`${family}x{a="1",a="2"} 1\n`)).toThrow(/twice/);
    expect(() => parseExposition('# TYPE x countr\n')).toThrow(/unknown type/);
    expect(() => parseExposition(`${family}${family}`)).toThrow(/second TYPE/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket 1\n')).toThrow(/without le/);
    expect(parseExposition(`# plain comment\n${family}\nx{a="q\\"",} +Inf 1700000000000\nx{a="r"} Nan\n`).samples.map((s) => [s.labels.a, s.value])).toEqual([
      ['q"', Infinity],
      ['r', Number.NaN],
    ]);
  });
});
