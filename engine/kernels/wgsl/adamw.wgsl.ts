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
 * bound. The optimizer launches the multi-tensor twin below (same arithmetic, several parameters a
 * launch: it saves dispatches, ≈ 0.03 ms each to record plus the adapter's per-dispatch cost); this
 * one is the per-parameter path (`foreach: false`) and the reference the twin is tested against.
 *
 * With `clip` (key 'adamw/clip'), g is first multiplied by clip_grad_norm_'s coefficient
 * min(1, max_norm / (norm + 1e-6)), norm read from a one-element buffer — the same f32 expression
 * as the clip/scale kernel, so the result equals clipping the gradient first, bit for bit.
 */
import { FLAT_INDEX, ROW_INDEX } from './common.ts';
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
${
  clip
    ? `@group(0) @binding(2) var<storage, read> norm: array<f32>;
`
    : ''
}@group(0) @binding(${clip ? 3 : 2}) var<storage, read_write> w: array<f32>;
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

/** Most parameters one multi-tensor launch updates (its uniform table holds 8 entries). */
export const ADAMW_MAX_TENSORS = 8;

/**
 * Multi-tensor AdamW: `count` parameters of one group in one launch (key 'adamw/multi/x<count>').
 *
 * Design: a parameter stays its own tensor (its own buffer, as autograd, checkpoints and
 * `model.parameters()` expect) and each launch binds `count` × (g, w, m, v) plus the norm. A flat
 * buffer (parameters as views into one allocation) would allow one launch per group, but tensors
 * here have no offset into their storage, so every op would have to learn one; a parameter table in
 * a storage buffer still needs the data reachable from one binding. Binding several tensors needs
 * 4·count + 1 storage buffers: WebGPU's default limit of 8 allows one parameter per launch (the
 * runtime requests the adapter's own limit: 16 on lavapipe → 3), hence ⌈parameters / count⌉ launches.
 *
 * The table `t[b]` = (elements, end, step_size bits, 1/√(1 − β2^t) bits) per tensor: the step
 * scalars are per parameter because a parameter without a gradient at some step lags behind.
 * Workgroups [end_{b−1}, end_b) update tensor b, 256 elements each, as the single-tensor kernel's
 * grid does; the tensor depends only on the workgroup id, so the switch is uniform. Each element is
 * updated by exactly the single-tensor kernel's f32 expressions in the same order (bit-identical:
 * test/gpu/optim-multi.test.ts).
 */
export function adamwMultiKernel(count: number, clip: boolean): KernelSpec {
  if (!(count >= 1 && count <= ADAMW_MAX_TENSORS)) throw new Error(`adamwMultiKernel: count ${count} outside [1, ${ADAMW_MAX_TENSORS}]`);
  const ts = Array.from({ length: count }, (_, b) => b);
  const gradOf = (b: number) => (clip ? `g${b}[i] * min(1.0, p.max_norm / (norm[0] + 1e-6))` : `g${b}[i]`);
  const out = count + (clip ? 1 : 0) + 1; // first read_write binding
  return {
    key: `adamw/multi/x${count}${clip ? '/clip' : ''}`,
    inputs: count + (clip ? 1 : 0),
    outputs: 3 * count,
    code: () => /* wgsl */ `
${ROW_INDEX}
struct Params { decay: f32, beta1: f32, one_m_beta1: f32, beta2: f32, one_m_beta2: f32, eps: f32, max_norm: f32, pad: u32, t: array<vec4u, ${ADAMW_MAX_TENSORS}> }
@group(0) @binding(0) var<uniform> p: Params;
${ts.map((b) => `@group(0) @binding(${b + 1}) var<storage, read> g${b}: array<f32>;`).join('\n')}
${clip ? `@group(0) @binding(${count + 1}) var<storage, read> norm: array<f32>;` : ''}
${ts
  .map(
    (b) => `@group(0) @binding(${out + 3 * b}) var<storage, read_write> w${b}: array<f32>;
@group(0) @binding(${out + 3 * b + 1}) var<storage, read_write> m${b}: array<f32>;
@group(0) @binding(${out + 3 * b + 2}) var<storage, read_write> v${b}: array<f32>;`,
  )
  .join('\n')}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = rowIndex(wid, nwg);
  switch (${ts.map((b) => `select(0u, 1u, k >= p.t[${b}].y)`).join(' + ')}) {
${ts
  .map(
    (b) => `    case ${b}u: {
      let i = (k - ${b === 0 ? '0u' : `p.t[${b - 1}].y`}) * 256u + lid;
      if (i >= p.t[${b}].x) { return; }
      let step_size = bitcast<f32>(p.t[${b}].z);
      let inv_sqrt_bc2 = bitcast<f32>(p.t[${b}].w);
      let gi = ${gradOf(b)};
      let mi = p.beta1 * m${b}[i] + p.one_m_beta1 * gi;
      let vi = p.beta2 * v${b}[i] + p.one_m_beta2 * (gi * gi);
      m${b}[i] = mi;
      v${b}[i] = vi;
      let denom = sqrt(vi) * inv_sqrt_bc2 + p.eps;
      w${b}[i] = w${b}[i] * p.decay - step_size * (mi / denom);
    }`,
  )
  .join('\n')}
    default: {}
  }
}`,
  };
}
