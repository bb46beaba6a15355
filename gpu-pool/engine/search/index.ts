// Opens a published index and answers queries with evidence: the read path used by the CLI,
// the evaluator and (later) the pool server.
import type { ConversationalEncoder } from '../conversation/index.ts';
import { loadConversationalEncoder } from '../convdr/index.ts';
import { loadEncoder, loadManifest, loadTokenEncoder, type Encoder, type TokenEncoder } from '../encoders/index.ts';
import { loadPhraseEncoder, type PhraseEncoder } from '../phrase/model/index.ts';
import { METHODS, ShardedMethod, encodingsOf, withFusionDefault, type BranchScore, type Hit, type MethodName, type MethodQuery } from '../methods/index.ts';
import { closeIndex, openIndex, type LoadedIndex, type OpenOptions } from '../shard/index.ts';

export interface SearchHit {
  rank: number;
  docId: string;
  score: number;
  shard: number;
  title: string;
  /** The evidence passage. */
  text: string;
  /** Phrase search: the phrase (or sentence) within `text`. */
  span?: Hit['span'];
  branches?: Hit['branches'];
}

/** Where one search call spent its time, in ms. */
export interface StageTimings {
  /** Encoding the queries (0 for BM25: no encoder). */
  encodeMs: number;
  /** Searching every shard and merging (fusion included), with the ids of tied hits. */
  searchMs: number;
  /** Reading the evidence passages of the hits. */
  evidenceMs: number;
}

export interface SearcherOptions extends OpenOptions {
  /** Model directory or manifest; default: the one recorded in the index. */
  model?: string;
  /** Mode conversational's encoder: a model directory written by `edgesearch convdr train`. */
  conversationalModel?: string;
  threads?: number;
  log?: (message: string) => void;
}

/**
 * Whether the encoder is the index's model with only its query side tuned (`phrase tune-query`
 * records the model it started from): the index's vectors are still the ones it would write.
 */
function queryTunedFrom(encoder: { manifestPath?: string }, manifestHash: string): boolean {
  if (!encoder.manifestPath) return false;
  const tuning = loadManifest(encoder.manifestPath).manifest.training?.queryTuning as { from?: { manifestHash?: string } } | undefined;
  return tuning?.from?.manifestHash === manifestHash;
}

/**
 * A conversational encoder searches the index only if its vectors are the index's: it must be
 * distilled from the model the index was built with (same manifest hash) and give its dimension.
 */
export function checkConversationalModel(encoder: ConversationalEncoder, indexModel: { id: string; manifestHash: string; dimension: number }, indexDir: string): void {
  if (encoder.dimension !== indexModel.dimension)
    throw new Error(`dimension mismatch: conversational model ${encoder.modelId} gives ${encoder.dimension}-d vectors, index ${indexDir} holds ${indexModel.dimension}-d vectors (model ${indexModel.id})`);
  if (encoder.teacher.manifestHash !== indexModel.manifestHash)
    throw new Error(`conversational model ${encoder.modelId} was distilled from ${encoder.teacher.id} (manifest ${encoder.teacher.manifestHash.slice(0, 12)}), but index ${indexDir} was built with ${indexModel.id} (manifest ${indexModel.manifestHash.slice(0, 12)}): its vectors would not match`);
}

export class Searcher {
  private encoder?: Promise<Encoder>;
  private tokenEncoderLoad?: Promise<TokenEncoder>;
  private phraseEncoderLoad?: Promise<PhraseEncoder>;
  private conversationalLoad?: Promise<ConversationalEncoder>;
  private readonly methods = new Map<MethodName, ShardedMethod>();

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
    this.encoder ??= this.checkedModel((path, opts) => loadEncoder(path, opts), 'vectors');
    return this.encoder;
  }

  /** The token encoder (late interaction), loaded on first use, checked against the index's token store. */
  async tokenEncoder(): Promise<TokenEncoder> {
    this.tokenEncoderLoad ??= this.checkedModel((path, opts) => loadTokenEncoder(path, opts), 'token vectors');
    return this.tokenEncoderLoad;
  }

  /** The phrase encoder (DensePhrases' query start / end vectors), loaded on first use. */
  async phraseEncoder(): Promise<PhraseEncoder> {
    this.phraseEncoderLoad ??= this.checkedModel((path, opts) => loadPhraseEncoder(path, opts), 'phrase vectors');
    return this.phraseEncoderLoad;
  }

  /** Mode conversational's encoder (ConvDR), loaded on first use; refused unless distilled from the index's model. */
  async conversationalEncoder(): Promise<ConversationalEncoder> {
    this.conversationalLoad ??= (async () => {
      const path = this.opts.conversationalModel;
      if (!path) throw new Error(`mode "conversational" needs a conversational model (train one with \`edgesearch convdr train\`, then pass --conversational-model DIR)`);
      const encoder = await loadConversationalEncoder(path, { threads: this.opts.threads, log: this.opts.log });
      checkConversationalModel(encoder, this.index.manifest.model, this.index.dir);
      return encoder;
    })();
    return this.conversationalLoad;
  }

  /**
   * The index's model (or the one the options name) loaded by `load`: refused when its vectors
   * have another dimension than the index's, a warning when it is not the model the index was built with.
   */
  private async checkedModel<E extends { dimension: number; modelId: string; manifestHash: string; manifestPath?: string; dispose(): Promise<void> }>(
    load: (path: string, opts: { threads?: number; log?: (m: string) => void }) => Promise<E>,
    vectors: string,
  ): Promise<E> {
    const recorded = this.index.manifest.model;
    const encoder = await load(this.opts.model ?? recorded.path, { threads: this.opts.threads, log: this.opts.log });
    if (encoder.dimension !== recorded.dimension) {
      await encoder.dispose();
      throw new Error(`dimension mismatch: model ${encoder.modelId} gives ${encoder.dimension}-d ${vectors}, index ${this.index.dir} was built with ${recorded.dimension}-d vectors (model ${recorded.id})`);
    }
    if (encoder.manifestHash !== recorded.manifestHash && !queryTunedFrom(encoder, recorded.manifestHash)) {
      (this.opts.log ?? ((m) => process.stderr.write(`${m}\n`)))(`warning: model ${encoder.modelId} differs from the one the index was built with (${recorded.id}); scores may be meaningless`);
    }
    return encoder;
  }

  /** A method over this index's shards; refused (clear error) when the shards cannot answer it. */
  async method(name: MethodName): Promise<ShardedMethod> {
    let method = this.methods.get(name);
    if (!method) {
      method = new ShardedMethod(METHODS[name], this.index.shards, { sentence: () => this.queryEncoder(), tokens: () => this.tokenEncoder(), phrase: () => this.phraseEncoder(), conversation: () => this.conversationalEncoder() });
      this.methods.set(name, method);
    }
    return method;
  }

  /** Hybrid queries take the index's default fusion (index tune) unless they set their own. */
  private withIndexDefaults(mode: MethodName, queries: MethodQuery[]): MethodQuery[] {
    const fusion = this.index.manifest.fusion;
    if (mode !== 'hybrid' || !fusion) return queries;
    return queries.map((q) => ({ ...q, params: withFusionDefault(q.params, fusion) }));
  }

  /** Raw hits (doc ids resolved, no passage text): what evaluation needs. */
  async searchHits(mode: MethodName, queries: MethodQuery[]): Promise<Hit[][]> {
    const results = await (await this.method(mode)).search(this.withIndexDefaults(mode, queries));
    for (const hits of results) {
      for (const hit of hits) hit.docId = (await this.index.shards[hit.shard].passages.get(hit.ordinal)).id;
    }
    return results;
  }

  /** Hits with their evidence passages, in trec_eval's order (methods/order.ts). */
  async search(mode: MethodName, queries: MethodQuery[]): Promise<SearchHit[][]> {
    return (await this.searchTimed(mode, queries)).results;
  }

  /**
   * search(), and the time spent encoding, searching and reading evidence. Loading the method
   * (and its encoder, on first dense use) is not counted in any stage.
   */
  async searchTimed(mode: MethodName, queries: MethodQuery[]): Promise<{ results: SearchHit[][]; timings: StageTimings }> {
    const method = await this.method(mode);
    // Loading the encoders is not encoding: load them before the clock starts.
    const encodings = new Set(queries.flatMap((q) => [...encodingsOf(method.plugin, q)]));
    if (encodings.has('sentence')) await this.queryEncoder();
    if (encodings.has('tokens')) await this.tokenEncoder();
    if (encodings.has('phrase') && queries.some((q) => !q.phrase)) await this.phraseEncoder();
    if (encodings.has('conversation')) await this.conversationalEncoder();
    let t = performance.now();
    const encoded = await method.encode(this.withIndexDefaults(mode, queries));
    // A method that encodes nothing (BM25) spends no time encoding.
    const encodeMs = encodings.size > 0 ? performance.now() - t : 0;
    t = performance.now();
    const hits = await method.searchEncoded(encoded);
    const searchMs = performance.now() - t;
    t = performance.now();
    const results = await Promise.all(
      hits.map((list) =>
        Promise.all(
          list.map(async (hit, i): Promise<SearchHit> => {
            const passage = await this.index.shards[hit.shard].passages.get(hit.ordinal);
            return { rank: i + 1, docId: passage.id, score: hit.score, shard: hit.shard, title: passage.title, text: passage.text, ...(hit.span ? { span: hit.span } : {}), ...(hit.branches ? { branches: hit.branches } : {}) };
          }),
        ),
      ),
    );
    return { results, timings: { encodeMs, searchMs, evidenceMs: performance.now() - t } };
  }

  async close(): Promise<void> {
    await closeIndex(this.index);
    if (this.encoder) await (await this.encoder.catch(() => undefined))?.dispose();
    if (this.tokenEncoderLoad) await (await this.tokenEncoderLoad.catch(() => undefined))?.dispose();
    if (this.phraseEncoderLoad) await (await this.phraseEncoderLoad.catch(() => undefined))?.dispose();
    if (this.conversationalLoad) await (await this.conversationalLoad.catch(() => undefined))?.dispose();
  }
}
