/** A transfer that cannot succeed as asked (bad URL, missing object, corrupted file): not retried. */
export class TransferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransferError';
  }
}

/** The object does not exist at the source (HTTP 404, S3 NoSuchKey, no such file). */
export class NotFoundError extends TransferError {
  constructor(readonly url: string) {
    super(`not found: ${url}`);
    this.name = 'NotFoundError';
  }
}

/** A downloaded file whose sha256 is not the one its manifest records. */
export class CorruptFileError extends TransferError {
  constructor(
    readonly file: string,
    readonly url: string,
    readonly expected: { bytes: number; sha256: string },
    readonly actual: { bytes: number; sha256: string },
  ) {
    super(
      `${file}: checksum mismatch: downloaded sha256 ${actual.sha256} (${actual.bytes} bytes), manifest says sha256 ${expected.sha256} (${expected.bytes} bytes); ` +
        `the copy at ${url} is corrupted: refused, nothing published`,
    );
    this.name = 'CorruptFileError';
  }
}
