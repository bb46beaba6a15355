// `edgesearch eval --conversations TOPICS`: conversational search evaluated turn by turn on CAsT
// topics. Each system (a query-formation policy of --mode, or the ConvDR student) ranks every turn
// with the turns before it as context; with --qrels: nDCG@3 (CAsT's main measure), MRR, recall@100
// (only when the judged documents are in the index); with --rewrites: teacher agreement (cosine of
// the system's query vector with the index encoder's vector of the manual rewrite) and rewrite
// agreement (nDCG@10 against the rewrite's top 10 on the same index).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formQueryText, parsePolicy, type Policy } from '../engine/conversation/index.ts';
import { agreementJson, formatSummary, rankingAgreement, readConversations, REWRITE_AGREEMENT_DEPTH, summarize, turnsOf, type AgreementSummary, type CastTurn, type TurnFigure } from '../engine/convdr/index.ts';
import { loadManifest } from '../engine/encoders/index.ts';
import { evaluate, readQrels, writeTrecRun, type Run } from '../engine/eval/index.ts';
import { sentenceBudget, type MethodName, type MethodQuery } from '../engine/methods/index.ts';
import { createProgress } from '../engine/progress/index.ts';
import { checksumFile } from '../engine/shard/index.ts';
import { Searcher } from '../engine/search/index.ts';
import { queryParams } from './search-command.ts';

export const CONVERSATION_METRICS = ['ndcg@3', 'mrr@100', 'recall@100'] as const;
const DEFAULT_POLICIES: Policy[] = ['raw', 'concat', 'first'];
/** Modes whose query is one vector of the index's encoder (teacher agreement applies). */
const VECTOR_MODES = new Set<string>(['dense', 'conversational']);

interface System {
  name: string;
  mode: MethodName;
  policy?: Policy;
}

/** A conversational model: --conversational-model, or --model when it names one (a manifest with a conversational block). */
function conversationalModelOf(o: Record<string, any>): { conversational?: string; model?: string } {
  if (o.conversationalModel) return { conversational: o.conversationalModel, model: o.model };
  if (o.model) {
    try {
      if (loadManifest(o.model).manifest.conversational) return { conversational: o.model };
    } catch {
      // Not loadable here: let the Searcher report it when it loads the model.
    }
  }
  return { model: o.model };
}

function systemsOf(o: Record<string, any>, hasStudent: boolean): System[] {
  const mode = o.mode as MethodName;
  if (mode === 'conversational') {
    if (!hasStudent) throw new Error('--mode conversational needs the conversational model: --model DIR (or --conversational-model DIR), an `edgesearch convdr train` output');
    return [{ name: 'student', mode }];
  }
  const policies = o.policy ? [o.policy as Policy] : DEFAULT_POLICIES;
  for (const p of policies) parsePolicy(p);
  return [...policies.map((p) => ({ name: mode === 'dense' ? p : `${mode}-${p}`, mode, policy: p })), ...(hasStudent && mode === 'dense' ? [{ name: 'student', mode: 'conversational' as MethodName }] : [])];
}

const queryOf = (u: CastTurn, s: System, k: number, params: Record<string, unknown>): MethodQuery => ({
  id: u.id,
  text: u.raw,
  k,
  ...(u.context.length ? { context: u.context } : {}),
  ...(s.policy || Object.keys(params).length ? { params: { ...params, ...(s.policy ? { policy: s.policy } : {}) } } : {}),
});

export async function evalConversations(o: Record<string, any>): Promise<void> {
  if (o.queries || o.qa) throw new Error('--conversations replaces --queries and --qa: give one of them');
  const topics = await readConversations(o.conversations, o.rewrites);
  const turns = turnsOf(topics);
  const { conversational, model } = conversationalModelOf(o);
  const systems = systemsOf(o, conversational !== undefined);
  const params = { ...queryParams(o) } as Record<string, unknown>;
  delete params.policy;
  const qrels = o.qrels ? await readQrels(o.qrels) : undefined;
  const k = Math.max(o.k ?? 100, 100);
  const searcher = await Searcher.open(o.index, { model, conversationalModel: conversational, verify: o.verify, threads: o.threads });
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const out: Record<string, Record<string, unknown>> = {};
  const runs = new Map<string, Run>();
  const rewritten = turns.filter((u) => u.rewrite !== undefined);
  try {
    // Rankings of every system, turn by turn.
    const progress = createProgress({ label: 'eval', total: turns.length * systems.length, unit: 'turns' });
    for (const s of systems) {
      const run: Run = new Map();
      for (let i = 0; i < turns.length; i += o.batch) {
        const batch = turns.slice(i, i + o.batch);
        const hits = await searcher.searchHits(s.mode, batch.map((u) => queryOf(u, s, k, params)));
        batch.forEach((u, j) => run.set(u.id, hits[j].map((h) => ({ docId: h.docId, score: h.score }))));
        progress.tick(batch.length);
      }
      runs.set(s.name, run);
      out[s.name] = { mode: s.mode, ...(s.policy ? { policy: s.policy } : {}) };
    }
    progress.finish();
    if (o.run) {
      await mkdir(o.run, { recursive: true });
      for (const [name, run] of runs) await writeTrecRun(run, join(o.run, `${name.replace(/[^A-Za-z0-9_.+-]/g, '_')}.trec`), `edgesearch-${name}`);
    }

    // Judged retrieval (CAsT's measures), when the judged documents are in the index.
    let qrelsNote: string | undefined;
    if (qrels) {
      const judged = turns.filter((u) => qrels.has(u.id));
      const judgedDocs = new Set(judged.flatMap((u) => [...qrels.get(u.id)!.keys()]));
      const found = [...runs.values()].some((run) => [...run.values()].some((docs) => docs.some((d) => judgedDocs.has(d.docId))));
      if (judged.length === 0) qrelsNote = `no turn of ${o.conversations} is judged in ${o.qrels}`;
      else if (!found) qrelsNote = `none of the ${judgedDocs.size} documents judged in ${o.qrels} was retrieved for any turn: the qrels do not match this index's corpus, so nDCG@3 / MRR / recall are left out`;
      else
        for (const [name, run] of runs) {
          const ev = evaluate(run, qrels, [...CONVERSATION_METRICS]);
          out[name].metrics = ev.mean;
          out[name].judgedTurns = ev.queries;
        }
      if (qrelsNote) log(`note: ${qrelsNote}`);
    }

    // Teacher agreement: the system's query vector against the index encoder's vector of the rewrite.
    let teacher: AgreementSummary | undefined;
    let rewrite: { dense?: AgreementSummary; [mode: string]: AgreementSummary | undefined } | undefined;
    if (rewritten.length > 0) {
      const vectorSystems = systems.filter((s) => VECTOR_MODES.has(s.mode));
      const encoder = vectorSystems.length > 0 ? await searcher.queryEncoder() : undefined;
      if (encoder) {
        const d = encoder.dimension;
        const t = await encoder.encodeQueries(rewritten.map((u) => u.rewrite!));
        const values: Record<string, Float32Array> = {};
        for (const s of vectorSystems) {
          values[s.name] =
            s.mode === 'conversational'
              ? await (await searcher.conversationalEncoder()).encodeConversations(rewritten.map((u) => ({ text: u.raw, context: u.context })))
              : await encoder.encodeQueries(rewritten.map((u) => formQueryText(u.raw, u.context, s.policy, sentenceBudget(encoder))));
        }
        const rows: TurnFigure[] = rewritten.map((u, r) => ({
          id: u.id,
          depth: u.depth,
          values: Object.fromEntries(vectorSystems.map((s) => [s.name, cosine(values[s.name], r, t, r, d)])),
        }));
        teacher = summarize(rows, vectorSystems.map((s) => s.name));
        log(formatSummary('teacher agr.', teacher, vectorSystems.map((s) => s.name)));
        await warnIfTrainedOn(conversational, o.conversations, log);
      }
      // Rewrite agreement: each system's top 10 against the rewrite's on the same index (dense for vector modes).
      rewrite = {};
      const families = new Map<string, System[]>();
      for (const s of systems) {
        const family = VECTOR_MODES.has(s.mode) ? 'dense' : s.mode;
        families.set(family, [...(families.get(family) ?? []), s]);
      }
      for (const [family, members] of families) {
        const refHits = await searchAll(searcher, family as MethodName, rewritten.map((u) => ({ id: u.id, text: u.rewrite!, k: REWRITE_AGREEMENT_DEPTH, ...(Object.keys(params).length ? { params } : {}) })), o.batch);
        const reference = refHits.map((h) => h.slice(0, REWRITE_AGREEMENT_DEPTH));
        const values: Record<string, number[]> = {};
        for (const s of members) values[s.name] = rankingAgreement(reference, rewritten.map((u) => runs.get(s.name)!.get(u.id)!.map((d) => d.docId)));
        const rows: TurnFigure[] = rewritten.map((u, r) => ({ id: u.id, depth: u.depth, values: Object.fromEntries(members.map((s) => [s.name, values[s.name][r]])) }));
        rewrite[family] = summarize(rows, members.map((s) => s.name));
        log(formatSummary(`rewrite ${family}`, rewrite[family]!, members.map((s) => s.name)));
      }
    }

    for (const [name, r] of Object.entries(out)) {
      const m = r.metrics as Record<string, number> | undefined;
      if (m) process.stdout.write(`${name.padEnd(22)}${Object.entries(m).map(([k2, v]) => `${k2} ${v.toFixed(4)}`).join('  ')}\n`);
    }
    process.stdout.write(`turns ${turns.length} (${rewritten.length} with rewrites) in ${topics.length} topics\n`);
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({
          conversations: o.conversations,
          index: o.index,
          version: searcher.version,
          turns: turns.length,
          topics: topics.length,
          systems: out,
          ...(qrelsNote ? { qrelsNote } : {}),
          ...(teacher ? { teacherAgreement: agreementJson(teacher) } : {}),
          ...(rewrite ? { rewriteAgreement: Object.fromEntries(Object.entries(rewrite).map(([f, s]) => [f, agreementJson(s!)])) } : {}),
          k,
        })}\n`,
      );
    }
  } finally {
    await searcher.close();
  }
}

function cosine(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  let na = 0;
  let nb = 0;
  for (let x = 0; x < d; x++) {
    s += a[i * d + x] * b[j * d + x];
    na += a[i * d + x] ** 2;
    nb += b[j * d + x] ** 2;
  }
  return na > 0 && nb > 0 ? s / Math.sqrt(na * nb) : 0;
}

async function searchAll(searcher: Searcher, mode: MethodName, queries: MethodQuery[], batch: number): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < queries.length; i += batch) for (const hits of await searcher.searchHits(mode, queries.slice(i, i + batch))) out.push(hits.map((h) => h.docId));
  return out;
}

/** The student's figures on the topics it was trained on are not held-out: say so. */
async function warnIfTrainedOn(model: string | undefined, topicsFile: string, log: (m: string) => void): Promise<void> {
  if (!model) return;
  const data = (loadManifest(model).manifest.training as { data?: { topics?: { sha256?: string } } } | undefined)?.data;
  const trained = data?.topics?.sha256;
  if (!trained) return;
  if ((await checksumFile(topicsFile)).sha256 === trained) log(`note: the student was trained on ${topicsFile}: its figures here are not held-out (see the model's training record for cross-validated ones)`);
}
