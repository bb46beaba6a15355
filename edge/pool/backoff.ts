// Retry backoff for every retry loop of the edge: "full jitter" (AWS architecture blog), a
// uniform draw up to base × 2^attempt, which spreads the retries of many isolates apart.

/** The wait before retry number `attempt` (0 for the first retry), capped at base × 64. */
export function fullJitterBackoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  return random() * baseMs * 2 ** Math.min(attempt, 6);
}
