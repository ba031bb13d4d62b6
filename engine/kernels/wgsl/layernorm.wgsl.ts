/**
 * Layer norm over the last axis of [rows, D], fused.
 * Forward: one workgroup per row; each thread runs Welford over its strided slice, the 256 states are
 * merged pairwise (Chan et al.), then y = (x − μ)·rstd·γ + β; μ and rstd are saved for backward.
 * Rows of ≤ ROW_THREAD_MAX elements use one invocation per row instead (no barriers): on lavapipe a
 * 256-thread workgroup per 64-element row spent most of its time in barriers (432 rows × D = 64:
 * 29 ms vs 1.3 ms for the per-row-thread version, measured under load).
 * Backward: one workgroup per row computes dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = g·γ; a second
 * kernel reduces dγ = Σ g·x̂ and dβ = Σ g over rows, one thread per column in a fixed row order
 * (deterministic; a cascaded sum, see common.ts).
 * With 'subgroups' (key suffix '/sg'), the workgroup kernels reduce through subgroupReductions
 * (reduce.wgsl.ts): two barriers per sum instead of eight. Welford states do not fit wg_sum, so the
 * forward there is two-pass — μ = Σx/d, then var = Σ(x − μ)²/d — which is at least as accurate
 * (the centred sum has no cancellation; Higham §1.9) and reads the row once more.
 */
import { ROW_INDEX, FLAT_INDEX, cascadeSum } from './common.ts';
import { subgroupReductions, SUBGROUP_BUILTINS } from './reduce.wgsl.ts';
import type { KernelSpec } from '../../runtime.ts';

/** Bindings of both forward kernels: x (w, b), then y, mean, rstd. */
const forwardBindings = (affine: boolean) => /* wgsl */ `struct Params { rows: u32, d: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
${
  affine
    ? `@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;`
    : ''
}
@group(0) @binding(${affine ? 4 : 2}) var<storage, read_write> ys: array<f32>;
@group(0) @binding(${affine ? 5 : 3}) var<storage, read_write> means: array<f32>;
@group(0) @binding(${affine ? 6 : 4}) var<storage, read_write> rstds: array<f32>;`;

/** Bindings of both dx kernels: x, g, mean, rstd (w), then dx. */
const backwardBindings = (affine: boolean) => /* wgsl */ `struct Params { rows: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> gs: array<f32>;
@group(0) @binding(3) var<storage, read> means: array<f32>;
@group(0) @binding(4) var<storage, read> rstds: array<f32>;
${affine ? '@group(0) @binding(5) var<storage, read> w: array<f32>;' : ''}
@group(0) @binding(${affine ? 6 : 5}) var<storage, read_write> dx: array<f32>;`;

/** The end of both workgroup forward kernels: y from μ and rstd, which invocation 0 saves. */
const normaliseRow = (affine: boolean) => /* wgsl */ `  for (var j = lid; j < p.d; j += 256u) {
    let xh = (xs[base + j] - mu) * rstd;
    ys[base + j] = ${affine ? 'xh * w[j] + b[j]' : 'xh'};
  }
  if (lid == 0u) { means[row] = mu; rstds[row] = rstd; }`;

export function layerNormKernel(affine: boolean, sg = false): KernelSpec {
  if (sg) return layerNormSubgroupKernel(affine);
  return {
    key: `layernorm/fwd/${affine ? 'affine' : 'plain'}`,
    inputs: affine ? 3 : 1,
    outputs: 3,
    code: () => /* wgsl */ `
${ROW_INDEX}
${forwardBindings(affine)}
var<workgroup> sn: array<f32, 256>;
var<workgroup> sm: array<f32, 256>;
var<workgroup> s2: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.d;
  var n = 0.0; var mean = 0.0; var m2 = 0.0;
  for (var j = lid; j < p.d; j += 256u) {
    let x = xs[base + j];
    n += 1.0;
    let delta = x - mean;
    mean += delta / n;
    m2 += delta * (x - mean);
  }
  sn[lid] = n; sm[lid] = mean; s2[lid] = m2;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let na = sn[lid]; let nb = sn[lid + s];
      let nt = na + nb;
      if (nb > 0.0) {
        let delta = sm[lid + s] - sm[lid];
        sm[lid] = sm[lid] + delta * (nb / nt);
        s2[lid] = s2[lid] + s2[lid + s] + delta * delta * (na * nb / nt);
        sn[lid] = nt;
      }
    }
    workgroupBarrier();
  }
  let mu = sm[0];
  let rstd = 1.0 / sqrt(s2[0] / f32(p.d) + p.eps);
${normaliseRow(affine)}
}`,
  };
}

/** The forward workgroup kernel through subgroups: two-pass mean and variance (see the header). */
function layerNormSubgroupKernel(affine: boolean): KernelSpec {
  return {
    key: `layernorm/fwd/${affine ? 'affine' : 'plain'}/sg`,
    inputs: affine ? 3 : 1,
    outputs: 3,
    code: () => /* wgsl */ `enable subgroups;
${ROW_INDEX}
${forwardBindings(affine)}
${subgroupReductions('f32', ['sum'])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32, ${SUBGROUP_BUILTINS}) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.d;
  var s = 0.0;
  for (var j = lid; j < p.d; j += 256u) { s += xs[base + j]; }
  let mu = wg_sum(s, sgid, sgs, sid, nsg) / f32(p.d);
  var q = 0.0;
  for (var j = lid; j < p.d; j += 256u) { let c = xs[base + j] - mu; q += c * c; }
  let rstd = 1.0 / sqrt(wg_sum(q, sgid, sgs, sid, nsg) / f32(p.d) + p.eps);
${normaliseRow(affine)}
}`,
  };
}

export function layerNormBackwardKernel(affine: boolean, sg = false): KernelSpec {
  return {
    key: `layernorm/bwd-dx/${affine ? 'affine' : 'plain'}${sg ? '/sg' : ''}`,
    inputs: affine ? 5 : 4,
    outputs: 1,
    code: () => /* wgsl */ `${sg ? 'enable subgroups;' : ''}
${ROW_INDEX}
${backwardBindings(affine)}
${
  sg
    ? subgroupReductions('f32', ['sum'])
    : `var<workgroup> sa: array<f32, 256>;
var<workgroup> sb: array<f32, 256>;`
}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32${sg ? `, ${SUBGROUP_BUILTINS}` : ''}) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.d;
  let mu = means[row]; let rstd = rstds[row];
  var a = 0.0; var b = 0.0;
  for (var j = lid; j < p.d; j += 256u) {
    let gh = gs[base + j]${affine ? ' * w[j]' : ''};
    a += gh;
    b += gh * (xs[base + j] - mu) * rstd;
  }
${
  sg
    ? `  let meanG = wg_sum(a, sgid, sgs, sid, nsg) / f32(p.d); let meanGX = wg_sum(b, sgid, sgs, sid, nsg) / f32(p.d);`
    : `  sa[lid] = a; sb[lid] = b;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { sa[lid] += sa[lid + s]; sb[lid] += sb[lid + s]; }
    workgroupBarrier();
  }
  let meanG = sa[0] / f32(p.d); let meanGX = sb[0] / f32(p.d);`
}
  for (var j = lid; j < p.d; j += 256u) {
    let gh = gs[base + j]${affine ? ' * w[j]' : ''};
    let xh = (xs[base + j] - mu) * rstd;
    dx[base + j] = rstd * (gh - meanG - xh * meanGX);
  }
}`,
  };
}

export function layerNormParamGradKernel(): KernelSpec {
  return {
    key: 'layernorm/bwd-dwdb',
    inputs: 4,
    outputs: 2,
    code: () => /* wgsl */ `
${FLAT_INDEX}
struct Params { rows: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> gs: array<f32>;
@group(0) @binding(3) var<storage, read> means: array<f32>;
@group(0) @binding(4) var<storage, read> rstds: array<f32>;
@group(0) @binding(5) var<storage, read_write> dw: array<f32>;
@group(0) @binding(6) var<storage, read_write> db: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let col = flatIndex(gid, nwg);
  if (col >= p.d) { return; }
  ${cascadeSum('sw', 'gs[j * p.d + col] * (xs[j * p.d + col] - means[j]) * rstds[j]', '0u', '1u', 'p.rows')}
  ${cascadeSum('sb', 'gs[j * p.d + col]', '0u', '1u', 'p.rows')}
  dw[col] = sw; db[col] = sb;
}`,
  };
}

/** Rows up to this length run one invocation per row. */
export const ROW_THREAD_MAX = 256;

export function layerNormRowKernel(affine: boolean): KernelSpec {
  return {
    key: `layernorm/fwd-row/${affine ? 'affine' : 'plain'}`,
    inputs: affine ? 3 : 1,
    outputs: 3,
    code: () => /* wgsl */ `
${FLAT_INDEX}
${forwardBindings(affine)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.rows) { return; }
  let base = row * p.d;
  var n = 0.0; var mean = 0.0; var m2 = 0.0;
  for (var j = 0u; j < p.d; j++) {
    let x = xs[base + j];
    n += 1.0;
    let delta = x - mean;
    mean += delta / n;
    m2 += delta * (x - mean);
  }
  let rstd = 1.0 / sqrt(m2 / f32(p.d) + p.eps);
  for (var j = 0u; j < p.d; j++) {
    let xh = (xs[base + j] - mean) * rstd;
    ys[base + j] = ${affine ? 'xh * w[j] + b[j]' : 'xh'};
  }
  means[row] = mean; rstds[row] = rstd;
}`,
  };
}

export function layerNormRowBackwardKernel(affine: boolean): KernelSpec {
  return {
    key: `layernorm/bwd-dx-row/${affine ? 'affine' : 'plain'}`,
    inputs: affine ? 5 : 4,
    outputs: 1,
    code: () => /* wgsl */ `
${backwardBindings(affine)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.rows) { return; }
  let base = row * p.d;
  let mu = means[row]; let rstd = rstds[row];
  var a = 0.0; var b = 0.0;
  for (var j = 0u; j < p.d; j++) {
    let gh = gs[base + j]${affine ? ' * w[j]' : ''};
    a += gh;
    b += gh * (xs[base + j] - mu) * rstd;
  }
  let meanG = a / f32(p.d); let meanGX = b / f32(p.d);
  for (var j = 0u; j < p.d; j++) {
    let gh = gs[base + j]${affine ? ' * w[j]' : ''};
    let xh = (xs[base + j] - mu) * rstd;
    dx[base + j] = rstd * (gh - meanG - xh * meanGX);
  }
}`,
  };
}
