/** A codec that cannot be trained or used as asked (bad shapes, bits, sample). */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}
