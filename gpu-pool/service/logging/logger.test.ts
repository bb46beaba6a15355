import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, type LoggerOptions } from './index.ts';

function capture(options: Omit<LoggerOptions, 'write'>) {
  const lines: string[] = [];
  const logger = createLogger({ env: {}, ...options, write: (line) => lines.push(line) });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-03-01T12:00:00.000Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes one JSON object per line with time, level, name, msg and fields', () => {
    const { logger, lines } = capture({ name: 'pool' });
    logger.info('shard loaded', { shard: 3, ms: 12.5 });
    expect(lines).toEqual(['{"time":"2025-03-01T12:00:00.000Z","level":"info","name":"pool","msg":"shard loaded","shard":3,"ms":12.5}']);
  });

  it('drops levels below the threshold', () => {
    const { logger, records } = capture({ name: 'pool', level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(records().map((r) => [r.level, r.msg])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
    ]);
    expect(logger.enabled('info')).toBe(false);
    expect(logger.enabled('error')).toBe(true);
  });

  it('defaults to info', () => {
    const { logger, records } = capture({ name: 'pool' });
    logger.debug('hidden');
    logger.info('shown');
    expect(records().map((r) => r.msg)).toEqual(['shown']);
    expect(logger.level).toBe('info');
  });

  it('takes the level from EDGESEARCH_LOG_LEVEL when none is passed', () => {
    const { logger, records } = capture({ name: 'pool', env: { EDGESEARCH_LOG_LEVEL: 'DEBUG' } });
    logger.debug('now visible');
    expect(records().map((r) => r.msg)).toEqual(['now visible']);
    expect(logger.level).toBe('debug');
    // An explicit level wins over the environment.
    expect(capture({ name: 'pool', level: 'error', env: { EDGESEARCH_LOG_LEVEL: 'debug' } }).logger.level).toBe('error');
    expect(() => capture({ name: 'pool', env: { EDGESEARCH_LOG_LEVEL: 'verbose' } })).toThrow(/EDGESEARCH_LOG_LEVEL/);
  });

  it('reads process.env by default', () => {
    vi.stubEnv('EDGESEARCH_LOG_LEVEL', 'error');
    try {
      const lines: string[] = [];
      const logger = createLogger({ name: 'pool', write: (l) => lines.push(l) });
      logger.warn('hidden');
      logger.error('shown');
      expect(lines).toHaveLength(1);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('silent writes nothing', () => {
    const { logger, lines } = capture({ name: 'pool', level: 'silent' });
    logger.error('nope');
    expect(lines).toEqual([]);
  });

  it('child loggers merge their fields into every line', () => {
    const { logger, records } = capture({ name: 'router', base: { node: 'pool-1' } });
    const req = logger.child({ requestId: 'r-42' });
    const shard = req.child({ shard: 2, node: 'pool-1b' });
    req.info('admitted', { batch: 8 });
    shard.warn('slow shard');
    logger.info('parent unaffected');
    expect(records().map(({ time: _t, ...r }) => r)).toEqual([
      { level: 'info', name: 'router', msg: 'admitted', node: 'pool-1', requestId: 'r-42', batch: 8 },
      { level: 'warn', name: 'router', msg: 'slow shard', node: 'pool-1b', requestId: 'r-42', shard: 2 },
      { level: 'info', name: 'router', msg: 'parent unaffected', node: 'pool-1' },
    ]);
  });

  it('serializes Error values as message, code and stack', () => {
    const { logger, records } = capture({ name: 'pool' });
    const err = Object.assign(new Error('shard 3 unreachable'), { code: 'ECONNREFUSED' });
    logger.error('fan-out failed', { err, nested: { cause: new TypeError('bad') } });
    const [r] = records();
    expect(r!.err).toEqual({ message: 'shard 3 unreachable', code: 'ECONNREFUSED', stack: err.stack });
    expect((r!.err as { stack: string }).stack).toContain('shard 3 unreachable');
    expect((r!.nested as { cause: { message: string; code?: unknown } }).cause.message).toBe('bad');
    expect((r!.nested as { cause: { code?: unknown } }).cause).not.toHaveProperty('code');
  });

  it('keeps the core keys authoritative over colliding fields', () => {
    const { logger, records } = capture({ name: 'pool' });
    logger.info('real message', { msg: 'field msg', level: 'fake' });
    const [r] = records();
    expect(r).toMatchObject({ msg: 'real message', level: 'info', _msg: 'field msg', _level: 'fake' });
  });

  it('never throws on fields JSON cannot represent', () => {
    const { logger, records } = capture({ name: 'pool' });
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    logger.info('circular', { loop });
    logger.info('bigint', { n: 2n ** 70n });
    const [a, b] = records();
    expect(a).toMatchObject({ msg: 'circular' });
    expect(a!.logError).toMatch(/not serializable/);
    expect(b!.n).toBe('1180591620717411303424');
  });

  it('writes to stderr with a trailing newline by default', () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      createLogger({ name: 'pool', level: 'info' }).info('hello');
      expect(spy).toHaveBeenCalledTimes(1);
      const text = String(spy.mock.calls[0]![0]);
      expect(text.endsWith('\n')).toBe(true);
      expect(JSON.parse(text)).toMatchObject({ name: 'pool', msg: 'hello' });
    } finally {
      spy.mockRestore();
    }
  });
});
