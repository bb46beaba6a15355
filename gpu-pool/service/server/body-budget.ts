import type http from 'node:http';

/**
 * Request bodies held in memory, all connections together. A node reads a body only after its
 * signature headers passed and the budget had room for it, so slow or large uploads cannot
 * grow the heap beyond this however many connections send them.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.capacity) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

export type BodyRead = { ok: true; body: Uint8Array; release(): void } | { ok: false; refused: 'too-large' | 'budget' };

/**
 * Reads a request body of at most `limit` bytes against `budget`: the declared length (or the
 * limit, for a body without one) is reserved before the first byte is read and held until
 * `release()`. Nothing is read for a refused body; the caller answers and closes.
 */
export function readBody(req: http.IncomingMessage, limit: number, budget: BodyBudget): Promise<BodyRead> {
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  if (declared !== undefined && declared > limit) return Promise.resolve({ ok: false, refused: 'too-large' });
  const reserved = declared ?? limit;
  if (!budget.tryReserve(reserved)) return Promise.resolve({ ok: false, refused: 'budget' });
  let released = false;
  const release = () => {
    if (!released) budget.release(reserved);
    released = true;
  };
  return new Promise<BodyRead>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        release();
        resolve({ ok: false, refused: 'too-large' });
      } else chunks.push(c);
    };
    req.on('data', onData);
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (size <= limit) resolve({ ok: true, body: Buffer.concat(chunks), release });
    });
    req.on('error', (err) => {
      release();
      reject(err);
    });
    // A connection cut mid-body (client gone, request timeout) must give its reservation back.
    req.on('close', () => {
      if (ended) return;
      release();
      reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    });
  });
}
