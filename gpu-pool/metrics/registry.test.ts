import { describe, expect, it } from 'vitest';
import { BATCH_SIZE_BUCKETS, CONTENT_TYPE, DEFAULT_LATENCY_BUCKETS_MS, Registry } from './index.ts';

describe('Registry', () => {
  it('renders a small registry exactly', () => {
    const r = new Registry();
    const requests = r.counter('edgesearch_requests_total', 'Search requests.', ['method', 'status']);
    const depth = r.gauge('edgesearch_queue_depth', 'Items waiting for a batch.');
    const latency = r.histogram('edgesearch_latency_ms', 'Request latency in ms.', { buckets: [1, 10] });

    requests.inc({ method: 'dense', status: 'ok' });
    requests.inc({ method: 'dense', status: 'ok' }, 2);
    requests.inc({ method: 'bm25', status: 'overloaded' });
    depth.set(7);
    latency.observe(0.5);
    latency.observe(4);
    latency.observe(30);

    expect(r.render()).toBe(
      [
        '# HELP edgesearch_requests_total Search requests.',
        '# TYPE edgesearch_requests_total counter',
        'edgesearch_requests_total{method="dense",status="ok"} 3',
        'edgesearch_requests_total{method="bm25",status="overloaded"} 1',
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
        '',
      ].join('\n'),
    );
    expect(CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('renders unlabelled metrics as zero before any update, labelled ones only once used', () => {
    const r = new Registry();
    r.counter('a_total', 'A.');
    r.counter('b_total', 'B.', ['shard']);
    r.histogram('c', 'C.', { buckets: [1] });
    expect(r.render()).toBe(
      [
        '# HELP a_total A.',
        '# TYPE a_total counter',
        'a_total 0',
        '# HELP b_total B.',
        '# TYPE b_total counter',
        '# HELP c C.',
        '# TYPE c histogram',
        'c_bucket{le="1"} 0',
        'c_bucket{le="+Inf"} 0',
        'c_sum 0',
        'c_count 0',
        '',
      ].join('\n'),
    );
  });

  it('renders cumulative buckets per label set, le last', () => {
    const r = new Registry();
    const h = r.histogram('batch_size', 'Items per batch.', { buckets: BATCH_SIZE_BUCKETS, labelNames: ['encoder'] });
    for (const size of [1, 3, 3, 8, 200, 300]) h.observe({ encoder: 'q' }, size);
    h.observe({ encoder: 'd' }, 2);
    const lines = r.render().split('\n');
    const q = lines.filter((l) => l.startsWith('batch_size_bucket{encoder="q"'));
    expect(q).toEqual([
      'batch_size_bucket{encoder="q",le="1"} 1',
      'batch_size_bucket{encoder="q",le="2"} 1',
      'batch_size_bucket{encoder="q",le="4"} 3',
      'batch_size_bucket{encoder="q",le="8"} 4', // a value equal to a bound counts in it
      'batch_size_bucket{encoder="q",le="16"} 4',
      'batch_size_bucket{encoder="q",le="32"} 4',
      'batch_size_bucket{encoder="q",le="64"} 4',
      'batch_size_bucket{encoder="q",le="128"} 4',
      'batch_size_bucket{encoder="q",le="256"} 5',
      'batch_size_bucket{encoder="q",le="+Inf"} 6',
    ]);
    expect(lines).toContain('batch_size_sum{encoder="q"} 515');
    expect(lines).toContain('batch_size_count{encoder="q"} 6');
    expect(lines).toContain('batch_size_bucket{encoder="d",le="2"} 1');
    expect(lines).toContain('batch_size_bucket{encoder="d",le="1"} 0');
  });

  it('escapes label values and help text', () => {
    const r = new Registry();
    const c = r.counter('errors_total', 'Errors by message.\nBackslash: \\ "quotes" stay.', ['msg']);
    c.inc({ msg: 'a "quoted" \\path\\\nnext line' });
    expect(r.render().split('\n').slice(0, 3)).toEqual([
      '# HELP errors_total Errors by message.\\nBackslash: \\\\ "quotes" stay.',
      '# TYPE errors_total counter',
      'errors_total{msg="a \\"quoted\\" \\\\path\\\\\\nnext line"} 1',
    ]);
  });

  it('reads live values from a gauge collect callback at render time', () => {
    const r = new Registry();
    let depth = 3;
    r.gauge('queue_depth', 'Waiting items.', { collect: () => depth });
    const perShard = r.gauge('shard_up', 'Shard replicas up.', {
      labelNames: ['shard'],
      collect: (g) => {
        g.set({ shard: '0' }, depth > 3 ? 2 : 1);
      },
    });
    expect(r.render()).toContain('queue_depth 3\n');
    depth = 11;
    const text = r.render();
    expect(text).toContain('queue_depth 11\n');
    expect(text).toContain('shard_up{shard="0"} 2\n');
    expect(perShard.get({ shard: '0' })).toBe(2);
  });

  it('supports gauge set/inc/dec and special values', () => {
    const r = new Registry();
    const g = r.gauge('inflight', 'In flight.', ['pool']);
    g.inc({ pool: 'a' });
    g.inc({ pool: 'a' }, 4);
    g.dec({ pool: 'a' }, 2);
    g.set({ pool: 'b' }, Number.POSITIVE_INFINITY);
    g.set({ pool: 'c' }, -0.25);
    expect(r.render()).toContain('inflight{pool="a"} 3\ninflight{pool="b"} +Inf\ninflight{pool="c"} -0.25\n');
  });

  it('validates metric and label names', () => {
    const r = new Registry();
    expect(() => r.counter('1bad', 'x')).toThrow(/invalid metric name/);
    expect(() => r.counter('has-dash', 'x')).toThrow(/invalid metric name/);
    expect(() => r.counter('', 'x')).toThrow(/invalid metric name/);
    expect(() => r.counter('ok_total', 'x', ['bad-label'])).toThrow(/invalid label name/);
    expect(() => r.counter('ok_total', 'x', ['__reserved'])).toThrow(/reserved/);
    expect(() => r.counter('ok_total', 'x', ['a', 'a'])).toThrow(/duplicate/);
    expect(() => r.counter('ok_total', 'x', ['has:colon'])).toThrow(/invalid label name/);
    expect(() => r.histogram('h', 'x', { buckets: [1], labelNames: ['le'] })).toThrow(/reserved/);
    // Colons are legal in metric names (recording rules use them).
    expect(() => r.gauge('job:ok_total:rate5m', 'x')).not.toThrow();
    // Refused registrations did not claim the name.
    expect(() => r.counter('ok_total', 'x', ['good_label'])).not.toThrow();
  });

  it('refuses registering a name twice, including histogram sample names', () => {
    const r = new Registry();
    r.counter('dup', 'x');
    expect(() => r.gauge('dup', 'y')).toThrow(/already registered/);
    r.histogram('lat', 'x', { buckets: [1] });
    expect(() => r.counter('lat_count', 'y')).toThrow(/already registered/);
    r.counter('size_sum', 'x');
    expect(() => r.histogram('size', 'y', { buckets: [1] })).toThrow(/already registered/);
  });

  it('refuses wrong label sets, decreasing counters and bad buckets', () => {
    const r = new Registry();
    const c = r.counter('c_total', 'x', ['method']);
    expect(() => c.inc()).toThrow(/expected labels \[method\]/);
    expect(() => c.inc({ method: 'dense', extra: 1 })).toThrow(/expected labels/);
    expect(() => c.inc({ method: 'dense' }, -1)).toThrow(/only go up/);
    expect(() => r.histogram('h1', 'x', { buckets: [5, 1] })).toThrow(/increase strictly/);
    expect(() => r.histogram('h2', 'x', { buckets: [] })).toThrow(/at least one/);
    expect(() => r.histogram('h3', 'x', { buckets: [1, Number.NaN] })).toThrow(/finite/);
    // A trailing +Inf from the caller is not doubled.
    r.histogram('h4', 'x', { buckets: [1, Number.POSITIVE_INFINITY] });
    expect(r.render().match(/h4_bucket\{le="\+Inf"\}/g)).toHaveLength(1);
  });

  it('binds a label set with labels() for hot paths', () => {
    const r = new Registry();
    const c = r.counter('hits_total', 'x', ['cache']);
    const hit = c.labels({ cache: 'hit' });
    hit.inc();
    hit.inc(2);
    expect(c.get({ cache: 'hit' })).toBe(3);
    expect(r.render()).toContain('hits_total{cache="hit"} 3\n');
  });

  it('exports the standard bucket layouts', () => {
    expect(DEFAULT_LATENCY_BUCKETS_MS).toEqual([0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);
    expect(BATCH_SIZE_BUCKETS).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
    expect(new Registry().render()).toBe('');
  });
});
