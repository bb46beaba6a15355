import { pipeline, type Writable } from 'node:stream';
import Parser from 'stream-json/Parser.js';
import Pick from 'stream-json/filters/Pick.js';
import StreamArray from 'stream-json/streamers/StreamArray.js';
import { InputError } from './errors.ts';
import { readPieces } from './lines.ts';

const LF = new Uint8Array([0x0a]);

/**
 * The elements of a JSON file's top-level `data` array (SQuAD / DensePhrases layout), one at a
 * time: only the element being assembled is in memory, never the whole file.
 *
 * The file is fed to stream-json a line (or a 64 KiB slice of a long line) at a time, and the
 * next slice is written only after the parser has taken the previous one, so a syntax error or
 * invalid UTF-8 is reported with the line it is on. (Errors found after the parser, e.g. `data`
 * not being an array, carry the line being read at that moment, which is close.)
 */
export async function* readJsonDataArray(file: string): AsyncGenerator<{ index: number; value: unknown }> {
  // Packed values only: half the tokens of the default, and the assembler needs nothing more.
  const parser = new Parser({ packValues: true, streamValues: false, decodeStrings: false } as Parser.ParserOptions);
  let sawData = false;
  const picker = new Pick({
    filter: (stack: readonly (string | number | null)[]) => {
      const hit = stack.length === 1 && stack[0] === 'data';
      if (hit) sawData = true;
      return hit;
    },
  });
  const elements = new StreamArray();
  // Errors are taken from the iterator below; the callback only keeps pipeline from throwing.
  pipeline(parser, picker, elements, () => {});

  let line = 1;
  let failure: unknown;
  const feeding = (async () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    try {
      for await (const piece of readPieces(file)) {
        line = piece.line;
        let text: string;
        try {
          text = decoder.decode(piece.bytes, { stream: true });
          if (piece.endsLine) text += decoder.decode(LF, { stream: true });
        } catch (err) {
          throw new InputError('not valid UTF-8', { file, line }, { cause: err });
        }
        if (text.length > 0) await write(parser, text);
      }
      try {
        decoder.decode();
      } catch (err) {
        throw new InputError('not valid UTF-8 (truncated character at end of file)', { file, line }, { cause: err });
      }
      parser.end();
    } catch (err) {
      failure ??= err instanceof InputError ? err : describe(err, file, line);
      parser.destroy(failure as Error);
    }
  })();

  try {
    for await (const { key, value } of elements as AsyncIterable<{ key: number; value: unknown }>) {
      yield { index: key, value };
    }
  } catch (err) {
    await feeding;
    throw failure ?? describe(err, file, line);
  } finally {
    // Stopping early (or failing) must close the file; destroying the head of the pipeline does.
    if (!parser.destroyed && !parser.writableFinished) parser.destroy();
    await feeding;
  }
  if (!sawData) throw new InputError('no top-level "data" array', { file, field: 'data' });
}

function describe(err: unknown, file: string, line: number): InputError {
  const message = err instanceof Error ? err.message : String(err);
  const field = /Top-level object should be an array/.test(message) ? 'data' : undefined;
  // stream-json says "Parser has expected ..." when the input ends early.
  const what = field ? '"data" is not an array' : /^Parser has expected/.test(message) ? `invalid JSON: unexpected end of file (${message})` : `invalid JSON: ${message}`;
  return new InputError(what, { file, line, field }, { cause: err });
}

/** Resolves once the stream has consumed `chunk`; rejects if it fails or is torn down meanwhile. */
function write(stream: Writable, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed) return reject(stream.errored ?? new Error('stream closed'));
    const onClose = () => reject(stream.errored ?? new Error('stream closed'));
    stream.once('close', onClose);
    stream.write(chunk, (err) => {
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    });
  });
}
