/**
 * Global gradient-norm clipping without a host round trip, in three kernels:
 *
 * 1. `sumsq`, once per gradient: workgroup k of that gradient's launch squares and sums its chunk of
 *    CHUNK elements (a cascaded strided sum per thread, then a shared-memory tree) into
 *    partials[slot + k]. Every gradient owns a disjoint range of slots of one buffer.
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

export function sumsqKernel(): KernelSpec {
  return {
    key: 'clip/sumsq',
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
${ROW_INDEX}
struct Params { n: u32, slot: u32, chunk: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
var<workgroup> sv: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = rowIndex(wid, nwg);
  let base = k * p.chunk;
  let len = min(p.chunk, p.n - min(base, p.n));
  ${cascadeSum('acc', 'g[base + j] * g[base + j]', 'lid', '256u', 'len')}
  ${TREE}
  if (lid == 0u && base < p.n) { partials[p.slot + k] = sv[0]; }
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
