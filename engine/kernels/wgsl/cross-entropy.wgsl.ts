/**
 * Cross-entropy with class weights, PyTorch's weighted mean: Σᵢ w[tᵢ]·(lseᵢ − x[i,tᵢ]) / Σᵢ w[tᵢ].
 *
 * Forward (one workgroup of 64 per row: rows are short — 92 classes for COCO — so 64 threads waste
 * less than the 256 of the softmax kernel): the row's log-sum-exp by a max pass and a Σ exp(x − max)
 * pass, then thread 0 writes the row's weighted loss w[t]·(lse − x[t]), its weight w[t] and lse. The
 * two sums over rows and the division are the engine's reduction and div ops.
 * Backward (one thread per logit): dx[i,j] = (g / W)·w[tᵢ]·(exp(x[i,j] − lseᵢ) − [j = tᵢ]).
 * A target outside [0, C) sets a device assert (reported at the next readback) and its row counts 0.
 */
import { FLAT_INDEX, ROW_INDEX, SPECIALS, workgroupLogSumExp } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

export function crossEntropyKernel(weighted: boolean): KernelSpec {
  return {
    key: `cross-entropy/${weighted ? 'weighted' : 'plain'}`,
    inputs: weighted ? 3 : 2,
    outputs: 3,
    asserts: true,
    code: () => /* wgsl */ `
${ROW_INDEX}
${SPECIALS}
struct Params { rows: u32, len: u32, code: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
${weighted ? '@group(0) @binding(3) var<storage, read> weight: array<f32>;' : ''}
@group(0) @binding(${weighted ? 4 : 3}) var<storage, read_write> rowLoss: array<f32>;
@group(0) @binding(${weighted ? 5 : 4}) var<storage, read_write> rowWeight: array<f32>;
@group(0) @binding(${weighted ? 6 : 5}) var<storage, read_write> rowLse: array<f32>;
@group(0) @binding(${weighted ? 7 : 6}) var<storage, read_write> asserts: array<atomic<u32>, 4>;
var<workgroup> sv: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.len;
  ${workgroupLogSumExp('lse', 'xs', 'p.len')}
  if (lid == 0u) {
    rowLse[row] = lse;
    let t = targets[row];
    if (t < 0 || t >= i32(p.len)) {
      atomicMax(&asserts[0], p.code);
      atomicMax(&asserts[1], row);
      rowLoss[row] = 0.0;
      rowWeight[row] = 0.0;
    } else {
      let w = ${weighted ? 'weight[t]' : '1.0'};
      rowLoss[row] = w * (lse - xs[base + u32(t)]);
      rowWeight[row] = w;
    }
  }
}`,
  };
}

export function crossEntropyBackwardKernel(): KernelSpec {
  return {
    key: 'cross-entropy-backward',
    inputs: 6,
    outputs: 1,
    code: () => /* wgsl */ `
${FLAT_INDEX}
struct Params { n: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> rowWeight: array<f32>;
@group(0) @binding(4) var<storage, read> rowLse: array<f32>;
@group(0) @binding(5) var<storage, read> gOut: array<f32>;
@group(0) @binding(6) var<storage, read> total: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let row = i / p.len;
  let j = i % p.len;
  let onehot = select(0.0, 1.0, targets[row] == i32(j));
  dx[i] = (gOut[0] / total[0]) * rowWeight[row] * (exp(xs[i] - rowLse[row]) - onehot);
}`,
  };
}
