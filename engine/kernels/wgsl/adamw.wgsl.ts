/**
 * AdamW for one parameter in one pass (PyTorch's torch.optim.AdamW, single-tensor path):
 *
 *   p ← p·(1 − lr·wd)                 decoupled weight decay
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
 *
 * which is p − lr·m̂/(√v̂ + eps) with m̂, v̂ the bias-corrected moments, in PyTorch's order of
 * operations. The scalars that depend only on the step (1 − lr·wd, lr/(1 − β1^t), 1/√(1 − β2^t))
 * and 1 − β1, 1 − β2 are computed on the host in f64 and rounded once to f32: 1 − β2 evaluated in f32
 * (1 − fround(0.999)) would be off by 1.3e-5 relative.
 *
 * One invocation per element reads g, p, m, v and writes p, m, v: 28 bytes per element, bandwidth
 * bound; a multi-tensor launch would only save dispatch overhead on many small parameters.
 *
 * With `clip` (key 'adamw/clip'), g is first multiplied by clip_grad_norm_'s coefficient
 * min(1, max_norm / (norm + 1e-6)), norm read from a one-element buffer — the same f32 expression
 * as the clip/scale kernel, so the result equals clipping the gradient first, bit for bit.
 */
import { FLAT_INDEX } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

export function adamwKernel(clip = false): KernelSpec {
  return {
    key: clip ? 'adamw/clip' : 'adamw',
    inputs: clip ? 2 : 1,
    outputs: 3,
    code: () => /* wgsl */ `
${FLAT_INDEX}
struct Params { n: u32, decay: f32, beta1: f32, one_m_beta1: f32, beta2: f32, one_m_beta2: f32, step_size: f32, inv_sqrt_bc2: f32, eps: f32, max_norm: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
${clip ? `@group(0) @binding(2) var<storage, read> norm: array<f32>;
` : ''}@group(0) @binding(${clip ? 3 : 2}) var<storage, read_write> w: array<f32>;
@group(0) @binding(${clip ? 4 : 3}) var<storage, read_write> m: array<f32>;
@group(0) @binding(${clip ? 5 : 4}) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let gi = ${clip ? 'g[i] * min(1.0, p.max_norm / (norm[0] + 1e-6))' : 'g[i]'};
  let mi = p.beta1 * m[i] + p.one_m_beta1 * gi;
  let vi = p.beta2 * v[i] + p.one_m_beta2 * (gi * gi);
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) * p.inv_sqrt_bc2 + p.eps;
  w[i] = w[i] * p.decay - p.step_size * (mi / denom);
}`,
  };
}
