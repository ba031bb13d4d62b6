/**
 * gather (index-select along an axis) and its adjoint scatter-add, over the view [outer, D, inner]
 * of the source / destination and J indices.
 *
 * scatterAdd is deterministic without float atomics: each output element (o, d, i) loops over all J
 * indices in order and adds the sources whose index is d — O(J) per output, the same sum order on
 * every run and adapter. Out-of-range indices set a device assert (reported at the next readback).
 */
import { FLAT_INDEX } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

const PARAMS = `struct Params { n: u32, inner: u32, d: u32, j: u32, code: u32 }`;

export function gatherKernel(): KernelSpec {
  return {
    key: 'gather',
    inputs: 2,
    outputs: 1,
    asserts: true,
    code: () => /* wgsl */ `
${FLAT_INDEX}
${PARAMS}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<u32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> ys: array<u32>;
@group(0) @binding(4) var<storage, read_write> asserts: array<atomic<u32>, 4>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let inner = i % p.inner;
  let j = (i / p.inner) % p.j;
  let o = i / (p.inner * p.j);
  var k = idx[j];
  if (k < 0) { k += i32(p.d); }
  if (k < 0 || k >= i32(p.d)) {
    atomicMax(&asserts[0], p.code);
    atomicMax(&asserts[1], u32(j));
    ys[i] = 0u;
    return;
  }
  ys[i] = xs[(o * p.d + u32(k)) * p.inner + inner];
}`,
  };
}

export function scatterAddKernel(): KernelSpec {
  return {
    key: 'scatterAdd',
    inputs: 2,
    outputs: 1,
    asserts: true,
    code: () => /* wgsl */ `
${FLAT_INDEX}
${PARAMS}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> ys: array<f32>;
@group(0) @binding(4) var<storage, read_write> asserts: array<atomic<u32>, 4>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let inner = i % p.inner;
  let d = (i / p.inner) % p.d;
  let o = i / (p.inner * p.d);
  var acc = 0.0;
  for (var j = 0u; j < p.j; j++) {
    var k = idx[j];
    if (k < 0) { k += i32(p.d); }
    if (k < 0 || k >= i32(p.d)) {
      if (d == 0u && inner == 0u && o == 0u) { atomicMax(&asserts[0], p.code); atomicMax(&asserts[1], j); }
      continue;
    }
    if (u32(k) == d) { acc += src[(o * p.j + j) * p.inner + inner]; }
  }
  ys[i] = acc;
}`,
  };
}
