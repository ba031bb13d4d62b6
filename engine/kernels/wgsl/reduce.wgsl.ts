/**
 * Reductions of the middle axis of a contiguous [outer, len, inner] view: row r = (o, i) reduces
 * x[o, 0…len−1, i] (element stride `inner`), so reducing leading, middle or trailing axes needs no
 * transposing copy (before, summing a bias gradient over [B, L] permuted [B·L, D] first: 79 copies
 * were 16 % of a nano-16 training step's GPU time on lavapipe).
 *
 * Versions: one workgroup of 256 threads per row — each thread accumulates a strided slice (a
 * cascaded sum, see common.ts), then a shared-memory tree combines the 256 partials pairwise. The f32
 * error of a sum is then ≤ (32 + ⌈n/65 536⌉ + 8)·u·Σ|x| instead of n·u·Σ|x| for a serial loop, which
 * matters on long rows (≥ 65 536). Rows of ≤ 32 elements, or of ≤ 4 096 when there are ≥ 64 rows, use
 * one invocation per row (ops/reduce.ts): the same cascade over the whole row, ≤ 48·u·Σ|x|. Kahan compensation was tried first: llvmpipe's fast-math folds it
 * away (a 2²⁰-element row of 0.1 was off by 4.0). Rows of ≤ 32 elements use one thread per row instead (a workgroup
 * per tiny row leaves 255 threads idle).
 *
 * With the adapter feature 'subgroups' (key suffix '/sg'), subgroup operations replace the
 * shared-memory tree (8 barriers) by two barriers and a few subgroup operations, with the same
 * pairwise depth for f32 sums, so the same error bound (see subgroupReductions below). Measured
 * (median of 9, loaded 2-vCPU VM): sum/max of [16, 65 536] rows and softmax of [32, 4 096] take the
 * same time either way on lavapipe (≈1.5–2.5 ms, noise-bound) and 1.3–2× less wall time on
 * SwiftShader (sum 38 vs 52–94 ms, softmax 48–67 vs 79–102 ms).
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
    case 'max':
      return { init: lowest, combine: `select(max(a, b), a + b, ${nan('a', 'b')})` };
    case 'min':
      return { init: highest, combine: `select(min(a, b), a + b, ${nan('a', 'b')})` };
    default:
      return { init: `${t}(0)`, combine: 'a + b' };
  }
}

export function reduceKernel(kind: ReduceKind, t: string, perThread: boolean, sg = false): KernelSpec {
  const outT = kind === 'argmax' || kind === 'argmin' ? 'i32' : t;
  sg = sg && !perThread; // subgroups replace the workgroup tree; the per-row kernel has none
  const key = `reduce/${kind}/${t}/${perThread ? 'thread' : 'wg'}${sg ? '/sg' : ''}`;
  const isArg = kind === 'argmax' || kind === 'argmin';
  const isSum = kind === 'sum' || kind === 'mean' || kind === 'variance';
  const o = ops(kind, t);
  const cascaded = isSum && t === 'f32';
  // Argmax/argmin: NaN wins (like NumPy), then the extreme value, then the lowest index.
  const nanWins = t === 'f32' ? ' || (is_nan(v) && !is_nan(bv))' : ''; // integers have no NaN
  const better = `(v ${kind === 'argmax' ? '>' : '<'} bv)${nanWins}`;
  const header = /* wgsl */ `${sg ? 'enable subgroups;\n' : ''}${SPECIALS}
struct Params { rows: u32, len: u32, correction: f32, inner: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<${t}>;
@group(0) @binding(2) var<storage, read_write> ys: array<${outT}>;
fn combine(a: ${t}, b: ${t}) -> ${t} { return ${o.combine}; }
`;
  // Serial accumulation of elements j = start, start+step, … of one row.
  const accum = (start: string, step: string) =>
    isArg
      ? `
  var bv = xs[base + min(${start}, p.len - 1u) * p.inner]; var bi = min(${start}, p.len - 1u);
  for (var j = ${start}; j < p.len; j += ${step}) { let v = xs[base + j * p.inner]; if (${better}) { bv = v; bi = j; } }`
      : cascaded
        ? cascadeSum('acc', 'xs[base + j * p.inner]', start, step, 'p.len').replace('var acc = 0.0;', 'var acc = f32(0);')
        : `
  var acc = ${o.init};
  for (var j = ${start}; j < p.len; j += ${step}) { acc = combine(acc, xs[base + j * p.inner]); }`;
  // Variance's second pass: squared deviations from the row mean.
  const deviations = (start: string, step: string) =>
    cascadeSum('dev', '(xs[base + j * p.inner] - mean) * (xs[base + j * p.inner] - mean)', start, step, 'p.len');
  const finish = (v: string) =>
    kind === 'mean' ? `${v} / f32(p.len)` : kind === 'variance' ? `${v} / max(f32(p.len) - p.correction, 0.0)` : v;

  if (perThread) {
    return {
      key,
      inputs: 1,
      outputs: 1,
      code: () => /* wgsl */ `${header}${FLAT_INDEX}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flatIndex(gid, nwg);
  if (row >= p.rows) { return; }
  let base = (row / p.inner) * p.len * p.inner + row % p.inner; // element j at base + j·inner
  ${accum('0u', '1u')}
  ${
    kind === 'variance'
      ? `let mean = acc / f32(p.len);${deviations('0u', '1u')}
  acc = dev;`
      : ''
  }
  ys[row] = ${isArg ? 'i32(bi)' : finish('acc')};
}`,
    };
  }
  const tree = (vars: string) =>
    isArg
      ? `
  sv[lid] = bv; si[lid] = bi;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let v = sv[lid + s]; let j = si[lid + s]; let bv2 = sv[lid]; let bi2 = si[lid];
      let bv = bv2;
      if ((${better}) || ((v == bv2 || (is_nan(v) && is_nan(bv2))) && j < bi2)) { sv[lid] = v; si[lid] = j; } // the first NaN wins too
    }
    workgroupBarrier();
  }`
      : `
  sv[lid] = ${vars};
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { sv[lid] = combine(sv[lid], sv[lid + s]); }
    workgroupBarrier();
  }`;
  // With subgroups: the same result through subgroupReductions (left in sv[0] / si[0] for lid 0).
  const sgKind = isSum ? 'sum' : (kind as 'max' | 'min' | 'argmax' | 'argmin');
  const sgTree = (vars: string) =>
    isArg
      ? `\n  { let r = wg_${kind}(bv, bi, sgid, sgs, sid, nsg); if (lid == 0u) { si[0] = r; } }`
      : `\n  { let r = wg_${sgKind}(${vars}, sgid, sgs, sid, nsg); if (lid == 0u) { sv[0] = r; } }`;
  const reduceAll = sg ? sgTree : tree;
  return {
    key,
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `${header}${ROW_INDEX}
${sg ? subgroupReductions(t, [sgKind]) : ''}
var<workgroup> sv: array<${t}, 256>;
${isArg ? 'var<workgroup> si: array<u32, 256>;' : ''}
${kind === 'variance' ? 'var<workgroup> mean_s: f32;' : ''}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32${sg ? `, ${SUBGROUP_BUILTINS}` : ''}) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = (row / p.inner) * p.len * p.inner + row % p.inner; // element j at base + j·inner
  ${accum('lid', '256u')}
  ${reduceAll('acc')}
  ${
    kind === 'variance'
      ? `
  if (lid == 0u) { mean_s = sv[0] / f32(p.len); }
  workgroupBarrier();
  let mean = mean_s;
  workgroupBarrier();
  ${deviations('lid', '256u')}
  ${reduceAll('dev')}`
      : ''
  }
  if (lid == 0u) { ys[row] = ${isArg ? 'i32(si[0])' : finish('sv[0]')}; }
}`,
  };
}

/**
 * Workgroup-wide reductions through subgroups (`enable subgroups;`), for kernels of 256 invocations
 * that call them with their subgroup builtins; every invocation gets the result. Each subgroup
 * reduces its values, one lane per subgroup writes the partial to workgroup memory, then every
 * subgroup reduces the partials itself (no second barrier and no broadcast). Works for any subgroup
 * size; subgroups are numbered by the `subgroup_id` builtin, so nothing assumes how invocations map
 * to subgroups.
 *
 * f32 sums are pairwise trees with a known depth (the error bound of the plain 256-way tree): the
 * butterfly `t += subgroupShuffleXor(t, m)` for m = 1, 2, 4, … has log2(size) levels for a
 * power-of-two size (WebGPU's are 4 to 128); lane l then holds the partials l, l + size, … in its
 * own 16 slots (one each for sizes ≥ 4: 256/size² ≤ 16) and adds them pairwise, and a last butterfly
 * adds the lanes: log2(s) + log2(256/s²) + log2(s) = 8 levels in all, as the tree had — additions of
 * the zero slots and lanes are exact. (Sizes that are not powers of two fall back to subgroupAdd,
 * whose order is the driver's.) Max, min and integer sums are exact in any order: subgroupMax/Min/Add.
 *
 * Subgroup sizes: lavapipe runs 8 lanes, SwiftShader 8 under dawn.node and 4 in Chromium (what
 * `adapterInfo.subgroupMinSize/MaxSize` report and the `subgroup_size` builtin gives, measured by
 * test/gpu/limits.test.ts in both projects), GPUs 32 (NVIDIA — an H200 gives 32, bench/limits-device.ts —
 * Intel, Apple, AMD RDNA in wave32) or 64 (AMD GCN/CDNA, RDNA in wave64). Nothing here depends on
 * which: the only assumptions are a power of two that divides 256 (every size WebGPU allows, 4 to
 * 128) and full subgroups (size × num_subgroups = 256, which the limits test checks on each
 * adapter; drivers fill subgroups in order when the X size is a multiple of the size). At 32: 8 subgroups,
 * each butterfly has 5 levels; lanes 0–7 of each subgroup then hold one partial each (the j loop
 * runs once, nsg = 8 ≤ 32), the 16-slot tree adds only zeros (exact), and the last butterfly adds
 * 8 non-zero values in 3 levels: 5 + 3 = 8. At 64: 4 subgroups, 6 + 2 = 8 levels. In general
 * log2(s) + log2(256/s) = 8 for s ≥ 16, and log2(s) + log2(256/s²) + log2(s) = 8 below. The same
 * reads and writes of sg_part happen at every size (sid < nsg, j < nsg), and barriers are reached
 * by every invocation. limits.test.ts models this function at each size 4…128 and checks the
 * exact sum and the 8 levels.
 * f32 max/min propagate NaN like `combine` (subgroupMax of a NaN is undefined, so NaNs are masked
 * and `subgroupAny` restores them).
 *
 * `kinds` picks the functions: wg_sum, wg_max, wg_min (value) and wg_argmax, wg_argmin (index:
 * NaN wins, then the extreme value, then the lowest index, like NumPy).
 */
export function subgroupReductions(t: string, kinds: ('sum' | 'max' | 'min' | 'argmax' | 'argmin')[]): string {
  const isF = t === 'f32';
  const args = 'sgid: u32, sgs: u32, sid: u32, nsg: u32';
  // a partial per subgroup into sg_part (after the last readers are done), then in every subgroup
  const publish = (v: string, extra = '') => `
  let partial = ${v};
  workgroupBarrier();
  if (sgid == 0u) { sg_part[sid] = partial;${extra} }
  workgroupBarrier();`;
  const parts: string[] = [`var<workgroup> sg_part: array<${t}, 256>;`];
  if (kinds.includes('sum')) {
    parts.push(
      isF
        ? /* wgsl */ `
fn sg_sum(v: f32, sgs: u32) -> f32 {
  var t = v;
  for (var m = 1u; m < sgs; m = m << 1u) { t += subgroupShuffleXor(t, m); }
  return select(subgroupAdd(v), t, (sgs & (sgs - 1u)) == 0u);
}
fn wg_sum(v: f32, ${args}) -> f32 {${publish('sg_sum(v, sgs)')}
  var q: array<f32, 16>;
  var i = 0u;
  for (var j = sgid; j < nsg; j += sgs) { q[i & 15u] += sg_part[j]; i++; }
  for (var w = 1u; w < 16u; w = w << 1u) { for (var k = 0u; k < 16u; k += 2u * w) { q[k] += q[k + w]; } }
  return sg_sum(q[0], sgs);
}`
        : /* wgsl */ `
fn wg_sum(v: ${t}, ${args}) -> ${t} {${publish('subgroupAdd(v)')}
  var a = ${t}(0);
  for (var j = sgid; j < nsg; j += sgs) { a += sg_part[j]; }
  return subgroupAdd(a);
}`,
    );
  }
  for (const m of ['max', 'min'] as const) {
    const Sg = m === 'max' ? 'subgroupMax' : 'subgroupMin';
    const far =
      m === 'max'
        ? isF
          ? 'neg_inf()'
          : t === 'i32'
            ? 'i32(-2147483647 - 1)'
            : '0u'
        : isF
          ? 'pos_inf()'
          : t === 'i32'
            ? '2147483647'
            : '0xffffffffu';
    // The subgroup's extreme ignoring NaN, and whether it has one.
    const sgExtreme = isF ? `${Sg}(select(v, ${far}, is_nan(v)))` : `${Sg}(v)`;
    if (kinds.includes(m)) {
      parts.push(/* wgsl */ `
fn sg_${m}(v: ${t}) -> ${t} { ${isF ? `return select(${sgExtreme}, nan_f32(), subgroupAny(is_nan(v)));` : `return ${sgExtreme};`} }
fn wg_${m}(v: ${t}, ${args}) -> ${t} {${publish(`sg_${m}(v)`)}
  var a = ${far};
  for (var j = sgid; j < nsg; j += sgs) { let b = sg_part[j]; a = ${isF ? `select(${m}(a, b), a + b, is_nan(a) || is_nan(b))` : `${m}(a, b)`}; }
  return sg_${m}(a);
}`);
    }
    const arg = m === 'max' ? 'argmax' : 'argmin';
    if (kinds.includes(arg)) {
      const cmp = m === 'max' ? '>' : '<';
      parts.push(/* wgsl */ `
var<workgroup> sg_index: array<u32, 256>;
struct Best_${m} { v: ${t}, i: u32 }
fn sg_${arg}(v: ${t}, i: u32) -> Best_${m} {
  let e = ${sgExtreme};
  ${
    isF
      ? `let nan = subgroupAny(is_nan(v));
  let mine = select(v == e && !is_nan(v), is_nan(v), nan);
  return Best_${m}(select(e, nan_f32(), nan), subgroupMin(select(0xffffffffu, i, mine)));`
      : `return Best_${m}(e, subgroupMin(select(0xffffffffu, i, v == e)));`
  }
}
fn wg_${arg}(v: ${t}, i: u32, ${args}) -> u32 {
  let b = sg_${arg}(v, i);${publish('b.v', ' sg_index[sid] = b.i;')}
  var bv = sg_part[0]; var bi = sg_index[0];
  for (var j = sgid; j < nsg; j += sgs) {
    let w = sg_part[j]; let k = sg_index[j];
    let better = (w ${cmp} bv)${isF ? ' || (is_nan(w) && !is_nan(bv))' : ''};
    let tie = (w == bv${isF ? ' || (is_nan(w) && is_nan(bv))' : ''}) && k < bi;
    if (better || tie) { bv = w; bi = k; }
  }
  return sg_${arg}(bv, bi).i;
}`);
    }
  }
  return parts.join('\n');
}

/** The subgroup builtins `subgroupReductions` expects, as entry-point parameters. */
export const SUBGROUP_BUILTINS =
  '@builtin(subgroup_invocation_id) sgid: u32, @builtin(subgroup_size) sgs: u32, @builtin(subgroup_id) sid: u32, @builtin(num_subgroups) nsg: u32';
