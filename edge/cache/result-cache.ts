// Search answers in the Workers Cache API. An entry records the index version it was computed
// on and is only returned for that version; partial answers are never stored.
import type { Hit } from '../../shared/api/index.ts';

export interface CachedAnswer {
  indexVersion: string;
  hits: Hit[];
  poolMs?: number;
}

/** The part of the Workers `Cache` the edge uses. */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
}

export class ResultCache {
  constructor(
    private readonly cache: CacheLike | undefined,
    private readonly ttlS: number,
  ) {}

  get enabled(): boolean {
    return this.cache !== undefined && this.ttlS > 0;
  }

  async get(url: string, indexVersion: string): Promise<CachedAnswer | undefined> {
    if (!this.enabled) return undefined;
    const res = await this.cache!.match(url);
    if (!res) return undefined;
    const answer = (await res.json()) as CachedAnswer;
    return answer.indexVersion === indexVersion ? answer : undefined;
  }

  async put(url: string, answer: CachedAnswer): Promise<void> {
    if (!this.enabled) return;
    await this.cache!.put(
      url,
      new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json', 'cache-control': `public, max-age=${this.ttlS}` } }),
    );
  }
}
