/**
 * Row reductions over a contiguous [rows, len] view (the op moves reduced axes last first).
 *
 * Versions: one workgroup of 256 threads per row — each thread accumulates a strided slice (a
 * cascaded sum, see common.ts), then a shared-memory tree combines the 256 partials pairwise. The f32
 * error of a sum is then ≤ (32 + ⌈n/65 536⌉ + 8)·u·Σ|x| instead of n·u·Σ|x| for a serial loop, which
 * matters on long rows (≥ 65 536). Kahan compensation was tried first: llvmpipe's fast-math folds it
 * away (a 2²⁰-element row of 0.1 was off by 4.0). Rows of ≤ 32 elements use one thread per row instead (a workgroup
 * per tiny row leaves 255 threads idle).
 */
import { ROW_INDEX, FLAT_INDEX, SPECIALS, cascadeSum } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

export type ReduceKind = 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin' | 'variance';

function ops(kind: ReduceKind, t: string) {
  const isF = t === 'f32';
  const lowest = isF ? 'neg_inf()' : t === 'i32' ? 'i32(-2147483647 - 1)' : '0u';
  const highest = isF ? 'pos_inf()' : t === 'i32' ? '2147483647' : '0xffffffffu';
  const nan = (a: string, b: string) => (isF ? `is_nan(${a}) || is_nan(${b})` : 'false');
  switch (kind) {
    case 'max': return { init: lowest, combine: `select(max(a, b), a + b, ${nan('a', 'b')})` };
    case 'min': return { init: highest, combine: `select(min(a, b), a + b, ${nan('a', 'b')})` };
    default: return { init: `${t}(0)`, combine: 'a + b' };
  }
}

export function reduceKernel(kind: ReduceKind, t: string, perThread: boolean): KernelSpec {
  const outT = kind === 'argmax' || kind === 'argmin' ? 'i32' : t;
  const key = `reduce/${kind}/${t}/${perThread ? 'thread' : 'wg'}`;
  const isArg = kind === 'argmax' || kind === 'argmin';
  const isSum = kind === 'sum' || kind === 'mean' || kind === 'variance';
  const o = ops(kind, t);
  const cascaded = isSum && t === 'f32';
  // Argmax/argmin: NaN wins (like NumPy), then the extreme value, then the lowest index.
  const better = kind === 'argmax' ? '(v > bv) || (is_nan(v) && !is_nan(bv))' : '(v < bv) || (is_nan(v) && !is_nan(bv))';
  const header = /* wgsl */ `${SPECIALS}
struct Params { rows: u32, len: u32, correction: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<${t}>;
@group(0) @binding(2) var<storage, read_write> ys: array<${outT}>;
fn combine(a: ${t}, b: ${t}) -> ${t} { return ${o.combine}; }
`;
  // Serial accumulation of elements j = start, start+step, … of one row.
  const accum = (start: string, step: string) => isArg ? `
  var bv = xs[base + min(${start}, p.len - 1u)]; var bi = min(${start}, p.len - 1u);
  for (var j = ${start}; j < p.len; j += ${step}) { let v = xs[base + j]; if (${better}) { bv = v; bi = j; } }` : cascaded
    ? cascadeSum('acc', 'xs[base + j]', start, step, 'p.len').replace('var acc = 0.0;', 'var acc = f32(0);')
    : `
  var acc = ${o.init};
  for (var j = ${start}; j < p.len; j += ${step}) { acc = combine(acc, xs[base + j]); }`;
  // Variance's second pass: squared deviations from the row mean.
  const deviations = (start: string, step: string) => cascadeSum('dev', '(xs[base + j] - mean) * (xs[base + j] - mean)', start, step, 'p.len');
  const finish = (v: string) => kind === 'mean' ? `${v} / f32(p.len)` : kind === 'variance' ? `${v} / max(f32(p.len) - p.correction, 0.0)` : v;

  if (perThread) {
    return {
      key, inputs: 1, outputs: 1,
      code: () => /* wgsl */ `${header}${FLAT_INDEX}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flatIndex(gid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.len;
  ${accum('0u', '1u')}
  ${kind === 'variance' ? `let mean = acc / f32(p.len);${deviations('0u', '1u')}
  acc = dev;` : ''}
  ys[row] = ${isArg ? 'i32(bi)' : finish('acc')};
}`,
    };
  }
  const tree = (vars: string) => isArg ? `
  sv[lid] = bv; si[lid] = bi;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let v = sv[lid + s]; let j = si[lid + s]; let bv2 = sv[lid]; let bi2 = si[lid];
      let bv = bv2;
      if ((${better}) || (v == bv2 && j < bi2)) { sv[lid] = v; si[lid] = j; }
    }
    workgroupBarrier();
  }` : `
  sv[lid] = ${vars};
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { sv[lid] = combine(sv[lid], sv[lid + s]); }
    workgroupBarrier();
  }`;
  return {
    key, inputs: 1, outputs: 1,
    code: () => /* wgsl */ `${header}${ROW_INDEX}
var<workgroup> sv: array<${t}, 256>;
${isArg ? 'var<workgroup> si: array<u32, 256>;' : ''}
${kind === 'variance' ? 'var<workgroup> mean_s: f32;' : ''}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.len;
  ${accum('lid', '256u')}
  ${tree('acc')}
  ${kind === 'variance' ? `
  if (lid == 0u) { mean_s = sv[0] / f32(p.len); }
  workgroupBarrier();
  let mean = mean_s;
  workgroupBarrier();
  ${deviations('lid', '256u')}
  ${tree('dev')}` : ''}
  if (lid == 0u) { ys[row] = ${isArg ? 'i32(si[0])' : finish('sv[0]')}; }
}`,
  };
}
