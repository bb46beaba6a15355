// Public surface of the wire protocol shared by the edge worker and the GPU pool.
// Runtime-neutral: Web APIs only (no Node built-ins), msgpackr without code generation.

export { Mode, QueryParams, MAX_HYBRID_DEPTH, MAX_WINDOW_FACTOR } from './params.ts';
export { DEFAULT_LIMITS, ProtocolLimitsSchema, resolveLimits, type ProtocolLimits } from './limits.ts';
export {
  PROTOCOL_VERSION,
  FRAME_TYPES,
  ERROR_CODES,
  ErrorCode,
  MAX_ERROR_MESSAGE,
  frameSchema,
  frameSchemas,
  maxShardK,
  maxShardQueries,
  type BranchScore,
  type ErrorFrame,
  type EvidenceFrame,
  type EvidenceResultFrame,
  type Frame,
  type FrameOf,
  type FrameSchemas,
  type FrameType,
  type Passage,
  type ResultFrame,
  type SearchFrame,
  type ShardHit,
  type ShardMode,
  type ShardQuery,
  type ShardResult,
  type ShardResultFrame,
  type ShardSearchFrame,
  type Timings,
  type WireHit,
  type WireQuery,
  type WireResult,
} from './frames.ts';
export { bytesToVector, vectorToBytes } from './vectors.ts';
export {
  ProtocolError,
  decodeFrame,
  encodeFrame,
  errorFrame,
  validateFrame,
  type DecodeOptions,
  type ProtocolErrorOptions,
} from './codec.ts';
export {
  DEFAULT_SIGNATURE_WINDOW_MS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  importSigningKey,
  signBody,
  signatureHeaders,
  toHex,
  verifySignature,
  type SignatureHeaderValues,
  type VerifyOptions,
  type VerifyResult,
} from './signature.ts';
