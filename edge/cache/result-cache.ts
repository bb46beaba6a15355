// Search answers in two layers: a small in-memory LRU per isolate (a hit costs no I/O) over the
// Workers Cache API (shared by the isolates of a location). Entries are keyed by request key and
// the index version they were computed on, so one is only found for that version; partial
// answers are never stored.
import type { Hit } from '../../shared/api/index.ts';
import { cacheUrl } from './cache-key.ts';

export interface CachedAnswer {
  indexVersion: string;
  hits: Hit[];
}

/** The part of the Workers `Cache` the edge uses. */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
}

export interface ResultCacheOptions {
  ttlS: number;
  /** Entries kept in isolate memory (0: none). */
  memoryEntries: number;
  now?: () => number;
}

export class ResultCache {
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recent.
  private readonly memory = new Map<string, { answer: CachedAnswer; expiresAt: number }>();
  private readonly now: () => number;

  constructor(
    private readonly cache: CacheLike | undefined,
    private readonly opts: ResultCacheOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return (this.cache !== undefined || this.opts.memoryEntries > 0) && this.opts.ttlS > 0;
  }

  /** The answer to the request `key` on `indexVersion`, if one is kept. */
  async get(key: string, indexVersion: string): Promise<CachedAnswer | undefined> {
    if (!this.enabled) return undefined;
    const url = cacheUrl(key, indexVersion);
    const local = this.memory.get(url);
    if (local) {
      this.memory.delete(url);
      if (local.expiresAt > this.now()) {
        this.memory.set(url, local);
        return local.answer;
      }
    }
    if (!this.cache) return undefined;
    const res = await this.cache.match(url);
    if (!res) return undefined;
    const answer = (await res.json()) as CachedAnswer;
    this.remember(url, answer);
    return answer;
  }

  /** Keeps `answer` to the request `key`, under its index version. */
  async put(key: string, answer: CachedAnswer): Promise<void> {
    if (!this.enabled) return;
    const url = cacheUrl(key, answer.indexVersion);
    this.remember(url, answer);
    await this.cache?.put(
      url,
      new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json', 'cache-control': `public, max-age=${this.opts.ttlS}` } }),
    );
  }

  private remember(url: string, answer: CachedAnswer): void {
    if (this.opts.memoryEntries === 0) return;
    this.memory.delete(url);
    this.memory.set(url, { answer, expiresAt: this.now() + this.opts.ttlS * 1000 });
    while (this.memory.size > this.opts.memoryEntries) this.memory.delete(this.memory.keys().next().value!);
  }
}
