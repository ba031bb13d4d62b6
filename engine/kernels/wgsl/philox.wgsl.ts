/**
 * Philox 4x32-10 (Salmon et al., SC'11), a counter-based generator: output block t is a pure function
 * of (key = seed, counter = (t, stream, 0, 0)), so any element can be made independently, in any order,
 * and a seed gives the same bits on every adapter and in every runtime. 32×32→64-bit products are
 * built from 16-bit halves (WGSL has no u64). The CPU twin is reference/random.ts.
 */
import { FLAT_INDEX } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

export const PHILOX = /* wgsl */ `
fn mulhilo(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2u(hi, a * b);
}
fn philox(ctr: vec4u, key: vec2u) -> vec4u {
  var c = ctr; var k = key;
  for (var r = 0u; r < 10u; r++) {
    let m0 = mulhilo(0xD2511F53u, c.x);
    let m1 = mulhilo(0xCD9E8D57u, c.z);
    c = vec4u(m1.x ^ c.y ^ k.x, m1.y, m0.x ^ c.w ^ k.y, m0.y);
    k = k + vec2u(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}
fn unit(x: u32) -> f32 { return f32(x >> 8u) * (1.0 / 16777216.0); }
`;

export type RandomKind = 'bits' | 'uniform' | 'normal';

export function randomKernel(kind: RandomKind): KernelSpec {
  const out = kind === 'bits' ? 'u32' : 'f32';
  const body =
    kind === 'bits'
      ? 'r'
      : kind === 'uniform'
        ? 'vec4f(unit(r.x), unit(r.y), unit(r.z), unit(r.w)) * p.scale + p.shift'
        : // Box–Muller on two pairs; u1 in (0, 1] so log never sees 0.
          `box_muller(r) * p.scale + p.shift`;
  return {
    key: `random/${kind}`,
    inputs: 0,
    outputs: 1,
    code: () => /* wgsl */ `
${PHILOX}
${FLAT_INDEX}
struct Params { n: u32, stream: u32, key0: u32, key1: u32, scale: f32, shift: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> ys: array<${out}>;
fn box_muller(r: vec4u) -> vec4f {
  let u1 = f32((r.x >> 8u) + 1u) * (1.0 / 16777216.0);
  let u2 = unit(r.y);
  let u3 = f32((r.z >> 8u) + 1u) * (1.0 / 16777216.0);
  let u4 = unit(r.w);
  let ra = sqrt(-2.0 * log(u1)); let rb = sqrt(-2.0 * log(u3));
  // cos/sin(2πu) = −cos/sin(2π(u − ½)): WGSL bounds their error (2⁻¹¹ absolute) only on [−π, π].
  let ta = 6.283185307179586 * (u2 - 0.5); let tb = 6.283185307179586 * (u4 - 0.5);
  return -vec4f(ra * cos(ta), ra * sin(ta), rb * cos(tb), rb * sin(tb));
}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t * 4u >= p.n) { return; }
  let r = philox(vec4u(t, p.stream, 0u, 0u), vec2u(p.key0, p.key1));
  let v = ${body};
  for (var q = 0u; q < 4u; q++) {
    if (t * 4u + q < p.n) { ys[t * 4u + q] = v[q]; }
  }
}`,
  };
}
