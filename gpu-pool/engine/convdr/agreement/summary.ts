// Per-turn figures (a cosine, an nDCG) of several systems summarised the way ConvDR's evaluation is
// reported: the mean over turns, by turn depth (1, 2, 3+, and each depth) and by fold.
import { depthGroup } from '../cast/index.ts';

export interface TurnFigure {
  /** `<topic>_<turn>`. */
  id: string;
  depth: number;
  /** Fold the turn was held out in (0-based), when cross-validated. */
  fold?: number;
  /** System → figure for this turn. */
  values: Record<string, number>;
}

export type SystemMeans = Record<string, number>;

export interface FoldMeans extends SystemMeans {
  fold: number;
  turns: number;
}

export interface AgreementSummary {
  /** System → mean over all turns (the headline figures). */
  means: SystemMeans;
  turns: number;
  /** "1", "2", "3+" → system → mean, and the turns counted. */
  byDepth: Record<string, SystemMeans & { turns: number }>;
  /** Each depth ("1", "2", ... ) → system → mean. */
  perDepth: Record<string, SystemMeans & { turns: number }>;
  /** Each fold's means (cross-validation only). */
  perFold?: FoldMeans[];
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

function meansOf(rows: readonly TurnFigure[], systems: readonly string[]): SystemMeans {
  const out: SystemMeans = {};
  for (const s of systems) out[s] = rows.length ? round(rows.reduce((a, r) => a + r.values[s], 0) / rows.length) : NaN;
  return out;
}

/** Means over `rows` for `systems` (rounded to 4 decimals). */
export function summarize(rows: readonly TurnFigure[], systems: readonly string[]): AgreementSummary {
  const group = <K extends string>(key: (r: TurnFigure) => K) => {
    const m = new Map<K, TurnFigure[]>();
    for (const r of rows) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
    return m;
  };
  const byDepth: AgreementSummary['byDepth'] = {};
  for (const g of ['1', '2', '3+'] as const) {
    const rs = rows.filter((r) => depthGroup(r.depth) === g);
    if (rs.length) byDepth[g] = { ...meansOf(rs, systems), turns: rs.length };
  }
  const perDepth: AgreementSummary['perDepth'] = {};
  for (const [d, rs] of [...group((r) => String(r.depth))].sort((a, b) => Number(a[0]) - Number(b[0]))) perDepth[d] = { ...meansOf(rs, systems), turns: rs.length };
  const summary: AgreementSummary = { means: meansOf(rows, systems), turns: rows.length, byDepth, perDepth };
  if (rows.some((r) => r.fold !== undefined)) {
    summary.perFold = [...group((r) => String(r.fold ?? -1))]
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([f, rs]) => ({ fold: Number(f) + 1, turns: rs.length, ...meansOf(rs, systems) }));
  }
  return summary;
}

/** The JSON shape of the acceptance line: the systems' means first, the breakdowns beside them. */
export function agreementJson(s: AgreementSummary): Record<string, unknown> {
  return { ...s.means, turns: s.turns, byDepth: s.byDepth, perDepth: s.perDepth, ...(s.perFold ? { perFold: s.perFold } : {}) };
}

/** A table of the means (systems as columns; overall, depth groups and folds as rows). */
export function formatSummary(title: string, s: AgreementSummary, systems: readonly string[]): string {
  const head = `${title.padEnd(14)}${systems.map((x) => x.padStart(10)).join('')}   turns`;
  const row = (name: string, m: SystemMeans, turns: number) => `${name.padEnd(14)}${systems.map((x) => (Number.isFinite(m[x]) ? m[x].toFixed(4) : '-').padStart(10)).join('')}   ${turns}`;
  const lines = [head, row('all', s.means, s.turns)];
  for (const [g, m] of Object.entries(s.byDepth)) lines.push(row(`turn ${g}`, m, m.turns));
  for (const f of s.perFold ?? []) lines.push(row(`fold ${f.fold}`, f, f.turns));
  return lines.join('\n');
}
