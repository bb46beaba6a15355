// Validation at the API boundary with one error style: the first problem as a 400 `bad_request`
// whose `field` is the dotted path of the field at fault (an unknown field included) and whose
// message is in the API's words ("k: must be at most 100"), whether the check's wording comes
// from our schemas or from a zod default, which is replaced here.
import type { z } from 'zod';
import { ApiError } from './errors.ts';

type Issue = z.core.$ZodRawIssue;

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function limit(origin: string, bound: number | bigint, inclusive: boolean | undefined, dir: 'least' | 'most'): string {
  const n = Number(bound);
  switch (origin) {
    case 'string':
      return `must be at ${dir} ${n} character${n === 1 ? '' : 's'}`;
    case 'array':
    case 'set':
      return `must hold at ${dir} ${n} item${n === 1 ? '' : 's'}`;
    default:
      if (inclusive === false) return `must be ${dir === 'least' ? 'greater' : 'less'} than ${n}`;
      return `must be at ${dir} ${n}`;
  }
}

/** The message of a zod issue whose schema gave none of its own, in the API's words. */
export function issueMessage(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${NOUNS[issue.expected] ?? issue.expected}`;
    case 'too_small':
      return limit(issue.origin, issue.minimum, issue.inclusive, 'least');
    case 'too_big':
      return limit(issue.origin, issue.maximum, issue.inclusive, 'most');
    case 'invalid_value':
      // A missing field of an enum (rerank.method) is missing, not a wrong value.
      if (issue.input === undefined) return 'is required';
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return 'is not a known field';
    case 'invalid_format':
      return `must be ${issue.format === 'regex' ? 'in the documented format' : `a valid ${issue.format}`}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_union':
      return 'does not match any of the allowed shapes';
    default:
      return 'is not valid';
  }
}

/** The first issue of a failed parse as the API's 400: the field's path and what is wrong with it. */
export function validationError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  const path = issue.path.map(String);
  // An unknown key is reported at its own path, not at the object that holds it.
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]);
  const field = path.join('.');
  // A size limit (of a context, a response): 413, naming the limit.
  if (issue.code === 'custom' && (issue.params as { status?: number } | undefined)?.status === 413) {
    return new ApiError('payload_too_large', field ? `${field}: ${issue.message}` : `the request body ${issue.message}`, field || undefined);
  }
  return new ApiError('bad_request', field ? `${field}: ${issue.message}` : `the request body ${issue.message}`, field || undefined);
}

/** Parses `value` with `schema`, or throws the API's 400 naming the field at fault. */
export function parseRequest<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value, { error: issueMessage });
  if (parsed.success) return parsed.data;
  throw validationError(parsed.error);
}
