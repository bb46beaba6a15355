// ColBERTv2 residual compression of token vectors: train a codec on a sample, encode, decode.
export { CodecError } from './errors.ts';
export { CodecParams, CodecTraining, QUANTILE_MODES, RESIDUAL_BITS, type QuantileMode, type ResidualBits } from './params.ts';
export { ResidualCodec, type EncodedTokens, type ResidualCodecInit } from './residual-codec.ts';
export { defaultCentroidCount, trainCodec, type TrainCodecOptions } from './train.ts';
