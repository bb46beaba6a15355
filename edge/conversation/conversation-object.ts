// The Durable Object that keeps one stored conversation (SQLite storage): its owner, its turns
// and its idle expiry (an alarm). Turns of one conversation are serialized here: a turn is
// reserved (`begin`: it waits, first come first served, until the turn before it is stored or
// abandoned, and is then given the turns before it as its context), searched by the worker, and
// stored (`commit`) only when the search succeeded, or released (`abort`). A reservation lapses
// after `leaseMs` (a worker that never came back), so one lost request cannot stall the rest.
// Reads, PUTs and DELETEs wait for the turn in flight too, so a caller that has a turn's answer
// sees that turn stored (the worker does not wait for a commit before answering: the reservation
// holds the conversation until the commit arrives). Every refusal names what was wrong in the
// API's words; another owner's conversation is the same 404 as a missing one.
import { z } from 'zod';
import type { Conversation as ConversationView, StoredTurn } from '../../shared/api/index.ts';
import type { ConversationSettings } from '../config/index.ts';
import { cutToFit, newTurnError, responseError, responseRoom, utf8Bytes, type LimitError } from './limits.ts';
import { AbortOp, BeginOp, CommitOp, CreateOp, ReadOp, RecordOp, type BeginAnswer, type Timing } from './protocol.ts';

/** The parts of SQLite storage (ctx.storage.sql) used here. */
interface SqlCursor {
  toArray(): Record<string, unknown>[];
}
interface StorageLike {
  sql: { exec(query: string, ...bindings: unknown[]): SqlCursor };
  setAlarm(scheduledTime: number): Promise<void>;
  deleteAlarm(): Promise<void>;
  deleteAll(): Promise<void>;
}
interface StateLike {
  storage: StorageLike;
}

/** Turns that may wait for one conversation at once; more is a 429. */
const MAX_WAITING = 16;

interface Meta {
  id: string;
  owner: string;
  created: number;
  used: number;
  ttl_s: number;
}

interface TurnRow {
  n: number;
  query: string;
  response: string | null;
  bytes: number;
}

class Refusal extends Error {
  constructor(
    readonly refusal: LimitError,
    readonly retryAfterS?: number,
  ) {
    super(refusal.message);
  }
}

const notFound = () => new Refusal({ status: 404, code: 'not_found', message: 'no such conversation (it never existed, was deleted, expired, or belongs to another key)' });

interface Waiter {
  token: string;
  leaseMs: number;
  resolve(): void;
}

export class Conversation {
  private schemaReady = false;
  /** The turn being searched, if any. */
  private active?: { token: string; timer: ReturnType<typeof setTimeout> };
  /** Turns waiting for it, first come first served. */
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly state: StateLike,
    _env?: unknown,
  ) {}

  async fetch(request: Request): Promise<Response> {
    const op = new URL(request.url).pathname.slice(1);
    const body: unknown = await request.json().catch(() => undefined);
    try {
      switch (op) {
        case 'create':
          return Response.json(await this.create(parse(CreateOp, body)), { status: 201 });
        case 'get': {
          const { owner, limits, timing } = parse(ReadOp, body);
          return Response.json(
            await this.exclusive(owner, timing, async () => {
              const meta = await this.live(owner);
              await this.touch(meta, limits);
              return this.view(meta, limits);
            }),
          );
        }
        case 'begin':
          return Response.json(await this.begin(parse(BeginOp, body)));
        case 'commit':
          return Response.json(await this.commit(parse(CommitOp, body)));
        case 'abort': {
          const { token, limits } = parse(AbortOp, body);
          this.release(token);
          // A failed turn is a call too: the idle TTL starts again.
          const meta = this.meta();
          if (meta && Date.now() < meta.used + meta.ttl_s * 1000) await this.touch(meta, limits);
          return Response.json({});
        }
        case 'record':
          return Response.json(await this.record(parse(RecordOp, body)));
        case 'delete': {
          const { owner, timing } = parse(ReadOp, body);
          await this.exclusive(owner, timing, async () => {
            await this.live(owner);
            await this.wipe();
          });
          return new Response(null, { status: 204 });
        }
        default:
          return Response.json({ error: { code: 'not_found', message: `no operation ${op}` } }, { status: 404 });
      }
    } catch (err) {
      if (err instanceof Refusal) {
        const { status, ...error } = err.refusal;
        return Response.json({ error, ...(err.retryAfterS !== undefined ? { retryAfterS: err.retryAfterS } : {}) }, { status });
      }
      throw err;
    }
  }

  /** Idle expiry: erase the conversation once its TTL has passed since the last call. */
  async alarm(): Promise<void> {
    const meta = this.meta();
    if (!meta) return;
    const expiresAt = meta.used + meta.ttl_s * 1000;
    if (Date.now() >= expiresAt) await this.wipe();
    else await this.state.storage.setAlarm(expiresAt);
  }

  /** Tables are made by `create` only: asking for an unknown id stores nothing. */
  private ensureSchema(): void {
    if (this.schemaReady) return;
    const sql = this.state.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS meta (id TEXT NOT NULL, owner TEXT NOT NULL, created INTEGER NOT NULL, used INTEGER NOT NULL, ttl_s INTEGER NOT NULL)');
    sql.exec('CREATE TABLE IF NOT EXISTS turns (n INTEGER PRIMARY KEY, query TEXT NOT NULL, response TEXT, bytes INTEGER NOT NULL)');
    this.schemaReady = true;
  }

  private meta(): Meta | undefined {
    if (!this.schemaReady) {
      const tables = this.state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray();
      if (tables.length === 0) return undefined;
      this.schemaReady = true;
    }
    return this.state.storage.sql.exec('SELECT id, owner, created, used, ttl_s FROM meta LIMIT 1').toArray()[0] as unknown as Meta | undefined;
  }

  private turns(): TurnRow[] {
    return this.state.storage.sql.exec('SELECT n, query, response, bytes FROM turns ORDER BY n').toArray() as unknown as TurnRow[];
  }

  private stats(): { count: number; bytes: number } {
    const row = this.state.storage.sql.exec('SELECT COUNT(*) AS count, COALESCE(SUM(bytes), 0) AS bytes FROM turns').toArray()[0];
    return { count: Number(row.count), bytes: Number(row.bytes) };
  }

  /** The conversation, if it exists, is `owner`'s and has not expired (an expired one is erased now, whether or not its alarm has run). */
  private async live(owner: string): Promise<Meta> {
    const meta = this.meta();
    if (!meta) throw notFound();
    if (Date.now() >= meta.used + meta.ttl_s * 1000) {
      await this.wipe();
      throw notFound();
    }
    if (meta.owner !== owner) throw notFound();
    return meta;
  }

  /** A call: the idle TTL starts again. */
  private async touch(meta: Meta, limits: ConversationSettings): Promise<void> {
    const now = Date.now();
    this.state.storage.sql.exec('UPDATE meta SET used = ?, ttl_s = ?', now, limits.ttlS);
    meta.used = now;
    meta.ttl_s = limits.ttlS;
    await this.state.storage.setAlarm(now + limits.ttlS * 1000);
  }

  private async wipe(): Promise<void> {
    await this.state.storage.deleteAlarm();
    await this.state.storage.deleteAll();
    this.schemaReady = false;
  }

  private view(meta: Meta, limits: ConversationSettings): ConversationView {
    const turns = this.turns();
    return {
      id: meta.id,
      createdAt: new Date(meta.created).toISOString(),
      expiresAt: new Date(meta.used + meta.ttl_s * 1000).toISOString(),
      bytes: turns.reduce((sum, t) => sum + t.bytes, 0),
      turns: turns.map(storedTurn),
      limits: { maxTurns: limits.maxTurns, maxTurnBytes: limits.maxTurnBytes, maxBytes: limits.maxBytes, ttlS: limits.ttlS },
    };
  }

  private async create(op: z.output<typeof CreateOp>): Promise<ConversationView> {
    if (this.meta()) throw new Refusal({ status: 409, code: 'internal', message: `conversation ${op.id} exists already` });
    this.ensureSchema();
    const now = Date.now();
    this.state.storage.sql.exec('INSERT INTO meta (id, owner, created, used, ttl_s) VALUES (?, ?, ?, ?, ?)', op.id, op.owner, now, now, op.limits.ttlS);
    await this.state.storage.setAlarm(now + op.limits.ttlS * 1000);
    return this.view(this.meta()!, op.limits);
  }

  /**
   * Reserves the next turn (waiting for the one in flight, first come first served) and gives it
   * the turns before it. It writes nothing, so its answer is not held for a storage commit: the
   * turn's commit (or abort) that follows stores the turn and starts the idle TTL again.
   */
  private async begin(op: z.output<typeof BeginOp>): Promise<BeginAnswer> {
    await this.live(op.owner);
    const token = crypto.randomUUID();
    const waited = await this.acquire(token, op.timing.leaseMs, op.timing.waitMs);
    try {
      // Checked again after a wait: meanwhile the conversation may have been deleted.
      if (waited) await this.live(op.owner);
      const turns = this.turns();
      const bytes = turns.reduce((sum, t) => sum + t.bytes, 0);
      const refused = newTurnError(op.limits, turns.length, bytes, utf8Bytes(op.query));
      if (refused) throw new Refusal(refused);
      return { token, turn: turns.length + 1, context: turns.map((t) => (t.response === null ? { query: t.query } : { query: t.query, response: t.response })) };
    } catch (err) {
      this.release(token);
      throw err;
    }
  }

  /**
   * Runs `fn` with no turn in flight (after the turns that arrived before it): a caller that got a
   * turn's answer reads that turn, even when its commit is still on its way.
   */
  private async exclusive<T>(owner: string, timing: z.output<typeof Timing>, fn: () => Promise<T>): Promise<T> {
    await this.live(owner);
    const token = crypto.randomUUID();
    await this.acquire(token, timing.leaseMs, timing.waitMs);
    try {
      return await fn();
    } finally {
      this.release(token);
    }
  }

  /** Stores a searched turn and lets the next one go. */
  private async commit(op: z.output<typeof CommitOp>): Promise<StoredTurn> {
    try {
      const meta = await this.live(op.owner);
      const mine = this.active?.token === op.token;
      const { count, bytes } = this.stats();
      // A reservation this object no longer holds (it was restarted, or the lease lapsed) still
      // stores its turn when nothing else has happened since: no turn in flight, none stored.
      if ((!mine && this.active !== undefined) || count + 1 !== op.turn) {
        throw new Refusal({ status: 409, code: 'internal', message: `the reservation of turn ${op.turn} lapsed and another turn went first` });
      }
      const queryBytes = utf8Bytes(op.query);
      const refused = newTurnError(op.limits, count, bytes, queryBytes);
      if (refused) throw new Refusal(refused);
      const response = op.response === undefined ? '' : cutToFit(op.response, responseRoom(op.limits, bytes, queryBytes));
      const turnBytes = queryBytes + utf8Bytes(response);
      this.state.storage.sql.exec('INSERT INTO turns (n, query, response, bytes) VALUES (?, ?, ?, ?)', op.turn, op.query, response === '' ? null : response, turnBytes);
      await this.touch(meta, op.limits);
      return { turn: op.turn, query: op.query, ...(response !== '' ? { response } : {}) };
    } finally {
      this.release(op.token);
    }
  }

  /** PUT a turn's response (replacing one recorded before), after the turn in flight. */
  private record(op: z.output<typeof RecordOp>): Promise<StoredTurn> {
    return this.exclusive(op.owner, op.timing, () => this.recordNow(op));
  }

  private async recordNow(op: z.output<typeof RecordOp>): Promise<StoredTurn> {
    const meta = await this.live(op.owner);
    const row = this.state.storage.sql.exec('SELECT n, query, response, bytes FROM turns WHERE n = ?', op.turn).toArray()[0] as unknown as TurnRow | undefined;
    if (!row) throw new Refusal({ status: 404, code: 'not_found', message: `the conversation has no turn ${op.turn} (it has ${this.stats().count})` });
    const { bytes } = this.stats();
    const queryBytes = utf8Bytes(row.query);
    const refused = responseError(op.limits, bytes, queryBytes, row.bytes - queryBytes, utf8Bytes(op.response));
    if (refused) throw new Refusal(refused);
    this.state.storage.sql.exec('UPDATE turns SET response = ?, bytes = ? WHERE n = ?', op.response, queryBytes + utf8Bytes(op.response), op.turn);
    await this.touch(meta, op.limits);
    return { turn: op.turn, query: row.query, response: op.response };
  }

  /** Waits until `token` holds the conversation's one turn in flight; true when it had to wait. */
  private async acquire(token: string, leaseMs: number, waitMs: number): Promise<boolean> {
    if (!this.active && this.waiting.length === 0) {
      this.grant(token, leaseMs);
      return false;
    }
    if (this.waiting.length >= MAX_WAITING) {
      throw new Refusal({ status: 429, code: 'rate_limited', message: `${this.waiting.length} turns of this conversation are already waiting; send its turns one after another` }, 1);
    }
    // The waiter's own timer: workerd cancels a request that waits only on another request's I/O.
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        token,
        leaseMs,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(waiter);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        reject(new Refusal({ status: 429, code: 'rate_limited', message: `the turns before this one did not finish within ${waitMs} ms; send a conversation's turns one after another` }, 1));
      }, waitMs);
      this.waiting.push(waiter);
    });
    return true;
  }

  /** `token` holds the turn in flight until released, or until its lease lapses. */
  private grant(token: string, leaseMs: number): void {
    this.active = { token, timer: setTimeout(() => this.release(token), leaseMs) };
  }

  /** Ends `token`'s turn (if it holds it) and hands the next waiting turn its place, synchronously: nobody can step in between. */
  private release(token: string): void {
    if (this.active?.token !== token) return;
    clearTimeout(this.active.timer);
    this.active = undefined;
    const next = this.waiting.shift();
    if (next) {
      this.grant(next.token, next.leaseMs);
      next.resolve();
    }
  }
}

function storedTurn(t: TurnRow): StoredTurn {
  return { turn: t.n, query: t.query, ...(t.response !== null ? { response: t.response } : {}) };
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Refusal({ status: 409, code: 'internal', message: `bad operation: ${issue.path.join('.')} ${issue.message}` });
  }
  return parsed.data;
}
