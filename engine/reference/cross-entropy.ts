/** CPU reference of crossEntropy (engine/ops/cross-entropy.ts): PyTorch's weighted mean, in f64. */
import type { RefTensor } from './ref.ts';

/** Σᵢ w[tᵢ]·(lseᵢ − x[i,tᵢ]) / Σᵢ w[tᵢ] over logits [N,C] and class targets tᵢ (weight: [C] or none). */
export function crossEntropy(logits: RefTensor, target: ArrayLike<number>, weight?: ArrayLike<number>): number {
  const [n, c] = logits.shape;
  let num = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    const row = logits.data.subarray(i * c, (i + 1) * c);
    const m = row.reduce((a, v) => Math.max(a, v), -Infinity);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    const w = weight ? weight[target[i]] : 1;
    num += w * (lse - row[target[i]]);
    den += w;
  }
  return num / den;
}
