import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logging/index.ts';
import { parseExposition, sampleValue } from '../metrics/exposition.test-support.ts';
import { EvidenceVersionError, RemoteError } from '../router/index.ts';
import { createPoolMetrics } from './pool-metrics.ts';
import { shardErrorReporter } from './shard-errors.ts';

function setup() {
  const lines: Record<string, unknown>[] = [];
  const metrics = createPoolMetrics(() => 0);
  const log = createLogger({ name: 'pool', env: {}, write: (l) => lines.push(JSON.parse(l)) });
  return { reports: shardErrorReporter(metrics, log), metrics, lines, scrape: async () => parseExposition(await metrics.registry.metrics()) };
}

describe('shardErrorReporter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts evidence version mismatches by shard and logs them once per window', async () => {
    const { reports, lines, scrape } = setup();
    for (let i = 0; i < 4; i++) reports.shardError(2, new EvidenceVersionError(2, 'v1', 'v2', true), 'evidence');
    reports.shardError(2, new EvidenceVersionError(2, 'v2', 'v3', false), 'evidence');
    reports.shardError(0, new EvidenceVersionError(0, 'a', 'b', true), 'evidence');
    const e = await scrape();
    expect(sampleValue(e, 'edgesearch_evidence_version_mismatches_total', { shard: '2' })).toBe(5);
    expect(sampleValue(e, 'edgesearch_evidence_version_mismatches_total', { shard: '0' })).toBe(1);
    expect(lines.map((l) => [l.msg, l.shard, l.searched, l.answered])).toEqual([
      ['evidence from another shard version: searching the batch again', 2, 'v1', 'v2'],
      ['evidence from another shard version twice: shard left out', 2, 'v2', 'v3'],
      ['evidence from another shard version: searching the batch again', 0, 'a', 'b'],
    ]);
    vi.advanceTimersByTime(10_000);
    expect(lines.slice(3).map((l) => [l.msg, l.shard, l.repeated])).toEqual([['evidence from another shard version: searching the batch again', 2, 3]]);
  });

  it('keeps failures of different kinds, shards and peers on lines of their own', async () => {
    const { reports, lines, scrape } = setup();
    const refused = new RemoteError('b', 'unreachable', 'connect ECONNREFUSED');
    const late = new RemoteError('b', 'deadline', 'no answer in time');
    for (let i = 0; i < 3; i++) reports.replicaFailed(1, 'b', refused);
    reports.replicaFailed(1, 'b', late);
    reports.replicaFailed(1, 'c', refused);
    reports.shardError(1, refused, 'search');
    reports.shardError(1, refused, 'evidence');
    reports.shardError(1, refused, 'search');
    const e = await scrape();
    expect(sampleValue(e, 'edgesearch_shard_errors_total', { shard: '1', node: 'b' })).toBe(4);
    expect(sampleValue(e, 'edgesearch_shard_errors_total', { shard: '1', node: 'c' })).toBe(1);
    expect(lines.map((l) => [l.msg, l.peer ?? l.stage, (l.err as { code: string }).code])).toEqual([
      ['shard call failed', 'b', 'unreachable'],
      ['shard call failed', 'b', 'deadline'],
      ['shard call failed', 'c', 'unreachable'],
      ['shard missing from answers', 'search', 'unreachable'],
      ['shard missing from answers', 'evidence', 'unreachable'],
    ]);
    reports.flush();
    expect(lines.slice(5).map((l) => [l.msg, l.peer ?? l.stage, l.repeated])).toEqual([
      ['shard call failed', 'b', 2],
      ['shard missing from answers', 'search', 1],
    ]);
  });

  it('counts each result that misses a shard, by shard', async () => {
    const { reports, scrape } = setup();
    reports.answered({
      v: 1,
      type: 'result',
      batchId: 'x',
      indexVersion: 'v',
      timings: { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, evidenceMs: 0, totalMs: 0 },
      results: [
        { id: 'a', hits: [], partial: { missingShards: [1, 3] } },
        { id: 'b', hits: [], partial: { missingShards: [3] } },
        { id: 'c', hits: [] },
      ],
    });
    const e = await scrape();
    expect(sampleValue(e, 'edgesearch_missing_shard_results_total', { shard: '1' })).toBe(1);
    expect(sampleValue(e, 'edgesearch_missing_shard_results_total', { shard: '3' })).toBe(2);
  });
});
