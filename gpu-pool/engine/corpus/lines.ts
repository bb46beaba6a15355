import { createReadStream } from 'node:fs';
import { InputError } from './errors.ts';

const LF = 0x0a;
const CR = 0x0d;

/** A run of bytes from one line: a whole line, or a slice of a line longer than a read chunk. */
export interface Piece {
  /** Bytes without the line feed. A view into the read chunk: copy it to keep it past the next piece. */
  bytes: Uint8Array;
  /** 1-based number of the line these bytes belong to. */
  line: number;
  /** True for the last piece of a line (its line feed, or the end of the file, follows). */
  endsLine: boolean;
}

/**
 * The file's bytes split at line feeds, in chunks of at most `chunkBytes`: memory stays at one
 * chunk however long the file or its lines are. No decoding here, so that callers can report
 * invalid UTF-8 with the line it is on.
 */
export async function* readPieces(file: string, chunkBytes = 1 << 16): AsyncGenerator<Piece> {
  const stream = createReadStream(file, { highWaterMark: chunkBytes });
  let line = 1;
  let open = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      while (start < chunk.length) {
        const lf = chunk.indexOf(LF, start);
        if (lf === -1) {
          open = true;
          yield { bytes: chunk.subarray(start), line, endsLine: false };
          break;
        }
        open = false;
        yield { bytes: chunk.subarray(start, lf), line, endsLine: true };
        line++;
        start = lf + 1;
      }
    }
    // A last line without a line feed still ends.
    if (open) yield { bytes: new Uint8Array(0), line, endsLine: true };
  } catch (err) {
    throw asInputError(err, file);
  } finally {
    stream.destroy();
  }
}

export interface Line {
  /** The line's text without its line ending (LF or CRLF). */
  text: string;
  /** 1-based. */
  line: number;
}

/**
 * The file's lines, decoded strictly as UTF-8 (invalid bytes are an InputError naming the line,
 * never silently replaced by U+FFFD). Memory is bounded by the longest line.
 */
export async function* readLines(file: string): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Uint8Array[] = [];
  for await (const piece of readPieces(file)) {
    if (!piece.endsLine) {
      parts.push(piece.bytes);
      continue;
    }
    let bytes = piece.bytes;
    if (parts.length > 0) {
      parts.push(bytes);
      bytes = Buffer.concat(parts);
      parts = [];
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    yield { text: decodeLine(decoder, bytes, file, piece.line), line: piece.line };
  }
}

function decodeLine(decoder: TextDecoder, bytes: Uint8Array, file: string, line: number): string {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new InputError('not valid UTF-8', { file, line }, { cause: err });
  }
}

/** File-system errors (missing file, a directory, no permission) are the user's input problem too. */
export function asInputError(err: unknown, file: string): unknown {
  if (err instanceof InputError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new InputError(`cannot read (${code}): ${(err as Error).message}`, { file }, { cause: err });
  }
  return err;
}
