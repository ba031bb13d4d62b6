/**
 * Box ops (DETR's util/box_ops.py) with autograd: format conversion, pairwise IoU / GIoU matrices and
 * the elementwise GIoU of matched pairs. Kernels and the degenerate-box convention: kernels/wgsl/box.wgsl.ts.
 *
 * Degenerate boxes: IoU = 0 when the union is 0 and the enclosing term is 0 when the enclosing area
 * is 0 (DETR gives NaN there), so GIoU(b, b) = 0 for a zero-area box b; values and gradients stay
 * finite. Validation mode (`setValidation(true)` or env `YOLOS_VALIDATE=1`) checks on the GPU that
 * every input box is valid xyxy (x1 ≥ x0, y1 ≥ y0, no NaN) — DETR asserts this — and the next
 * readback throws an IndexError naming the op, the operand and the first bad box it saw.
 */
import { Tensor } from '../tensor.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d } from '../kernels/wgsl/common.ts';
import { boxConvertKernel, boxPairKernel, boxPairBackwardKernel, type BoxConvertMode, type BoxPairKind } from '../kernels/wgsl/box.wgsl.ts';
import { buf, checkTensor, checkFloat } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';

let validation = typeof process !== 'undefined' && process.env?.YOLOS_VALIDATE === '1';

/**
 * Turns validation mode on or off (default: env YOLOS_VALIDATE=1). When on, box ops check their
 * inputs on the GPU (no sync); an invalid box makes the next readback throw.
 * @example setValidation(true); await generalizedBoxIou(a, b).data(); // throws on an invalid box
 */
export function setValidation(on: boolean): void {
  validation = on;
}

/** Whether validation mode is on. */
export function validationEnabled(): boolean {
  return validation;
}

function checkBoxes(op: string, t: Tensor, what: string, rank2: boolean): void {
  checkTensor(op, t, what);
  checkFloat(op, t, what);
  const ok = rank2 ? t.rank === 2 && t.shape[1] === 4 : t.rank >= 1 && t.shape[t.rank - 1] === 4;
  if (!ok) throw new ShapeError(`${op}: ${what} must have shape ${rank2 ? '[N,4]' : '[...,4]'}, got ${fmtShape(t.shape)}`);
}

function convertRaw(op: string, x: Tensor, mode: BoxConvertMode): Tensor {
  const out = Tensor.empty(x.shape, 'f32', op);
  const n = x.size / 4;
  if (n > 0) rt().dispatch(boxConvertKernel(mode), new Params().u32(n).bytes(), [buf(op, x), buf(op, out)], grid1d(n));
  return out;
}

function convert(op: string, b: Tensor, mode: 'cxcywh→xyxy' | 'xyxy→cxcywh'): Tensor {
  checkBoxes(op, b, 'boxes', false);
  const out = convertRaw(op, b, mode);
  if (needsGrad(b)) record(op, [b], out, (g) => [convertRaw(`${op}.backward`, g, `${mode}:T`)]);
  return out;
}

/**
 * (cx, cy, w, h) → (x0, y0, x1, y1) = (cx − w/2, cy − h/2, cx + w/2, cy + h/2) over the last axis.
 * @example boxCxcywhToXyxy(tensor([[0.5, 0.5, 0.2, 0.4]])) // [[0.4, 0.3, 0.6, 0.7]]
 */
export const boxCxcywhToXyxy = (b: Tensor): Tensor => convert('boxCxcywhToXyxy', b, 'cxcywh→xyxy');

/**
 * (x0, y0, x1, y1) → ((x0 + x1)/2, (y0 + y1)/2, x1 − x0, y1 − y0) over the last axis.
 * @example boxXyxyToCxcywh(tensor([[0.4, 0.3, 0.6, 0.7]])) // [[0.5, 0.5, 0.2, 0.4]]
 */
export const boxXyxyToCxcywh = (b: Tensor): Tensor => convert('boxXyxyToCxcywh', b, 'xyxy→cxcywh');

function pair(op: string, kind: BoxPairKind, pairwise: boolean, a: Tensor, b: Tensor): Tensor {
  checkBoxes(op, a, 'boxes1', true);
  checkBoxes(op, b, 'boxes2', true);
  const na = a.shape[0],
    nb = b.shape[0];
  if (!pairwise && na !== nb)
    throw new ShapeError(`${op}: boxes1 ${fmtShape(a.shape)} and boxes2 ${fmtShape(b.shape)} must have the same number of boxes`);
  const outShape = pairwise ? [na, nb] : [na];
  const out = Tensor.empty(outShape, 'f32', op);
  const r = rt();
  // No shapes in the message: each distinct message takes an assert code for the engine's lifetime.
  const bad = (what: string) =>
    r.assertCode(`${op}: box {a} of ${what} is not a valid xyxy box (validation mode needs x1 ≥ x0, y1 ≥ y0 and no NaN)`);
  const p = new Params().u32(out.size, na, nb, validation ? 1 : 0, bad('boxes1'), bad('boxes2')).bytes();
  if (out.size > 0) r.dispatch(boxPairKernel(kind, pairwise), p, [buf(op, a), buf(op, b), buf(op, out)], grid1d(out.size));
  if (needsGrad(a, b)) {
    record(
      op,
      [a, b],
      out,
      (g, [sa, sb]) => {
        const da = Tensor.empty(sa.shape, 'f32', `${op}.backward`);
        const db = Tensor.empty(sb.shape, 'f32', `${op}.backward`);
        const threads = pairwise ? na + nb : na;
        if (threads > 0) {
          const q = new Params().u32(out.size, na, nb, 0, 0, 0).bytes();
          rt().dispatch(
            boxPairBackwardKernel(kind, pairwise),
            q,
            [sa, sb, g, da, db].map((t) => buf(`${op}.backward`, t)),
            grid1d(threads),
          );
        }
        return [da, db];
      },
      [a, b],
    );
  }
  return out;
}

/**
 * Pairwise IoU of xyxy boxes: [N,4] × [M,4] → [N,M]; 0 where the union is 0.
 * @example boxIou(tensor([[0, 0, 2, 2]]), tensor([[1, 1, 3, 3]])) // [[1/7]]
 */
export const boxIou = (a: Tensor, b: Tensor): Tensor => pair('boxIou', 'iou', true, a, b);

/**
 * Pairwise generalised IoU (Rezatofighi et al. 2019) of xyxy boxes: [N,4] × [M,4] → [N,M],
 * IoU − (area(C) − union)/area(C) with C the enclosing box; the second term is 0 when area(C) is 0.
 * @example generalizedBoxIou(tensor([[0, 0, 1, 1]]), tensor([[2, 2, 3, 3]])) // [[−7/9]]
 */
export const generalizedBoxIou = (a: Tensor, b: Tensor): Tensor => pair('generalizedBoxIou', 'giou', true, a, b);

/**
 * GIoU of matched pairs (the diagonal of generalizedBoxIou without the N×M matrix): [K,4] × [K,4] → [K].
 * @example elementwiseGiou(pred, target).neg().add(1).sum() // Σ (1 − GIoU), DETR's loss_giou numerator
 */
export const elementwiseGiou = (a: Tensor, b: Tensor): Tensor => pair('elementwiseGiou', 'giou', false, a, b);

/** IoU of matched pairs: [K,4] × [K,4] → [K]. */
export const elementwiseIou = (a: Tensor, b: Tensor): Tensor => pair('elementwiseIou', 'iou', false, a, b);
