/**
 * Global gradient-norm clipping without a host round trip, in three kernels:
 *
 * 1. `sumsq`, once per up to SUMSQ_MAX_GRADS gradients (as many as the adapter's storage-buffer
 *    limit allows beside the partials: 7 under WebGPU's default of 8, 15 on lavapipe): each
 *    workgroup squares and sums one chunk of CHUNK elements of one gradient (a cascaded strided sum
 *    per thread, then a shared-memory tree) into its own slot of one partials buffer. A slot belongs
 *    to one chunk of one gradient whatever the launch it falls in, so the partials — and the norm —
 *    are the same bits for any number of gradients per launch.
 * 2. `norm`, once: one workgroup sums all partials and writes √Σ to a one-element buffer.
 * 3. `scale`, once per gradient: g ← g · min(1, maxNorm / (norm + 1e-6)), reading the norm from that
 *    buffer (PyTorch's clip_grad_norm_ coefficient).
 *
 * Error of the sum of squares: each partial is a cascaded sum of ≤ 64 terms per thread plus a
 * 256-way tree, and the final pass adds the partials the same way, so the relative error stays
 * ≈ (2·16 + 8 + 8 + ⌈slots/256⌉)·u — far below what clipping needs.
 */
import { ROW_INDEX, FLAT_INDEX, cascadeSum } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

/** Elements per workgroup of the sum-of-squares pass (64 per thread). */
export const CLIP_CHUNK = 256 * 64;

const TREE = /* wgsl */ `
  sv[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { sv[lid] = sv[lid] + sv[lid + s]; }
    workgroupBarrier();
  }`;

/** Most gradients one sum-of-squares launch reads (its uniform tables hold 16 entries). */
export const SUMSQ_MAX_GRADS = 16;

/**
 * Sum of squares of `count` gradients in one launch: workgroups [0, end₀) take g0's chunks,
 * [end₀, end₁) g1's, …; workgroup k writes partials[slot + k]. Which gradient depends only on the
 * workgroup id, so the switch is uniform and the barriers of the tree below are legal.
 */
export function sumsqKernel(count = 1): KernelSpec {
  if (!(count >= 1 && count <= SUMSQ_MAX_GRADS)) throw new Error(`sumsqKernel: count ${count} outside [1, ${SUMSQ_MAX_GRADS}]`);
  const grads = Array.from({ length: count }, (_, b) => b);
  const at = (a: string, b: number) => `p.${a}[${b >> 2}][${b & 3}]`;
  return {
    key: `clip/sumsq/x${count}`,
    inputs: count,
    outputs: 1,
    code: () => /* wgsl */ `
${ROW_INDEX}
struct Params { slot: u32, chunk: u32, n: array<vec4u, 4>, end: array<vec4u, 4> }
@group(0) @binding(0) var<uniform> p: Params;
${grads.map((b) => `@group(0) @binding(${b + 1}) var<storage, read> g${b}: array<f32>;`).join('\n')}
@group(0) @binding(${count + 1}) var<storage, read_write> partials: array<f32>;
var<workgroup> sv: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = rowIndex(wid, nwg);
  var acc = 0.0;
  switch (${grads.map((b) => `select(0u, 1u, k >= ${at('end', b)})`).join(' + ')}) {
${grads
  .map(
    (b) => `    case ${b}u: {
      let base = (k - ${b === 0 ? '0u' : at('end', b - 1)}) * p.chunk;
      let len = min(p.chunk, ${at('n', b)} - min(base, ${at('n', b)}));
      ${cascadeSum('a', `g${b}[base + j] * g${b}[base + j]`, 'lid', '256u', 'len')}
      acc = a;
    }`,
  )
  .join('\n')}
    default: {}
  }
  ${TREE}
  if (lid == 0u && k < ${at('end', count - 1)}) { partials[p.slot + k] = sv[0]; }
}`,
  };
}

export function normKernel(): KernelSpec {
  return {
    key: 'clip/norm',
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
struct Params { slots: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> norm: array<f32>;
var<workgroup> sv: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  ${cascadeSum('acc', 'partials[j]', 'lid', '256u', 'p.slots')}
  ${TREE}
  if (lid == 0u) { norm[0] = sqrt(sv[0]); }
}`,
  };
}

export function scaleKernel(): KernelSpec {
  return {
    key: 'clip/scale',
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
${FLAT_INDEX}
struct Params { n: u32, max_norm: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> norm: array<f32>;
@group(0) @binding(2) var<storage, read_write> g: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  g[i] = g[i] * min(1.0, p.max_norm / (norm[0] + 1e-6));
}`,
  };
}
