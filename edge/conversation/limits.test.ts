// The size rules of a stored turn: UTF-8 bytes, cuts between code points, and refusals that name
// the setting; conversation ids of 192 random bits.
import { describe, expect, it } from 'vitest';
import { CONVERSATION_ID_PATTERN, MAX_RESPONSE_CHARS } from '../../shared/api/index.ts';
import { cutToFit, newConversationId, newTurnError, responseError, responseRoom, utf8Bytes } from './limits.ts';

const limits = { ttlS: 60, maxTurns: 3, maxTurnBytes: 100, maxBytes: 250 };

describe('stored turn limits', () => {
  it('counts UTF-8 bytes', () => {
    expect([utf8Bytes('a'), utf8Bytes('é'), utf8Bytes('検'), utf8Bytes('😀'), utf8Bytes('')]).toEqual([1, 2, 3, 4, 0]);
  });

  it('cuts to fit between code points, by bytes and by characters', () => {
    expect(cutToFit('abcdef', 4)).toBe('abcd');
    expect(cutToFit('ab😀c', 5)).toBe('ab'); // the emoji would need 4 more
    expect(cutToFit('ab😀c', 6)).toBe('ab😀');
    expect(cutToFit('é検😀', 100, 2)).toBe('é検');
    expect(cutToFit('abc', 0)).toBe('');
    expect(cutToFit('x'.repeat(MAX_RESPONSE_CHARS + 10), 1e6)).toHaveLength(MAX_RESPONSE_CHARS);
    const cut = cutToFit('😀'.repeat(5000), 1e6);
    expect([...cut].length).toBe(MAX_RESPONSE_CHARS);
    expect(cut.length).toBe(2 * MAX_RESPONSE_CHARS); // never half a surrogate pair
  });

  it('refuses a new turn past each limit, naming it', () => {
    expect(newTurnError(limits, 2, 200, 50)).toBeUndefined();
    expect(newTurnError(limits, 3, 0, 1)).toMatchObject({ status: 413, code: 'payload_too_large', message: expect.stringContaining('CONVERSATION_MAX_TURNS 3') });
    expect(newTurnError(limits, 0, 0, 101)).toMatchObject({ status: 413, field: 'query', message: expect.stringContaining('CONVERSATION_MAX_TURN_BYTES 100') });
    expect(newTurnError(limits, 2, 200, 51)).toMatchObject({ status: 413, field: 'query', message: expect.stringContaining('CONVERSATION_MAX_BYTES 250') });
  });

  it('refuses a recorded response past a turn’s or the conversation’s limit, counting a replaced one out', () => {
    expect(responseError(limits, 150, 20, 0, 80)).toBeUndefined();
    expect(responseError(limits, 150, 20, 0, 81)).toMatchObject({ field: 'response', message: expect.stringContaining('CONVERSATION_MAX_TURN_BYTES 100') });
    expect(responseError(limits, 240, 20, 0, 11)).toMatchObject({ field: 'response', message: expect.stringContaining('CONVERSATION_MAX_BYTES 250') });
    expect(responseError(limits, 240, 20, 70, 80)).toBeUndefined(); // replaces 70 bytes
  });

  it('leaves a recorded response the room its turn and the conversation have', () => {
    expect(responseRoom(limits, 0, 20)).toBe(80);
    expect(responseRoom(limits, 200, 20)).toBe(30);
    expect(responseRoom(limits, 240, 20)).toBe(0);
  });

  it('makes unguessable ids in the documented format', () => {
    const ids = Array.from({ length: 200 }, newConversationId);
    for (const id of ids) expect(id).toMatch(CONVERSATION_ID_PATTERN);
    expect(new Set(ids).size).toBe(200);
  });
});
