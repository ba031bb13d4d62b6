/**
 * Strided copy: for every coordinate c of a region, dst[off_d + c·st_d] = src[off_s + c·st_s].
 * One kernel serves permute (dst contiguous), slice (src offset and strides), broadcast (src
 * stride 0), concat and pad (dst offset and strides of the bigger output). Elements are moved as
 * u32 bits, so one pipeline per rank serves every 4-byte dtype.
 */
import { FLAT_INDEX, stridedOffsets } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

/** Elements of the innermost axis that one invocation of the run variant copies. */
export const COPY_RUN = 16;

/** Both copy kernels' bindings (p.n: invocations) and entry point, up to the body. */
const COPY_ENTRY = /* wgsl */ `${FLAT_INDEX}
struct Params { n: u32, off_s: u32, off_d: u32, shape: array<vec4u, 2>, st_s: array<vec4u, 2>, st_d: array<vec4u, 2> }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {`;

/**
 * With `run`, an invocation copies up to COPY_RUN consecutive elements of the innermost axis, and
 * p.n counts invocations (rows × ⌈last / COPY_RUN⌉): one index decomposition (rank − 1 integer
 * divisions) per run instead of per element. For CPU adapters, where u32 division is not vectorised
 * and dominates a copy; GPUs keep one element per invocation (coalesced accesses).
 */
export function copyKernel(rank: number, run = false): KernelSpec {
  if (run) return copyRunKernel(rank);
  return {
    key: `copy/r${rank}`,
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
${COPY_ENTRY}
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
    ${stridedOffsets(rank, ['s', 'd'])}
  dst[off_d] = src[off_s];
}`,
  };
}

function copyRunKernel(rank: number): KernelSpec {
  const last = `[${(rank - 1) >> 2}][${(rank - 1) & 3}]`;
  return {
    key: `copy/r${rank}/run${COPY_RUN}`,
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
${COPY_ENTRY}
  let inv = flatIndex(gid, nwg);
  if (inv >= p.n) { return; }
  let len = p.shape${last};
  let runs = (len + ${COPY_RUN - 1}u) / ${COPY_RUN}u;
  let i = inv / runs;
  let j0 = (inv % runs) * ${COPY_RUN}u;
    ${stridedOffsets(rank - 1, ['s', 'd'])}
  let ss = p.st_s${last}; let sd = p.st_d${last};
  let j1 = min(len, j0 + ${COPY_RUN}u);
  for (var j = j0; j < j1; j++) { dst[off_d + j * sd] = src[off_s + j * ss]; }
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
