import { z } from 'zod';
import { InputError } from './errors.ts';

/** JSON.parse of one line, as an InputError naming the line when it is not JSON. */
export function parseJsonLine(text: string, file: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`malformed JSON: ${(err as Error).message}`, { file, line }, { cause: err });
  }
}

/** Validates one record, naming the first bad field (e.g. `_id`) and the line. */
export function parseRecord<T>(schema: z.ZodType<T>, value: unknown, file: string, line: number): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
  return fail(issue.message, { file, line, field });
}

function fail(message: string, where: { file: string; line: number; field?: string }): never {
  throw new InputError(message, where);
}

/** Ids must be unique within a file: a duplicate would silently shadow a document or query. */
export class IdSet {
  private readonly seen = new Set<string>();

  add(id: string, file: string, line: number, field: string): void {
    if (this.seen.has(id)) throw new InputError(`duplicate id ${JSON.stringify(id)}`, { file, line, field });
    this.seen.add(id);
  }
}
