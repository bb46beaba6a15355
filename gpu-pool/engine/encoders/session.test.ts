import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATIC128_DIR } from '../../../test/fixtures.ts';
import { createSession, describeSession, missingProviderLibrary } from './session.ts';

const onnx = join(STATIC128_DIR, 'model.onnx');

describe('createSession', () => {
  it("falls back from 'cuda' to 'cpu' with a warning (this onnxruntime-node is CPU-only)", async () => {
    const logs: string[] = [];
    const { session, provider } = await createSession(onnx, { providers: ['cuda', 'cpu'], log: (m) => logs.push(m) });
    expect(provider).toBe('cpu');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/execution provider 'cuda' .*falling back to 'cpu'/);
    expect(describeSession(session)).toMatchObject({
      inputNames: ['input_ids', 'attention_mask'],
      outputNames: ['sentence_embedding'],
      inputTypes: { input_ids: 'int64' },
      outputShapes: { sentence_embedding: ['batch', 128] },
    });
    await session.release();
  });

  it('falls back past a provider this build does not have', async () => {
    const logs: string[] = [];
    const { session, provider } = await createSession(onnx, { providers: ['dml', 'cpu'], log: (m) => logs.push(m) });
    expect(provider).toBe('cpu');
    expect(logs[0]).toMatch(/execution provider 'dml' unavailable .*falling back to 'cpu'/);
    await session.release();
  });

  it('names every provider that failed when none works', async () => {
    await expect(createSession(onnx, { providers: ['cuda', 'nosuch'], log: () => {} })).rejects.toThrow(
      /cannot create an onnxruntime session for .*model\.onnx:\n  cuda: .*\n  nosuch: /,
    );
  });

  it('knows when the CUDA provider library is not installed', () => {
    expect(missingProviderLibrary('cpu')).toBeNull();
    const cuda = missingProviderLibrary('cuda');
    if (cuda !== null) expect(cuda).toMatch(/libonnxruntime_providers_cuda\.so$/);
  });
});
