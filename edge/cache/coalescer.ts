// Concurrent identical misses share one pool call: the first starts it, the others wait for
// the same promise. A failure is forgotten at once; a success is kept until `retain(value)`
// settles (the cache write), so a request arriving between the answer and the write does not
// miss the cache and call the pool again.
export class Coalescer<T> {
  private readonly pending = new Map<string, Promise<T>>();
  coalesced = 0;

  run(key: string, start: () => Promise<T>, retain?: (value: T) => Promise<unknown>): { promise: Promise<T>; leader: boolean } {
    const existing = this.pending.get(key);
    if (existing) {
      this.coalesced++;
      return { promise: existing, leader: false };
    }
    const promise = start();
    this.pending.set(key, promise);
    const forget = () => {
      if (this.pending.get(key) === promise) this.pending.delete(key);
    };
    promise.then((value) => (retain ? retain(value).then(forget, forget) : forget()), forget);
    return { promise, leader: true };
  }

  get size(): number {
    return this.pending.size;
  }
}
