/**
 * Plain batched matmul C[b] = op(A[b]) · op(B[b]), either operand read transposed through its strides
 * (no copy), batch dimensions broadcast through per-operand batch strides (rank ≤ 4 after collapsing).
 *
 * Each invocation computes a 4×4 block of C in registers, with no workgroup barriers (SwiftShader is
 * ~10× slower on barrier-synchronised kernels). Tails are guarded: loads clamp their index and zero
 * the value, stores are skipped. Accumulation is a serial f32 sum over K, so |C − C_exact| ≤
 * γ_K · Σ_k |A_ik·B_kj| with γ_K ≈ K·2⁻²⁴ — the tolerance the tests use. (The fast tiled kernels with
 * a fused epilogue come with the kernel issue.)
 */
import type { KernelSpec } from '../../runtime.ts';

export function matmulKernel(): KernelSpec {
  return {
    key: 'matmul/plain4x4',
    inputs: 2,
    outputs: 1,
    code: () => /* wgsl */ `
struct Params {
  M: u32, N: u32, K: u32, batches: u32,
  sam: u32, sak: u32, sbk: u32, sbn: u32,
  bshape: vec4u, bsa: vec4u, bsb: vec4u,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= p.M || col0 >= p.N || gid.z >= p.batches) { return; }
  var rem = gid.z;
  var offA = 0u; var offB = 0u;
  for (var d = 3; d >= 0; d--) {
    let c = rem % p.bshape[d]; rem = rem / p.bshape[d];
    offA += c * p.bsa[d]; offB += c * p.bsb[d];
  }
  var rowOff: array<u32, 4>; var colOff: array<u32, 4>;
  var rowOk = vec4f(0.0); var colOk = vec4f(0.0);
  for (var r = 0u; r < 4u; r++) {
    rowOff[r] = offA + min(row0 + r, p.M - 1u) * p.sam;
    colOff[r] = offB + min(col0 + r, p.N - 1u) * p.sbn;
    rowOk[r] = select(0.0, 1.0, row0 + r < p.M);
    colOk[r] = select(0.0, 1.0, col0 + r < p.N);
  }
  var acc: array<vec4f, 4>;
  for (var k = 0u; k < p.K; k++) {
    let ka = k * p.sak; let kb = k * p.sbk;
    let av = vec4f(A[rowOff[0] + ka], A[rowOff[1] + ka], A[rowOff[2] + ka], A[rowOff[3] + ka]) * rowOk;
    let bv = vec4f(B[colOff[0] + kb], B[colOff[1] + kb], B[colOff[2] + kb], B[colOff[3] + kb]) * colOk;
    acc[0] += av[0] * bv; acc[1] += av[1] * bv; acc[2] += av[2] * bv; acc[3] += av[3] * bv;
  }
  let outBase = gid.z * p.M * p.N;
  for (var r = 0u; r < 4u; r++) {
    if (row0 + r >= p.M) { break; }
    for (var c = 0u; c < 4u; c++) {
      if (col0 + c < p.N) { C[outBase + (row0 + r) * p.N + col0 + c] = acc[r][c]; }
    }
  }
}`,
  };
}
