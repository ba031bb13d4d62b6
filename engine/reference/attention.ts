/**
 * Scaled-dot-product attention in f64, the oracle of the fused kernels: o = softmax(q·kᵀ·scale)·v
 * over q [..., Tq, D], k and v [..., Tk, D] (leading axes are batch/heads), scale = 1/√D by default.
 */
import type { RefTensor } from './ref.ts';

interface Dims {
  batch: number;
  tq: number;
  tk: number;
  d: number;
  scale: number;
}

function dims(q: RefTensor, k: RefTensor, scale?: number): Dims {
  const r = q.shape.length;
  const d = q.shape[r - 1],
    tq = q.shape[r - 2],
    tk = k.shape[k.shape.length - 2];
  const batch = q.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { batch, tq, tk, d, scale: scale ?? 1 / Math.sqrt(d) };
}

/** P = softmax(q kᵀ·scale) of batch b as rows of Tk, and each row's log-sum-exp. */
function probs(q: RefTensor, k: RefTensor, b: number, { tq, tk, d, scale }: Dims): { p: Float64Array; lse: Float64Array } {
  const p = new Float64Array(tq * tk),
    lse = new Float64Array(tq);
  for (let i = 0; i < tq; i++) {
    let m = -Infinity;
    for (let j = 0; j < tk; j++) {
      let s = 0;
      for (let e = 0; e < d; e++) s += q.data[(b * tq + i) * d + e] * k.data[(b * tk + j) * d + e];
      p[i * tk + j] = s * scale;
      m = Math.max(m, s * scale);
    }
    let sum = 0;
    for (let j = 0; j < tk; j++) sum += Math.exp(p[i * tk + j] - m);
    lse[i] = m + Math.log(sum);
    for (let j = 0; j < tk; j++) p[i * tk + j] = Math.exp(p[i * tk + j] - lse[i]);
  }
  return { p, lse };
}

/**
 * softmax(q kᵀ·scale) v, with the log-sum-exp of each row of logits (shape [..., Tq]) that the
 * fused kernel saves for backward.
 */
export function attention(q: RefTensor, k: RefTensor, v: RefTensor, scale?: number): RefTensor & { lse: RefTensor } {
  const dm = dims(q, k, scale);
  const { batch, tq, tk, d } = dm;
  const out = new Float64Array(batch * tq * d),
    lse = new Float64Array(batch * tq);
  for (let b = 0; b < batch; b++) {
    const { p, lse: l } = probs(q, k, b, dm);
    lse.set(l, b * tq);
    for (let i = 0; i < tq; i++)
      for (let e = 0; e < d; e++) {
        let s = 0;
        for (let j = 0; j < tk; j++) s += p[i * tk + j] * v.data[(b * tk + j) * d + e];
        out[(b * tq + i) * d + e] = s;
      }
  }
  return { shape: [...q.shape], data: out, lse: { shape: q.shape.slice(0, -1), data: lse } };
}

export interface AttentionGrads {
  dq: RefTensor;
  dk: RefTensor;
  dv: RefTensor;
  /**
   * Per element, the sum of the magnitudes of every product that enters it (with no cancellation
   * in dP − Dᵢ, and |oᵢ| replaced by Σⱼ Pᵢⱼ|vⱼ|): the scale of the f32 rounding-error bounds the
   * kernel tests use, like matmul's absProd.
   */
  absDq: Float64Array;
  absDk: Float64Array;
  absDv: Float64Array;
}

/**
 * Gradients of Σ dO ∘ attention(q, k, v) with respect to q, k and v:
 * dV = Pᵀ dO, dP = dO vᵀ, dS = P ∘ (dP − rowsum(dO ∘ o)), dQ = dS k·scale, dK = dSᵀ q·scale.
 */
export function attentionBackward(q: RefTensor, k: RefTensor, v: RefTensor, dO: RefTensor, scale?: number): AttentionGrads {
  const dm = dims(q, k, scale);
  const { batch, tq, tk, d, scale: sc } = dm;
  const o = attention(q, k, v, scale);
  const dq = new Float64Array(q.data.length),
    dk = new Float64Array(k.data.length),
    dv = new Float64Array(v.data.length);
  const aq = new Float64Array(q.data.length),
    ak = new Float64Array(k.data.length),
    av = new Float64Array(v.data.length);
  const Q = (b: number, i: number, e: number) => (b * tq + i) * d + e;
  const K = (b: number, j: number, e: number) => (b * tk + j) * d + e;
  for (let b = 0; b < batch; b++) {
    const { p } = probs(q, k, b, dm);
    for (let i = 0; i < tq; i++) {
      // Dᵢ = dOᵢ·oᵢ; its magnitude scale uses Σⱼ Pᵢⱼ|vⱼ| ≥ |oᵢ|, the scale of oᵢ's own error.
      let delta = 0,
        absDelta = 0;
      for (let e = 0; e < d; e++) {
        let absO = 0;
        for (let j = 0; j < tk; j++) absO += p[i * tk + j] * Math.abs(v.data[K(b, j, e)]);
        delta += dO.data[Q(b, i, e)] * o.data[Q(b, i, e)];
        absDelta += Math.abs(dO.data[Q(b, i, e)]) * absO;
      }
      for (let j = 0; j < tk; j++) {
        const pij = p[i * tk + j];
        let dp = 0,
          absDp = 0;
        for (let e = 0; e < d; e++) {
          dp += dO.data[Q(b, i, e)] * v.data[K(b, j, e)];
          absDp += Math.abs(dO.data[Q(b, i, e)] * v.data[K(b, j, e)]);
        }
        const ds = pij * (dp - delta),
          absDs = pij * (absDp + absDelta);
        for (let e = 0; e < d; e++) {
          dv[K(b, j, e)] += pij * dO.data[Q(b, i, e)];
          av[K(b, j, e)] += pij * Math.abs(dO.data[Q(b, i, e)]);
          dq[Q(b, i, e)] += ds * k.data[K(b, j, e)] * sc;
          aq[Q(b, i, e)] += absDs * Math.abs(k.data[K(b, j, e)] * sc);
          dk[K(b, j, e)] += ds * q.data[Q(b, i, e)] * sc;
          ak[K(b, j, e)] += absDs * Math.abs(q.data[Q(b, i, e)] * sc);
        }
      }
    }
  }
  return {
    dq: { shape: [...q.shape], data: dq },
    dk: { shape: [...k.shape], data: dk },
    dv: { shape: [...v.shape], data: dv },
    absDq: aq,
    absDk: ak,
    absDv: av,
  };
}
