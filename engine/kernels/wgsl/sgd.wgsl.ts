/**
 * SGD with momentum for one parameter in one pass (PyTorch's torch.optim.SGD):
 *
 *   d ← g + wd·p
 *   b ← d                              first step (the buffer is created from d)
 *   b ← μ·b + (1 − dampening)·d        later steps
 *   d ← d + μ·b  (nesterov)  or  d ← b
 *   p ← p − lr·d
 *
 * Without momentum (μ = 0) there is no buffer and the kernel is p ← p − lr·(g + wd·p).
 */
import { FLAT_INDEX } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

export function sgdKernel(momentum: boolean): KernelSpec {
  return {
    key: `sgd/${momentum ? 'momentum' : 'plain'}`,
    inputs: 1,
    outputs: momentum ? 2 : 1,
    code: () => /* wgsl */ `
${FLAT_INDEX}
struct Params { n: u32, first: u32, nesterov: u32, lr: f32, wd: f32, mu: f32, one_m_damp: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;
${momentum ? '@group(0) @binding(3) var<storage, read_write> buf: array<f32>;' : ''}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let wi = w[i];
  var d = g[i] + p.wd * wi;
  ${
    momentum
      ? `var b = d;
  if (p.first == 0u) { b = p.mu * buf[i] + p.one_m_damp * d; }
  buf[i] = b;
  if (p.nesterov != 0u) { d = d + p.mu * b; } else { d = b; }`
      : ''
  }
  w[i] = wi - p.lr * d;
}`,
  };
}
