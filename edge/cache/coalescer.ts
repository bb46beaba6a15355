// Concurrent identical misses share one pool call: the first starts it, the others wait for
// the same promise. The entry goes away when the call settles, so a failure is not remembered.
export class Coalescer<T> {
  private readonly pending = new Map<string, Promise<T>>();
  coalesced = 0;

  run(key: string, start: () => Promise<T>): { promise: Promise<T>; leader: boolean } {
    const existing = this.pending.get(key);
    if (existing) {
      this.coalesced++;
      return { promise: existing, leader: false };
    }
    const promise = start().finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return { promise, leader: true };
  }

  get size(): number {
    return this.pending.size;
  }
}
