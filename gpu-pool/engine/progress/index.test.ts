import { describe, expect, it } from 'vitest';
import { createProgress, describeProgress, formatDuration } from './index.ts';

describe('progress', () => {
  it('formats durations', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(7260)).toBe('2h01m');
  });

  it('reports rate and ETA from the items done since start', () => {
    expect(describeProgress(50, 100, 10, 'docs')).toBe('50/100 docs (50.0%) | 5.0 docs/s | elapsed 10s | ETA 10s');
    // Resumed at 40: the rate counts only the 10 done in this run.
    expect(describeProgress(50, 100, 10, 'docs', 40)).toContain('1.0 docs/s');
  });

  it('writes plain lines, not carriage returns, when not on a terminal', () => {
    let out = '';
    let t = 0;
    const p = createProgress({ label: 'encode', total: 10, unit: 'docs', stream: { write: (s: string) => (out += s), isTTY: false }, interval: 1, now: () => t });
    for (let i = 0; i < 10; i++) {
      t += 0.5;
      p.tick();
    }
    p.finish();
    expect(out).not.toContain('\r');
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.at(-1)).toContain('10/10 docs (100.0%)');
  });

  it('redraws one line with a bar on a terminal', () => {
    let out = '';
    const p = createProgress({ label: 'encode', total: 4, stream: { write: (s: string) => (out += s), isTTY: true }, now: () => 1 });
    p.tick(4);
    p.finish();
    expect(out).toContain('\r');
    expect(out).toContain('[########################]');
  });
});
