/**
 * Softmax / log-softmax over the last axis of a contiguous [rows, len] tensor, one workgroup of 256
 * per row, three passes over the row (max, Σ exp(x − max), write): numerically stable for any logits.
 * The backward kernel computes dx = y ⊙ (g − Σ g⊙y) (softmax) or dx = g − exp(y)·Σ g (log-softmax)
 * in one launch, instead of four composed ops. With 'subgroups' (key suffix '/sg') the row max and
 * sums go through subgroupReductions (reduce.wgsl.ts) instead of the shared-memory tree.
 */
import { ROW_INDEX, SPECIALS } from './common.ts';
import { subgroupReductions, SUBGROUP_BUILTINS } from './reduce.wgsl.ts';
import type { KernelSpec } from '../../runtime.ts';

const TREE = (op: string) => `
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { sv[lid] = ${op}; }
    workgroupBarrier();
  }`;

/** The workgroup's reduction of `v` into `name`: subgroups, or the shared-memory tree. */
const rowReduce = (sg: boolean, kind: 'max' | 'sum', v: string, name: string) =>
  sg
    ? `let ${name} = wg_${kind}(${v}, sgid, sgs, sid, nsg);`
    : `sv[lid] = ${v};${TREE(kind === 'max' ? 'max(sv[lid], sv[lid + s])' : 'sv[lid] + sv[lid + s]')}
  let ${name} = sv[0];${kind === 'max' ? '\n  workgroupBarrier();' : ''}`;

export function softmaxKernel(log: boolean, sg = false): KernelSpec {
  return {
    key: `softmax/${log ? 'log' : 'plain'}${sg ? '/sg' : ''}`,
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `${sg ? 'enable subgroups;' : ''}
${ROW_INDEX}
${SPECIALS}
struct Params { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
${sg ? subgroupReductions('f32', ['max', 'sum']) : 'var<workgroup> sv: array<f32, 256>;'}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32${sg ? `, ${SUBGROUP_BUILTINS}` : ''}) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.len;
  var m = neg_inf();
  for (var j = lid; j < p.len; j += 256u) { m = max(m, xs[base + j]); }
  ${rowReduce(sg, 'max', 'm', 'rowMax')}
  var acc = 0.0;
  for (var j = lid; j < p.len; j += 256u) { acc += exp(xs[base + j] - rowMax); }
  ${rowReduce(sg, 'sum', 'acc', 'total')}
  ${log ? 'let lse = log(total);' : 'let inv = 1.0 / total;'}
  for (var j = lid; j < p.len; j += 256u) {
    ${log ? 'ys[base + j] = xs[base + j] - rowMax - lse;' : 'ys[base + j] = exp(xs[base + j] - rowMax) * inv;'}
  }
}`,
  };
}

export function softmaxBackwardKernel(log: boolean, sg = false): KernelSpec {
  return {
    key: `softmax-backward/${log ? 'log' : 'plain'}${sg ? '/sg' : ''}`,
    inputs: 2,
    outputs: 1,
    code: () => /* wgsl */ `${sg ? 'enable subgroups;' : ''}
${ROW_INDEX}
struct Params { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ys: array<f32>;
@group(0) @binding(2) var<storage, read> gs: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${sg ? subgroupReductions('f32', ['sum']) : 'var<workgroup> sv: array<f32, 256>;'}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32${sg ? `, ${SUBGROUP_BUILTINS}` : ''}) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.len;
  var acc = 0.0;
  for (var j = lid; j < p.len; j += 256u) { acc += ${log ? 'gs[base + j]' : 'gs[base + j] * ys[base + j]'}; }
  ${rowReduce(sg, 'sum', 'acc', 'dot')}
  for (var j = lid; j < p.len; j += 256u) {
    ${log ? 'dx[base + j] = gs[base + j] - exp(ys[base + j]) * dot;' : 'dx[base + j] = ys[base + j] * (gs[base + j] - dot);'}
  }
}`,
  };
}

/** Rows up to this length run one invocation per row (no barriers; see below). */
export const SOFTMAX_ROW_THREAD_MAX = 256;

/**
 * One invocation per row, three serial passes: for the short rows of attention scores a 256-thread
 * workgroup per row spends its time in barriers on CPU adapters ([16, 2, 27, 27] took ~100 ms on a
 * loaded lavapipe through the workgroup kernel).
 */
export function softmaxRowKernel(log: boolean): KernelSpec {
  return {
    key: `softmax-row/${log ? 'log' : 'plain'}`,
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
${SPECIALS}
struct Params { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.rows) { return; }
  let base = row * p.len;
  var m = neg_inf();
  for (var j = 0u; j < p.len; j++) { m = max(m, xs[base + j]); }
  var total = 0.0;
  for (var j = 0u; j < p.len; j++) { total += exp(xs[base + j] - m); }
  ${log ? 'let lse = log(total);' : 'let inv = 1.0 / total;'}
  for (var j = 0u; j < p.len; j++) {
    ${log ? 'ys[base + j] = xs[base + j] - m - lse;' : 'ys[base + j] = exp(xs[base + j] - m) * inv;'}
  }
}`,
  };
}

export function softmaxRowBackwardKernel(log: boolean): KernelSpec {
  return {
    key: `softmax-row-backward/${log ? 'log' : 'plain'}`,
    inputs: 2,
    outputs: 1,
    code: () => /* wgsl */ `
struct Params { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ys: array<f32>;
@group(0) @binding(2) var<storage, read> gs: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.rows) { return; }
  let base = row * p.len;
  var dot = 0.0;
  for (var j = 0u; j < p.len; j++) { dot += ${log ? 'gs[base + j]' : 'gs[base + j] * ys[base + j]'}; }
  for (var j = 0u; j < p.len; j++) {
    ${log ? 'dx[base + j] = gs[base + j] - exp(ys[base + j]) * dot;' : 'dx[base + j] = ys[base + j] * (gs[base + j] - dot);'}
  }
}`,
  };
}
