/**
 * Runs `task` on every item, at most `concurrency` at once. On the first failure no new item is
 * started (the others finish the one they are on) and that failure is thrown.
 */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await task(item);
      } catch (err) {
        queue.length = 0;
        throw err;
      }
    }
  });
  const failed = (await Promise.allSettled(workers)).find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
