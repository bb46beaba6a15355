/**
 * Every failure of the faiss layer surfaces as a FaissError: faiss's own
 * exceptions (message kept verbatim), argument validation, and the binding's
 * state checks. `code` tells them apart.
 */
export type FaissErrorCode =
  /** faiss raised it (FaissException / std::exception); message is faiss's */
  | 'ERR_FAISS'
  /** rejected before calling faiss: wrong type, length, range */
  | 'ERR_INVALID_ARG'
  /** search/add on an index that needs training */
  | 'ERR_NOT_TRAINED'
  /** a synchronous call (reconstruct, clone) while a train/add/removeIds is in flight */
  | 'ERR_BUSY'
  /** the index was disposed */
  | 'ERR_DISPOSED'
  /** opened with { mmap: true }: mutations and serialization are refused */
  | 'ERR_READ_ONLY'
  /** std::bad_alloc inside faiss */
  | 'ERR_NO_MEMORY'
  /** the native addon is not built / cannot be loaded */
  | 'ERR_NATIVE_MISSING';

const CODES: ReadonlySet<string> = new Set<FaissErrorCode>([
  'ERR_FAISS',
  'ERR_INVALID_ARG',
  'ERR_NOT_TRAINED',
  'ERR_BUSY',
  'ERR_DISPOSED',
  'ERR_READ_ONLY',
  'ERR_NO_MEMORY',
  'ERR_NATIVE_MISSING',
]);

export interface FaissErrorOptions {
  code?: FaissErrorCode;
  /** what was being done, e.g. 'readFile', 'search' */
  operation?: string;
  /** file involved, if any */
  path?: string;
  cause?: unknown;
}

export class FaissError extends Error {
  override readonly name = 'FaissError';
  readonly code: FaissErrorCode;
  readonly operation?: string;
  readonly path?: string;
  /** The message exactly as faiss (or the binding) produced it, without context. */
  readonly nativeMessage: string;

  constructor(message: string, opts: FaissErrorOptions = {}) {
    const context = opts.operation ? `${opts.operation}${opts.path !== undefined ? `(${opts.path})` : ''}: ` : '';
    super(context + message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code ?? 'ERR_FAISS';
    this.nativeMessage = message;
    if (opts.operation !== undefined) this.operation = opts.operation;
    if (opts.path !== undefined) this.path = opts.path;
  }
}

/** Wraps whatever the native layer threw into a FaissError with context. */
export function toFaissError(err: unknown, operation: string, path?: string): FaissError {
  if (err instanceof FaissError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const raw = (err as { code?: unknown } | null)?.code;
  const code: FaissErrorCode = typeof raw === 'string' && CODES.has(raw) ? (raw as FaissErrorCode) : 'ERR_FAISS';
  return new FaissError(message, { code, operation, path, cause: err });
}

export function invalidArg(operation: string, message: string): FaissError {
  return new FaissError(message, { code: 'ERR_INVALID_ARG', operation });
}
