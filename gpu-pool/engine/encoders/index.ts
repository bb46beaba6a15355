// Public surface of the encoders module: model manifests, tokenizers, ONNX encoders (sentence vectors and
// late-interaction token matrices), hub downloads.
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
export { isPunctuationPiece, loadTokenEncoder, type LoadTokenEncoderOptions, NotATokenModelError, type TextTokens, type TokenEncoder } from './token-encoder.ts';
export {
  concatTokenMatrices,
  emptyTokenMatrix,
  l2NormalizeInPlace,
  normalizeTokenRows,
  projectTokens,
  tokenMatrix,
  type TokenMatrix,
  tokenRow,
} from './token-matrix.ts';
export { findOnnxFile, inferManifest } from './infer.ts';
export { createSession, describeSession, type OnnxIo } from './session.ts';
export { splitWindows, truncateQuery, type WindowPlan } from './windows.ts';
export { chooseOnnxFile, HubError, type PullOptions, type PullProgress, pullModel } from './hub.ts';
export { DerivedModelExistsError, writeDerivedModel, type DerivedModel } from './derived-model.ts';
