/**
 * DETR's Hungarian-matching cost (matcher.ts) for a whole batch in one `launch` (the engine's public door):
 *   C[b·Q + q, t] = costBbox·‖pred − tgt‖₁ − costClass·softmax(logits)[b·Q + q, label_t] − costGiou·GIoU(xyxy(pred), xyxy(tgt))
 * for the targets t of image b only: DETR builds the full [B·Q, ΣM] matrix and then uses its
 * diagonal blocks; the off-diagonal blocks are never read, so this kernel writes just the blocks,
 * packed: image b's [Q, M_b] block starts at Q·colStart[b] (colStart = prefix sums of M_b).
 *
 * One workgroup of 64 per prediction row: the row's log-sum-exp (max pass, Σ exp pass, as in the
 * softmax kernel), then the threads stride over the image's targets; p = exp(x[label] − lse).
 * Validation mode checks that every predicted box is valid (w, h ≥ 0, no NaN), like DETR's assert;
 * target boxes and labels are checked on the host.
 */
import { wgsl, type KernelSpec } from '../engine/index.ts';

const { ROW_INDEX, SPECIALS, BOX_MATH, workgroupLogSumExp } = wgsl;

export function matchCostKernel(): KernelSpec {
  return {
    key: 'yolos/match-cost',
    inputs: 5,
    outputs: 1,
    asserts: true,
    code: () => /* wgsl */ `
${ROW_INDEX}
${SPECIALS}
${BOX_MATH}
struct Params { rows: u32, q: u32, classes: u32, validate: u32, costClass: f32, costBbox: f32, costGiou: f32, code: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;     // [B·Q, classes]
@group(0) @binding(2) var<storage, read> boxes: array<vec4f>;    // [B·Q] cxcywh
@group(0) @binding(3) var<storage, read> tgtBoxes: array<vec4f>; // [T] cxcywh
@group(0) @binding(4) var<storage, read> tgtLabels: array<i32>;  // [T]
@group(0) @binding(5) var<storage, read> colStart: array<u32>;   // [B + 1]
@group(0) @binding(6) var<storage, read_write> cost: array<f32>; // Σ_b Q·M_b, packed blocks
@group(0) @binding(7) var<storage, read_write> asserts: array<atomic<u32>, 4>;
var<workgroup> sv: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.classes;
  ${workgroupLogSumExp('lse', 'logits', 'p.classes')}

  let b = row / p.q;
  let q = row % p.q;
  let c0 = colStart[b];
  let mb = colStart[b + 1u] - c0;
  let pred = boxes[row];
  let predXyxy = cxcywhToXyxy(pred);
  if (p.validate != 0u && lid == 0u && !validXyxy(predXyxy)) {
    atomicMax(&asserts[0], p.code);
    atomicMax(&asserts[1], row);
  }
  for (var k = lid; k < mb; k += 64u) {
    let t = c0 + k;
    let prob = exp(logits[base + u32(tgtLabels[t])] - lse);
    let tgt = tgtBoxes[t];
    let d = abs(pred - tgt);
    let l1 = (d.x + d.y) + (d.z + d.w);
    let giou = boxPair(predXyxy, cxcywhToXyxy(tgt)).giou;
    cost[p.q * c0 + q * mb + k] = p.costBbox * l1 - p.costClass * prob - p.costGiou * giou;
  }
}`,
  };
}
