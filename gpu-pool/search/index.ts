// Opens a published index and answers queries with evidence: the read path used by the CLI,
// the evaluator and (later) the pool server.
import { loadEncoder, type Encoder } from '../encoders/index.ts';
import {
  Bm25Method,
  DenseMethod,
  HybridMethod,
  type BranchScore,
  type Hit,
  type MethodName,
  type MethodQuery,
  type RetrievalMethod,
} from '../methods/index.ts';
import { closeIndex, openIndex, type LoadedIndex, type OpenOptions } from '../shard/index.ts';

export interface SearchHit {
  rank: number;
  docId: string;
  score: number;
  shard: number;
  title: string;
  /** The evidence passage. */
  text: string;
  branches?: Partial<Record<'dense' | 'bm25', BranchScore>>;
}

export interface SearcherOptions extends OpenOptions {
  /** Model directory or manifest; default: the one recorded in the index. */
  model?: string;
  threads?: number;
  log?: (message: string) => void;
}

export class Searcher {
  private encoder?: Promise<Encoder>;
  private readonly methods = new Map<MethodName, Promise<RetrievalMethod>>();

  private constructor(
    readonly index: LoadedIndex,
    private readonly opts: SearcherOptions,
  ) {}

  static async open(dir: string, opts: SearcherOptions = {}): Promise<Searcher> {
    return new Searcher(await openIndex(dir, opts), opts);
  }

  get version(): string {
    return this.index.manifest.version;
  }

  /** The encoder is loaded on first dense use: BM25-only serving never pays for ONNX. */
  async queryEncoder(): Promise<Encoder> {
    this.encoder ??= (async () => {
      const recorded = this.index.manifest.model;
      const encoder = await loadEncoder(this.opts.model ?? recorded.path, { threads: this.opts.threads, log: this.opts.log });
      if (encoder.dimension !== recorded.dimension) {
        throw new Error(`dimension mismatch: model ${encoder.modelId} gives ${encoder.dimension}-d vectors, index ${this.index.dir} was built with ${recorded.dimension}-d vectors (model ${recorded.id})`);
      }
      if (encoder.manifestHash !== recorded.manifestHash) {
        (this.opts.log ?? ((m) => process.stderr.write(`${m}\n`)))(`warning: model ${encoder.modelId} differs from the one the index was built with (${recorded.id}); scores may be meaningless`);
      }
      return encoder;
    })();
    return this.encoder;
  }

  method(name: MethodName): Promise<RetrievalMethod> {
    let method = this.methods.get(name);
    if (!method) {
      method = (async (): Promise<RetrievalMethod> => {
        switch (name) {
          case 'dense':
            return new DenseMethod(await this.queryEncoder(), this.index.shards);
          case 'bm25':
            return new Bm25Method(this.index.shards);
          case 'hybrid':
            return new HybridMethod(await this.method('dense'), await this.method('bm25'));
        }
      })();
      this.methods.set(name, method);
    }
    return method;
  }

  /** Raw hits (doc ids resolved, no passage text): what evaluation needs. */
  async searchHits(mode: MethodName, queries: MethodQuery[]): Promise<Hit[][]> {
    const results = await (await this.method(mode)).search(queries);
    for (const hits of results) {
      for (const hit of hits) hit.docId = (await this.index.shards[hit.shard].passages.get(hit.ordinal)).id;
    }
    return results;
  }

  /** Hits with their evidence passages. */
  async search(mode: MethodName, queries: MethodQuery[]): Promise<SearchHit[][]> {
    const results = await (await this.method(mode)).search(queries);
    return Promise.all(
      results.map((hits) =>
        Promise.all(
          hits.map(async (hit, i): Promise<SearchHit> => {
            const passage = await this.index.shards[hit.shard].passages.get(hit.ordinal);
            return { rank: i + 1, docId: passage.id, score: hit.score, shard: hit.shard, title: passage.title, text: passage.text, ...(hit.branches ? { branches: hit.branches } : {}) };
          }),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    await closeIndex(this.index);
    if (this.encoder) await (await this.encoder.catch(() => undefined))?.dispose();
  }
}
