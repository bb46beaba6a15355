/**
 * The best `k` of `count` candidate ordinals by `scores[ordinal]`: higher score first, equal
 * scores by lower ordinal (so results are deterministic). A size-k min-heap: O(n log k), and no
 * sort of all candidates.
 */
export function topK(
  scores: Float32Array,
  candidates: Uint32Array,
  count: number,
  k: number,
): { ordinals: Uint32Array; scores: Float32Array } {
  const size = Math.max(0, Math.min(k, count));
  const heapOrd = new Uint32Array(size);
  const heapScore = new Float32Array(size);
  let n = 0;

  // `a` ranks below `b`: the heap keeps the worst kept candidate at its root.
  const worse = (sa: number, oa: number, sb: number, ob: number) => sa < sb || (sa === sb && oa > ob);

  const siftDown = (i: number) => {
    const o = heapOrd[i];
    const s = heapScore[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && worse(heapScore[r], heapOrd[r], heapScore[l], heapOrd[l]) ? r : l;
      if (!worse(heapScore[c], heapOrd[c], s, o)) break;
      heapOrd[i] = heapOrd[c];
      heapScore[i] = heapScore[c];
      i = c;
    }
    heapOrd[i] = o;
    heapScore[i] = s;
  };

  for (let j = 0; j < count && size > 0; j++) {
    const o = candidates[j];
    const s = scores[o];
    if (n < size) {
      // Sift up.
      let i = n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(s, o, heapScore[p], heapOrd[p])) break;
        heapOrd[i] = heapOrd[p];
        heapScore[i] = heapScore[p];
        i = p;
      }
      heapOrd[i] = o;
      heapScore[i] = s;
    } else if (worse(heapScore[0], heapOrd[0], s, o)) {
      heapOrd[0] = o;
      heapScore[0] = s;
      siftDown(0);
    }
  }

  // Pop the worst into the back: the arrays come out best first.
  const outOrd = new Uint32Array(n);
  const outScore = new Float32Array(n);
  for (let i = n - 1; i >= 0; i--) {
    outOrd[i] = heapOrd[0];
    outScore[i] = heapScore[0];
    n--;
    heapOrd[0] = heapOrd[n];
    heapScore[0] = heapScore[n];
    siftDown(0);
  }
  return { ordinals: outOrd, scores: outScore };
}
