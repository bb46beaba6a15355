import { describe, expect, it } from 'vitest';
import { ReplicaVersions } from './replica-versions.ts';

// Two shards, two replicas each, as a rollout moves them from OLD to NEW in waves.
const nodes = [
  ['a', 'b'],
  ['c', 'd'],
];

describe('ReplicaVersions', () => {
  it('stays on the version it started on while every shard has a replica on it', () => {
    const v = new ReplicaVersions(nodes, 'OLD');
    expect(v.target()).toBe('OLD');
    v.record(0, 'a', 'NEW', 1);
    v.record(1, 'c', 'NEW', 2);
    // First wave done: both versions are whole; answers stay on OLD.
    expect(v.target()).toBe('OLD');
    expect(v.nodesOn(0, 'OLD')).toEqual(new Set(['b']));
    expect(v.nodesOn(0, 'NEW')).toEqual(new Set(['a']));
  });

  it('moves to the newest version every shard has once a shard has no replica left on the pinned one, and stays', () => {
    const v = new ReplicaVersions(nodes, 'OLD');
    v.record(0, 'a', 'NEW', 1);
    v.record(1, 'c', 'NEW', 2);
    v.record(0, 'b', 'NEW', 3);
    expect(v.target()).toBe('NEW');
    // OLD whole again (a rollback put b back): answers stay on NEW until NEW is not whole.
    v.record(0, 'b', 'OLD', 4);
    expect(v.target()).toBe('NEW');
    v.record(0, 'a', 'OLD', 5);
    expect(v.target()).toBe('OLD');
  });

  it('has no target when no version has a replica of every shard (a single replica swapped)', () => {
    const v = new ReplicaVersions([['a'], ['b']], 'OLD');
    v.record(0, 'a', 'NEW', 1);
    expect(v.target()).toBeUndefined();
    v.record(1, 'b', 'NEW', 2);
    expect(v.target()).toBe('NEW');
  });

  it('ignores an answer to a request older than the one it knows from', () => {
    const v = new ReplicaVersions(nodes, 'OLD');
    v.record(0, 'a', 'NEW', 10);
    v.record(0, 'a', 'OLD', 5); // a search sent before the swap, answered after the lease that saw NEW
    expect(v.nodesOn(0, 'NEW')).toEqual(new Set(['a']));
    v.record(0, 'a', 'OLD', 11);
    expect(v.nodesOn(0, 'NEW')).toEqual(new Set());
  });

  it('ignores shards it does not know', () => {
    const v = new ReplicaVersions(nodes, 'OLD');
    v.record(7, 'a', 'NEW', 1);
    expect(v.target()).toBe('OLD');
  });
});
