// Public surface of the encoders module: model manifests, tokenizers, ONNX encoders, hub downloads.
export {
  defaultWindow,
  ExecutionProvider,
  type LoadedManifest,
  loadManifest,
  MANIFEST_FILE,
  ModelManifest,
  type ModelManifestInput,
  manifestHash,
  parseManifest,
  providerName,
  resolveManifest,
  resolveModelDir,
} from './manifest.ts';
export { createTokenizer, loadTokenizer, type Tokenizer, type TokenizerJson, UnsupportedTokenizerError } from './tokenizer/index.ts';
export { type DocumentInput, type Encoder, type EncoderBatching, type LoadEncoderOptions, loadEncoder } from './encoder.ts';
export { findOnnxFile, inferManifest } from './infer.ts';
export { createSession, describeSession, type OnnxIo } from './session.ts';
export { splitWindows, truncateQuery, type WindowPlan } from './windows.ts';
export { chooseOnnxFile, HubError, type PullOptions, type PullProgress, pullModel } from './hub.ts';
