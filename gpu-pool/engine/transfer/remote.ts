// What pull and push need of a place that holds index versions: ranged reads, and uploads.

/** One read of an object, from `start` (0 when the server ignored the requested range). */
export interface RemoteRead {
  start: number;
  /** Size of the whole object when the server said. */
  total?: number;
  body: AsyncIterable<Uint8Array>;
  /** Stops the transfer (closes the connection or stream). */
  abort(): void;
}

/**
 * Reads objects by key (a path relative to the version's prefix, `/`-separated). Throws
 * NotFoundError for a missing object, TransferError for other answers that a retry cannot fix,
 * and any other error for what a retry may fix (a dropped connection, a 5xx).
 */
export interface Source {
  describe(key: string): string;
  read(key: string, start: number): Promise<RemoteRead>;
  close?(): void;
}

export interface Expected {
  bytes: number;
  sha256: string;
}

/** Writes objects by key under a version's prefix. */
export interface Sink {
  describe(key: string): string;
  /** Whether the object is there already with these contents (so a rerun skips it). */
  has(key: string, expected: Expected): Promise<boolean>;
  put(key: string, path: string, expected: Expected): Promise<void>;
  close?(): void;
}
