/**
 * Softmax / log-softmax over the last axis of a contiguous [rows, len] tensor, one workgroup of 256
 * per row, three passes over the row (max, Σ exp(x − max), write): numerically stable for any logits.
 * The backward kernel computes dx = y ⊙ (g − Σ g⊙y) (softmax) or dx = g − exp(y)·Σ g (log-softmax)
 * in one launch, instead of four composed ops.
 */
import { ROW_INDEX, SPECIALS } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

const TREE = (op: string) => `
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { sv[lid] = ${op}; }
    workgroupBarrier();
  }`;

export function softmaxKernel(log: boolean): KernelSpec {
  return {
    key: `softmax/${log ? 'log' : 'plain'}`,
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
${ROW_INDEX}
${SPECIALS}
struct Params { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
var<workgroup> sv: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.len;
  var m = neg_inf();
  for (var j = lid; j < p.len; j += 256u) { m = max(m, xs[base + j]); }
  sv[lid] = m;
  ${TREE('max(sv[lid], sv[lid + s])')}
  let rowMax = sv[0];
  workgroupBarrier();
  var acc = 0.0;
  for (var j = lid; j < p.len; j += 256u) { acc += exp(xs[base + j] - rowMax); }
  sv[lid] = acc;
  ${TREE('sv[lid] + sv[lid + s]')}
  let total = sv[0];
  ${log ? 'let lse = log(total);' : 'let inv = 1.0 / total;'}
  for (var j = lid; j < p.len; j += 256u) {
    ${log ? 'ys[base + j] = xs[base + j] - rowMax - lse;' : 'ys[base + j] = exp(xs[base + j] - rowMax) * inv;'}
  }
}`,
  };
}

export function softmaxBackwardKernel(log: boolean): KernelSpec {
  return {
    key: `softmax-backward/${log ? 'log' : 'plain'}`,
    inputs: 2,
    outputs: 1,
    code: () => /* wgsl */ `
${ROW_INDEX}
struct Params { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ys: array<f32>;
@group(0) @binding(2) var<storage, read> gs: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
var<workgroup> sv: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.len;
  var acc = 0.0;
  for (var j = lid; j < p.len; j += 256u) { acc += ${log ? 'gs[base + j]' : 'gs[base + j] * ys[base + j]'}; }
  sv[lid] = acc;
  ${TREE('sv[lid] + sv[lid + s]')}
  let dot = sv[0];
  for (var j = lid; j < p.len; j += 256u) {
    ${log ? 'dx[base + j] = gs[base + j] - exp(ys[base + j]) * dot;' : 'dx[base + j] = ys[base + j] * (gs[base + j] - dot);'}
  }
}`,
  };
}
