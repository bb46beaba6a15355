// loadConversationalEncoder: a model directory written by `edgesearch convdr train` → the base
// encoder (its ONNX and tokenizer, copied into the directory) + the adapter (size and sha256
// checked) → ConversationalEncoder, whose vectors live in the teacher's space.
import type { ConversationalEncoder, ConversationQuery } from '../../conversation/index.ts';
import { loadEncoder, loadManifest, type Encoder } from '../../encoders/index.ts';
import { applyAdapter, normalizeRows, readAdapter, type Adapter } from './adapter.ts';
import { viewFeatures } from './views.ts';

export interface LoadConversationalEncoderOptions {
  threads?: number;
  log?: (message: string) => void;
}

/** The student over an encoder already loaded (training uses this with the adapter in memory). */
export function studentEncoder(encoder: Encoder, adapter: Adapter, views: readonly string[], info: { manifestPath: string; teacher: { id: string; manifestHash: string }; owned: boolean }): ConversationalEncoder {
  if (adapter.inputDimension !== views.length * encoder.dimension || adapter.dimension !== encoder.dimension)
    throw new Error(`conversational model ${encoder.modelId}: an adapter of ${adapter.inputDimension} × ${adapter.dimension} does not fit ${views.length} views of ${encoder.dimension}-d vectors`);
  return {
    modelId: encoder.modelId,
    manifestHash: encoder.manifestHash,
    manifestPath: info.manifestPath,
    dimension: adapter.dimension,
    teacher: info.teacher,
    async encodeConversations(queries: readonly ConversationQuery[]): Promise<Float32Array> {
      const features = await viewFeatures(encoder, queries, views);
      return normalizeRows(applyAdapter(adapter, features, queries.length), adapter.dimension);
    },
    async dispose(): Promise<void> {
      if (info.owned) await encoder.dispose();
    },
  };
}

/**
 * Loads a conversational (ConvDR) model: a directory (or manifest) with a `conversational` block.
 * A plain model is refused with a pointer to `edgesearch convdr train`.
 */
export async function loadConversationalEncoder(path: string, opts: LoadConversationalEncoderOptions = {}): Promise<ConversationalEncoder> {
  const loaded = loadManifest(path);
  const adapter = readAdapter(loaded);
  const spec = loaded.manifest.conversational!;
  const encoder = await loadEncoder(loaded, { threads: opts.threads, log: opts.log });
  try {
    return studentEncoder(encoder, adapter, spec.views, { manifestPath: loaded.manifestPath ?? path, teacher: spec.teacher, owned: true });
  } catch (err) {
    await encoder.dispose();
    throw err;
  }
}
