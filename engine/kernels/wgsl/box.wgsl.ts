/**
 * Box kernels (DETR's util/box_ops.py): format conversion, IoU and generalised IoU — pairwise
 * [N]×[M] → [N,M] or elementwise over matched pairs [K] — and their backward passes.
 *
 * Boxes are vec4f (16-byte rows of a [.., 4] f32 tensor; pool buffers are multiples of 16 bytes).
 * One thread per output. The math (BOX_MATH) is shared with the matcher's cost kernel.
 *
 * Degenerate boxes (DETR's box_ops has no epsilon, so it gives 0/0 = NaN): IoU = 0 when the union is below the
 * smallest normal f32 (2⁻¹²⁶ — GPUs may flush denormals, and 1/union must stay finite), and the
 * enclosing term is 0 when the enclosing area is below it. So the GIoU of two identical zero-area
 * boxes is 0, never NaN, and those branches have zero gradient.
 *
 * Subgradients, as PyTorch: max/min send the gradient to the larger/smaller argument and split it
 * in half at ties (torch.maximum's rule — which is also what a central difference sees); the
 * clamp at 0 of the overlap and enclosing widths passes the gradient where the width is ≥ 0.
 */
import { FLAT_INDEX, SPECIALS } from './common.ts';
import type { KernelSpec } from '../../runtime.ts';

/** WGSL: IoU / GIoU of two xyxy boxes and the gradient of gIou·IoU + gEnc·enclosing-term. */
export const BOX_MATH = /* wgsl */ `
// Smallest normal f32: a union or enclosing area below it counts as 0.
const MIN_AREA: f32 = 1.17549435e-38;

struct BoxPair { iou: f32, giou: f32 }

fn boxPair(a: vec4f, b: vec4f) -> BoxPair {
  let areaA = (a.z - a.x) * (a.w - a.y);
  let areaB = (b.z - b.x) * (b.w - b.y);
  let wh = max(min(a.zw, b.zw) - max(a.xy, b.xy), vec2f(0.0));
  let inter = wh.x * wh.y;
  let uni = areaA + areaB - inter;
  var iou = 0.0;
  if (uni >= MIN_AREA) { iou = inter / uni; }
  let cwh = max(max(a.zw, b.zw) - min(a.xy, b.xy), vec2f(0.0));
  let area = cwh.x * cwh.y;
  var giou = iou;
  if (area >= MIN_AREA) { giou = iou - (area - uni) / area; }
  return BoxPair(iou, giou);
}

struct BoxGrad { da: vec4f, db: vec4f }

// Share of the gradient of max(x, y) (resp. min) that goes to x: 1, 0, or ½ at a tie.
fn shareMax(x: vec2f, y: vec2f) -> vec2f { return select(select(vec2f(0.5), vec2f(0.0), x < y), vec2f(1.0), x > y); }
fn shareMin(x: vec2f, y: vec2f) -> vec2f { return select(select(vec2f(0.5), vec2f(0.0), x > y), vec2f(1.0), x < y); }

// Gradient of gIou·iou − gEnc·(area − union)/area with respect to both boxes
// (IoU: gEnc = 0; GIoU = iou − enc: gIou = g, gEnc = g).
fn boxPairGrad(a: vec4f, b: vec4f, gIou: f32, gEnc: f32) -> BoxGrad {
  let whA = a.zw - a.xy;
  let whB = b.zw - b.xy;
  let areaA = whA.x * whA.y;
  let areaB = whB.x * whB.y;
  let lt = max(a.xy, b.xy);
  let rb = min(a.zw, b.zw);
  let d = rb - lt;
  let wh = max(d, vec2f(0.0));
  let inter = wh.x * wh.y;
  let uni = areaA + areaB - inter;
  let clt = min(a.xy, b.xy);
  let crb = max(a.zw, b.zw);
  let cd = crb - clt;
  let cwh = max(cd, vec2f(0.0));
  let area = cwh.x * cwh.y;

  var gUni = 0.0;
  var gInter = 0.0;
  var gArea = 0.0;
  if (uni >= MIN_AREA) {            // iou = inter / uni
    let iou = inter / uni;
    gInter = gIou / uni;
    gUni = -gIou * iou / uni;
  }
  if (area >= MIN_AREA) {           // enc = 1 − uni / area, entering with weight −gEnc
    let r = uni / area;
    gUni += gEnc / area;
    gArea = -gEnc * r / area;
  }
  gInter -= gUni;                   // uni = areaA + areaB − inter
  let gwh = vec2f(gInter * wh.y, gInter * wh.x) * select(vec2f(0.0), vec2f(1.0), d >= vec2f(0.0));
  let gcwh = vec2f(gArea * cwh.y, gArea * cwh.x) * select(vec2f(0.0), vec2f(1.0), cd >= vec2f(0.0));
  let gwhA = gUni * vec2f(whA.y, whA.x);
  let gwhB = gUni * vec2f(whB.y, whB.x);
  // lt gets −gwh, rb +gwh; clt gets −gcwh, crb +gcwh; each split between a and b.
  let sLt = shareMax(a.xy, b.xy);
  let sRb = shareMin(a.zw, b.zw);
  let sClt = shareMin(a.xy, b.xy);
  let sCrb = shareMax(a.zw, b.zw);
  let daxy = -gwhA - gwh * sLt - gcwh * sClt;
  let dazw = gwhA + gwh * sRb + gcwh * sCrb;
  let dbxy = -gwhB - gwh * (1.0 - sLt) - gcwh * (1.0 - sClt);
  let dbzw = gwhB + gwh * (1.0 - sRb) + gcwh * (1.0 - sCrb);
  return BoxGrad(vec4f(daxy, dazw), vec4f(dbxy, dbzw));
}

fn cxcywhToXyxy(v: vec4f) -> vec4f { return vec4f(v.xy - 0.5 * v.zw, v.xy + 0.5 * v.zw); }

// A valid xyxy box: x1 ≥ x0, y1 ≥ y0 and no NaN (checked by bits: fast-math may fold x != x).
fn validXyxy(v: vec4f) -> bool {
  return !(is_nan(v.x) || is_nan(v.y) || is_nan(v.z) || is_nan(v.w)) && v.z >= v.x && v.w >= v.y;
}
`;

/** The four linear maps of box conversion: forward ones and the transposes their backward uses. */
export type BoxConvertMode = 'cxcywh→xyxy' | 'xyxy→cxcywh' | 'cxcywh→xyxy:T' | 'xyxy→cxcywh:T';

const CONVERT: Record<BoxConvertMode, string> = {
  // (cx − w/2, cy − h/2, cx + w/2, cy + h/2)
  'cxcywh→xyxy': 'vec4f(v.xy - 0.5 * v.zw, v.xy + 0.5 * v.zw)',
  // ((x0 + x1)/2, (y0 + y1)/2, x1 − x0, y1 − y0)
  'xyxy→cxcywh': 'vec4f(0.5 * (v.xy + v.zw), v.zw - v.xy)',
  // transposes, applied to the output gradient
  'cxcywh→xyxy:T': 'vec4f(v.xy + v.zw, 0.5 * (v.zw - v.xy))',
  'xyxy→cxcywh:T': 'vec4f(0.5 * v.xy - v.zw, 0.5 * v.xy + v.zw)',
};

export function boxConvertKernel(mode: BoxConvertMode): KernelSpec {
  return {
    key: `box-convert/${mode}`,
    inputs: 1,
    outputs: 1,
    code: () => /* wgsl */ `
${FLAT_INDEX}
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> ys: array<vec4f>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let v = xs[i];
  ys[i] = ${CONVERT[mode]};
}`,
  };
}

export type BoxPairKind = 'iou' | 'giou';

// n outputs; na, nb boxes; validate ≠ 0 checks every box once (codes name the op and operand).
const PAIR_PARAMS = `struct Params { n: u32, na: u32, nb: u32, validate: u32, codeA: u32, codeB: u32 }`;

const VALIDATE = /* wgsl */ `
fn check(v: vec4f, code: u32, index: u32) {
  if (!validXyxy(v)) { atomicMax(&asserts[0], code); atomicMax(&asserts[1], index); }
}`;

/** IoU or GIoU, pairwise (out [na, nb]) or elementwise (out [na], na = nb). */
export function boxPairKernel(kind: BoxPairKind, pairwise: boolean): KernelSpec {
  return {
    key: `box-pair/${kind}/${pairwise ? 'pairwise' : 'elementwise'}`,
    inputs: 2,
    outputs: 1,
    asserts: true,
    code: () => /* wgsl */ `
${FLAT_INDEX}
${SPECIALS}
${BOX_MATH}
${PAIR_PARAMS}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> boxesA: array<vec4f>;
@group(0) @binding(2) var<storage, read> boxesB: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> ys: array<f32>;
@group(0) @binding(4) var<storage, read_write> asserts: array<atomic<u32>, 4>;
${VALIDATE}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let r = ${pairwise ? 'i / p.nb' : 'i'};
  let c = ${pairwise ? 'i % p.nb' : 'i'};
  let a = boxesA[r];
  let b = boxesB[c];
  if (p.validate != 0u) {
    if (c == ${pairwise ? '0u' : 'r'}) { check(a, p.codeA, r); }
    if (r == ${pairwise ? '0u' : 'c'}) { check(b, p.codeB, c); }
  }
  let v = boxPair(a, b);
  ys[i] = v.${kind};
}`,
  };
}

/**
 * Backward of boxPairKernel: thread t < na writes da[t], thread na + c writes db[c] (pairwise: a
 * serial sum over the other operand, in index order; elementwise: thread k writes both).
 */
export function boxPairBackwardKernel(kind: BoxPairKind, pairwise: boolean): KernelSpec {
  const gEnc = kind === 'giou' ? 'g' : '0.0';
  return {
    key: `box-pair-backward/${kind}/${pairwise ? 'pairwise' : 'elementwise'}`,
    inputs: 3,
    outputs: 2,
    code: () => /* wgsl */ `
${FLAT_INDEX}
${SPECIALS}
${BOX_MATH}
${PAIR_PARAMS}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> boxesA: array<vec4f>;
@group(0) @binding(2) var<storage, read> boxesB: array<vec4f>;
@group(0) @binding(3) var<storage, read> gs: array<f32>;
@group(0) @binding(4) var<storage, read_write> da: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> db: array<vec4f>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  ${
    pairwise
      ? /* wgsl */ `
  if (t >= p.na + p.nb) { return; }
  if (t < p.na) {
    let a = boxesA[t];
    var acc = vec4f(0.0);
    for (var c = 0u; c < p.nb; c++) {
      let g = gs[t * p.nb + c];
      acc += boxPairGrad(a, boxesB[c], g, ${gEnc}).da;
    }
    da[t] = acc;
  } else {
    let c = t - p.na;
    let b = boxesB[c];
    var acc = vec4f(0.0);
    for (var r = 0u; r < p.na; r++) {
      let g = gs[r * p.nb + c];
      acc += boxPairGrad(boxesA[r], b, g, ${gEnc}).db;
    }
    db[c] = acc;
  }`
      : /* wgsl */ `
  if (t >= p.na) { return; }
  let g = gs[t];
  let v = boxPairGrad(boxesA[t], boxesB[t], g, ${gEnc});
  da[t] = v.da;
  db[t] = v.db;`
  }
}`,
  };
}
