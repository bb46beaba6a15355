/** Where in an input file something is wrong; every reader reports problems this way. */
export interface InputLocation {
  file: string;
  /** 1-based line number, when the format has lines worth naming. */
  line?: number;
  /** The record field at fault (e.g. `_id`), when one is. */
  field?: string;
}

/**
 * Bad input data (not a bug): a malformed record, a missing field, bytes that are not UTF-8.
 * The message starts with `file:line` so a user can jump straight to the offending record.
 */
export class InputError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly field?: string;

  constructor(message: string, where: InputLocation, options?: { cause?: unknown }) {
    const position = where.line === undefined ? where.file : `${where.file}:${where.line}`;
    const field = where.field === undefined ? '' : `field "${where.field}": `;
    super(`${position}: ${field}${message}`, options);
    this.name = 'InputError';
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
  }
}
