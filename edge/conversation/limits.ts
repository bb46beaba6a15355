// The size rules of a stored conversation, pure so they are tested beside the code: UTF-8 bytes
// of a turn and of all turns, checked before a turn is searched (its query) and when a response
// is recorded; an automatic response (record: "top") is cut to fit instead of refused.
import { MAX_RESPONSE_CHARS } from '../../shared/api/index.ts';
import type { ConversationSettings } from '../config/index.ts';

const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** UTF-8 bytes of one code point (a lone surrogate is written as U+FFFD, 3 bytes). */
function codePointBytes(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes and `maxChars` characters, cut between code points. */
export function cutToFit(text: string, maxBytes: number, maxChars: number = MAX_RESPONSE_CHARS): string {
  let bytes = 0;
  let chars = 0;
  let end = 0;
  for (const ch of text) {
    const b = codePointBytes(ch.codePointAt(0)!);
    if (chars + 1 > maxChars || bytes + b > maxBytes) break;
    bytes += b;
    chars += 1;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** A refusal for the caller: the API's error code and words (413s name the setting). */
export interface LimitError {
  status: 404 | 409 | 413 | 429;
  code: 'not_found' | 'payload_too_large' | 'rate_limited' | 'internal';
  message: string;
  field?: string;
}

/** Why a new turn of `queryBytes` cannot be stored after `turns` turns of `bytes` bytes, if it cannot. */
export function newTurnError(limits: ConversationSettings, turns: number, bytes: number, queryBytes: number): LimitError | undefined {
  if (turns >= limits.maxTurns) {
    return { status: 413, code: 'payload_too_large', message: `the conversation holds ${turns} turns, the most it may keep (CONVERSATION_MAX_TURNS ${limits.maxTurns}); start a new conversation` };
  }
  if (queryBytes > limits.maxTurnBytes) {
    return { status: 413, code: 'payload_too_large', field: 'query', message: `query: takes ${queryBytes} bytes (UTF-8), more than a stored turn may (CONVERSATION_MAX_TURN_BYTES ${limits.maxTurnBytes})` };
  }
  if (bytes + queryBytes > limits.maxBytes) {
    return {
      status: 413,
      code: 'payload_too_large',
      field: 'query',
      message: `query: the conversation holds ${bytes} bytes; ${queryBytes} more would pass its limit (CONVERSATION_MAX_BYTES ${limits.maxBytes}); start a new conversation`,
    };
  }
  return undefined;
}

/**
 * Why `responseBytes` cannot be recorded for a turn whose query takes `queryBytes`, in a
 * conversation of `bytes` bytes of which the turn's present response takes `oldResponseBytes`.
 */
export function responseError(limits: ConversationSettings, bytes: number, queryBytes: number, oldResponseBytes: number, responseBytes: number): LimitError | undefined {
  if (queryBytes + responseBytes > limits.maxTurnBytes) {
    return {
      status: 413,
      code: 'payload_too_large',
      field: 'response',
      message: `response: takes ${responseBytes} bytes (UTF-8); with its query's ${queryBytes} the turn would pass its limit (CONVERSATION_MAX_TURN_BYTES ${limits.maxTurnBytes})`,
    };
  }
  if (bytes - oldResponseBytes + responseBytes > limits.maxBytes) {
    return {
      status: 413,
      code: 'payload_too_large',
      field: 'response',
      message: `response: takes ${responseBytes} bytes (UTF-8); the conversation would hold ${bytes - oldResponseBytes + responseBytes}, more than its limit (CONVERSATION_MAX_BYTES ${limits.maxBytes})`,
    };
  }
  return undefined;
}

/** The room a recorded response may take in a new turn: what its turn and the conversation have left. */
export function responseRoom(limits: ConversationSettings, bytes: number, queryBytes: number): number {
  return Math.max(0, Math.min(limits.maxTurnBytes - queryBytes, limits.maxBytes - bytes - queryBytes));
}

/** A new conversation id: `c_` and 32 base64url characters (192 random bits). */
export function newConversationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `c_${btoa(bin).replace(/\+/g, '-').replace(/\//g, '_')}`;
}
