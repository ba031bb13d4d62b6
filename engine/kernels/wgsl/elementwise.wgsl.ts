/**
 * Elementwise kernels: one template for unary ops (flat, contiguous), one for binary ops and one for
 * `where`, both with NumPy broadcasting through per-operand strides (0 on broadcast dimensions) after
 * the op has collapsed dimensions to the lowest rank. Op bodies come from the table in ops/elementwise.table.ts.
 */
import { FLAT_INDEX, SPECIALS, stridedOffsets } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

/** f32 helpers the op bodies use: stable sigmoid/tanh, erfc-based exact GELU, NumPy-like pow. */
export const MATH =
  SPECIALS +
  /* wgsl */ `
fn erfc_pos(z: f32) -> f32 {
  // Numerical Recipes' erfc Chebyshev fit: fractional error < 1.2e-7 for z >= 0.
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
      t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
      t * (-0.82215223 + t * 0.17087277)))))))));
  return r;
}
fn erfc_f(x: f32) -> f32 { return select(2.0 - erfc_pos(-x), erfc_pos(x), x >= 0.0); }
// Exact (erf) GELU: x·Φ(x) = 0.5·x·erfc(−x/√2); erfc keeps relative accuracy for negative x.
fn gelu_f(x: f32) -> f32 { return 0.5 * x * erfc_f(-x * 0.70710678118654752); }
// dGELU/dx = Φ(x) + x·φ(x)
fn gelu_grad_f(x: f32) -> f32 { return 0.5 * erfc_f(-x * 0.70710678118654752) + x * 0.3989422804014327 * exp(-0.5 * x * x); }
fn sigmoid_f(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn tanh_f(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) { // odd Taylor series to x^15: relative error < 2e-7 on |x| < 0.5
    let x2 = x * x;
    return x * (1.0 + x2 * (-0.33333333333 + x2 * (0.13333333333 + x2 * (-0.05396825397 + x2 * (0.02186948854 +
      x2 * (-0.00886323552 + x2 * (0.00359212803 + x2 * -0.00145583438)))))));
  }
  if (a > 20.0) { return sign(x); }
  let t = exp(-2.0 * a);
  return sign(x) * (1.0 - t) / (1.0 + t);
}
fn is_nan_f(x: f32) -> bool { return is_nan(x); }
fn pow_f(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (is_nan_f(x) || is_nan_f(y)) { return x + y; }
  let ax = abs(x);
  var r: f32;
  if (ax == 0.0) { r = select(pos_inf(), 0.0, y > 0.0); }
  else { r = exp2(y * log2(ax)); }
  if (x < 0.0) {
    if (floor(y) != y) { return nan_f32(); }
    let odd = abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1;
    return select(r, -r, odd);
  }
  return r;
}
fn max_f(a: f32, b: f32) -> f32 { if (is_nan_f(a) || is_nan_f(b)) { return a + b; } return max(a, b); }
fn min_f(a: f32, b: f32) -> f32 { if (is_nan_f(a) || is_nan_f(b)) { return a + b; } return min(a, b); }
`;

export function unaryKernel(op: string, body: string, tin: string, tout: string): KernelSpec {
  return {
    key: `unary/${op}/${tin}->${tout}`,
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
${MATH}
${FLAT_INDEX}
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<${tin}>;
@group(0) @binding(2) var<storage, read_write> ys: array<${tout}>;
fn f(x: ${tin}) -> ${tout} { return ${body}; }
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  ys[i] = f(xs[i]);
}`,
  };
}

const STRIDED_PARAMS = (operands: string[]) => `struct Params {
  n: u32, ${operands.map((o) => `off_${o}: u32`).join(', ')},
  shape: array<vec4u, 2>,
  ${operands.map((o) => `st_${o}: array<vec4u, 2>`).join(',\n  ')}
}`;

export function binaryKernel(op: string, body: string, tin: string, tout: string, rank: number): KernelSpec {
  return {
    key: `binary/${op}/${tin}->${tout}/r${rank}`,
    inputs: 2,
    outputs: 1,
    code: () => /* wgsl */ `
${MATH}
${FLAT_INDEX}
${STRIDED_PARAMS(['a', 'b'])}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> as_: array<${tin}>;
@group(0) @binding(2) var<storage, read> bs: array<${tin}>;
@group(0) @binding(3) var<storage, read_write> ys: array<${tout}>;
fn f(a: ${tin}, b: ${tin}) -> ${tout} { return ${body}; }
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
    ${stridedOffsets(rank, ['a', 'b'])}
  ys[i] = f(as_[off_a], bs[off_b]);
}`,
  };
}

export function whereKernel(tcond: string, t: string, rank: number): KernelSpec {
  return {
    key: `where/${tcond}/${t}/r${rank}`,
    inputs: 3,
    outputs: 1,
    code: () => /* wgsl */ `
${FLAT_INDEX}
${STRIDED_PARAMS(['c', 'a', 'b'])}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> cs: array<${tcond}>;
@group(0) @binding(2) var<storage, read> as_: array<${t}>;
@group(0) @binding(3) var<storage, read> bs: array<${t}>;
@group(0) @binding(4) var<storage, read_write> ys: array<${t}>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
    ${stridedOffsets(rank, ['c', 'a', 'b'])}
  ys[i] = select(bs[off_b], as_[off_a], cs[off_c] != ${tcond}(0));
}`,
  };
}
