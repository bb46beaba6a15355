// A conversational model directory: the base encoder's files, the adapter, and a manifest whose
// `conversational` block names the views, the adapter and the teacher the student was distilled from.
import { createHash } from 'node:crypto';
import { writeDerivedModel, type LoadedManifest } from '../../encoders/index.ts';
import type { StudentView } from '../../conversation/index.ts';
import { ADAPTER_FILE, encodeAdapter, type Adapter } from './adapter.ts';

export interface ConversationalModel {
  /** The base (teacher) model: its files are copied, its id and manifest hash recorded as the teacher. */
  base: LoadedManifest;
  teacher: { id: string; manifestHash: string };
  out: string;
  force: boolean;
  id: string;
  description: string;
  views: readonly StudentView[];
  adapter: Adapter;
  /** The training record (data, hyper-parameters, figures). */
  training: Record<string, unknown>;
}

export async function writeConversationalModel(m: ConversationalModel): Promise<void> {
  const bytes = encodeAdapter(m.adapter);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await writeDerivedModel({
    base: m.base,
    out: m.out,
    force: m.force,
    files: { [ADAPTER_FILE]: bytes },
    manifest: (base) => ({
      ...base,
      id: m.id,
      description: m.description,
      conversational: { views: [...m.views], dimension: m.adapter.dimension, adapter: { file: ADAPTER_FILE, inputDimension: m.adapter.inputDimension, sha256 }, teacher: m.teacher },
      training: m.training,
    }),
  });
}
