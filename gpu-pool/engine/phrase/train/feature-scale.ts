// Training runs on features divided by a constant: token features by the RMS norm of the training
// paragraphs' token rows, mean question features by the RMS norm of the training questions'.
// use-lite's are ~60 and ~27, so raw logits x Ws · m Qs are ~1600 times the heads' product and
// Adam's lr-sized steps overshoot (the loss climbs back after a couple of epochs at lr 1e-3); at
// unit scale the same lr is a small step. Scores are bilinear, so the scales fold into the heads
// exactly when they are written: (x/sp) Ws · (m/sq) Qs = x (Ws/sp) · m (Qs/sq).
import type { FeatureSet } from '../../colbert/train/index.ts';
import { headViews } from './span-loss.ts';

/** √(mean over rows of ‖row‖²) of the listed items' rows (1 when there are none or all are 0). */
export function rmsNorm(set: FeatureSet, items: Iterable<number>): number {
  let sum = 0;
  let rows = 0;
  for (const i of items) {
    const x = set.view(i);
    for (let k = 0; k < x.length; k++) sum += x[k] * x[k];
    rows += set.rows(i);
  }
  return rows > 0 && sum > 0 ? Math.sqrt(sum / rows) : 1;
}

/** Every row of every item divided by `s`, in place. */
export function divideRows(set: FeatureSet, s: number): void {
  for (let i = 0; i < set.size; i++) {
    const x = set.view(i);
    for (let k = 0; k < x.length; k++) x[k] /= s;
  }
}

/** Heads trained on x/sp and m/sq → heads for raw features (a new array). */
export function foldScales(params: Float32Array, H: number, d: number, sp: number, sq: number): Float32Array {
  const out = params.slice();
  const v = headViews(out, H, d);
  for (const [w, s] of [[v.start, sp], [v.end, sp], [v.queryStart, sq], [v.queryEnd, sq]] as const) for (let k = 0; k < w.length; k++) w[k] /= s;
  return out;
}
