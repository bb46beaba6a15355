// A conversational (ConvDR) model for tests: use-lite's files and the adapter's starting point,
// the mean of the three views (what `convdr train` starts from; training moves it a little), so
// tests need not spend minutes training. Written once per process per directory.
import { join } from 'node:path';
import { STUDENT_VIEWS } from '../gpu-pool/engine/conversation/index.ts';
import { initialAdapter, writeConversationalModel } from '../gpu-pool/engine/convdr/model/index.ts';
import { loadManifest } from '../gpu-pool/engine/encoders/index.ts';
import { USE_LITE_MODEL } from './index-fixture.ts';

export async function untrainedConversationalModel(dir: string): Promise<string> {
  const base = loadManifest(USE_LITE_MODEL);
  const out = join(dir, 'use-lite-convdr');
  await writeConversationalModel({
    base,
    teacher: { id: base.manifest.id, manifestHash: base.hash },
    out,
    force: true,
    id: 'use-lite-convdr-untrained',
    description: 'test fixture: the mean of the views raw, first and concat (the untrained ConvDR adapter)',
    views: STUDENT_VIEWS,
    adapter: initialAdapter(STUDENT_VIEWS.length, base.manifest.dimension, 'mean'),
    training: { method: 'none (test fixture)' },
  });
  return out;
}
