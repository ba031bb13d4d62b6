/**
 * Truncated normal by inverse CDF, in place over uniforms (the method of PyTorch's trunc_normal_):
 * the caller fills `ys` with v ~ U[erf(α/√2), erf(β/√2)) (α, β the standardised bounds), and this
 * kernel maps each v to clamp(mean + std·√2·erfinv(v), a, b). One pass, no rejection loop, exact in
 * distribution up to f32 rounding; the clamp only guards the rounding at the ends.
 *
 * erfinv is Giles' single-precision approximation ("Approximating the erfinv function", GPU Computing
 * Gems, 2011): two polynomials in w = −log(1 − v²), relative error a few 1e-7 on |v| < 1. v is
 * clamped to ±(1 − 2⁻²⁴) first so an infinite bound (v → ±1) still gives a finite value (≈ ±5.4σ).
 */
import { FLAT_INDEX } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

export const ERFINV = /* wgsl */ `
fn erfinv_f(x0: f32) -> f32 {
  let x = clamp(x0, -0.99999994, 0.99999994);
  var w = -log((1.0 - x) * (1.0 + x));
  var p: f32;
  if (w < 5.0) {
    w = w - 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  return p * x;
}
`;

export function truncNormalKernel(): KernelSpec {
  return {
    key: 'truncnormal',
    inputs: 0,
    outputs: 1,
    code: () => /* wgsl */ `
${FLAT_INDEX}
${ERFINV}
struct Params { n: u32, mean: f32, sigma: f32, a: f32, b: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> ys: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  ys[i] = clamp(p.mean + p.sigma * 1.4142135623730951 * erfinv_f(ys[i]), p.a, p.b);
}`,
  };
}
