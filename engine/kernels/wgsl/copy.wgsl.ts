/**
 * Strided copy: for every coordinate c of a region, dst[off_d + c·st_d] = src[off_s + c·st_s].
 * One kernel serves permute (dst contiguous), slice (src offset and strides), broadcast (src
 * stride 0), concat and pad (dst offset and strides of the bigger output). Elements are moved as
 * u32 bits, so one pipeline per rank serves every 4-byte dtype.
 */
import { FLAT_INDEX, stridedOffsets } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

export function copyKernel(rank: number): KernelSpec {
  return {
    key: `copy/r${rank}`,
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
${FLAT_INDEX}
struct Params { n: u32, off_s: u32, off_d: u32, shape: array<vec4u, 2>, st_s: array<vec4u, 2>, st_d: array<vec4u, 2> }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
    ${stridedOffsets(rank, ['s', 'd'])}
  dst[off_d] = src[off_s];
}`,
  };
}

/** Fills `n` elements with a 32-bit pattern, or with start + i·step (arange) in the given dtype. */
export function fillKernel(kind: 'fill' | 'arange', t: string): KernelSpec {
  return {
    key: `${kind}/${t}`,
    inputs: 0,
    outputs: 1,
    code: () => /* wgsl */ `
${FLAT_INDEX}
struct Params { n: u32, bits: u32, start: ${t}, step: ${t} }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> ys: array<${kind === 'fill' ? 'u32' : t}>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  ys[i] = ${kind === 'fill' ? 'p.bits' : `p.start + ${t}(i) * p.step`};
}`,
  };
}
