/**
 * The optimizers' CPU reference: PyTorch's formulas in f64, one parameter (a flat Float64Array)
 * per call, updated in place — the oracle of engine/optim's kernels.
 */

export interface AdamWHyper {
  lr: number;
  wd: number;
  b1: number;
  b2: number;
  eps: number;
}

/**
 * One AdamW step of torch/optim/adamw.py (single-tensor path) at step `step` (1 for the first):
 * decoupled decay p ← p·(1 − lr·wd), then the bias-corrected Adam update. Updates p, m and v.
 */
export function adamwStepRef(
  param: Float64Array,
  grad: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  step: number,
  h: AdamWHyper,
): void {
  const bc1 = 1 - h.b1 ** step,
    bc2 = 1 - h.b2 ** step;
  for (let i = 0; i < param.length; i++) {
    param[i] *= 1 - h.lr * h.wd;
    m[i] = h.b1 * m[i] + (1 - h.b1) * grad[i];
    v[i] = h.b2 * v[i] + (1 - h.b2) * grad[i] * grad[i];
    const mhat = m[i] / bc1,
      vhat = v[i] / bc2;
    param[i] -= (h.lr * mhat) / (Math.sqrt(vhat) + h.eps);
  }
}

export interface SGDHyper {
  lr: number;
  momentum: number;
  dampening: number;
  wd: number;
  nesterov: boolean;
}

/**
 * One SGD step of torch/optim/sgd.py. `buf` is the momentum buffer: null before the first step
 * (it is then created from the first gradient, as PyTorch does). Updates param; returns the buffer.
 */
export function sgdStepRef(param: Float64Array, grad: ArrayLike<number>, buf: Float64Array | null, h: SGDHyper): Float64Array | null {
  const d = Float64Array.from(grad, (gi, i) => gi + h.wd * param[i]);
  if (h.momentum !== 0) {
    if (!buf) buf = Float64Array.from(d);
    else for (let i = 0; i < d.length; i++) buf[i] = h.momentum * buf[i] + (1 - h.dampening) * d[i];
    for (let i = 0; i < d.length; i++) d[i] = h.nesterov ? d[i] + h.momentum * buf[i] : buf[i];
  }
  for (let i = 0; i < d.length; i++) param[i] -= h.lr * d[i];
  return buf;
}

/** The global L2 norm of several gradients (torch.nn.utils.clip_grad_norm_'s total_norm). */
export function gradNormRef(grads: readonly ArrayLike<number>[]): number {
  let s = 0;
  for (const g of grads) {
    let sg = 0;
    for (let i = 0; i < g.length; i++) sg += g[i] * g[i];
    s += sg;
  }
  return Math.sqrt(s);
}

/** clip_grad_norm_: the factor every gradient is multiplied by, maxNorm / (norm + 1e-6) when below 1, else 1. */
export function clipCoefRef(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}
