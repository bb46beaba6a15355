import { describe, expect, it } from 'vitest';
import { BRANCH_INPUT, Branch, Mode } from '../../../shared/protocol/index.ts';
import { BRANCHES, METHODS } from './registry.ts';

// The registry is the one place a method is added: what the protocol accepts and what the
// engine can run must be the same sets, so no mode reaches a router or shard host unhandled.
describe('method registry', () => {
  it('has a plug-in for every mode the protocol accepts, under its own name', () => {
    expect(Object.keys(METHODS).sort()).toEqual([...Mode.options].sort());
    for (const [name, method] of Object.entries(METHODS)) expect(method.name).toBe(name);
  });

  it('has a per-shard search for every branch the protocol accepts, and the input it needs is declared', () => {
    expect(Object.keys(BRANCHES).sort()).toEqual([...Branch.options].sort());
    for (const [name, branch] of Object.entries(BRANCHES)) {
      expect(branch.name).toBe(name);
      expect(BRANCH_INPUT[branch.name]).toBeDefined();
    }
  });

  it('plans only branches a method declares, each at least as deep as k', () => {
    for (const method of Object.values(METHODS)) {
      for (const params of [undefined, { depth: 7 }, { depth: 500 }]) {
        const plan = method.plan({ id: 'q', text: 'x', k: 20, params });
        expect(plan.length).toBeGreaterThan(0);
        for (const p of plan) {
          expect(method.branches).toContain(p.branch);
          expect(p.k).toBeGreaterThanOrEqual(20);
        }
      }
    }
  });
});
