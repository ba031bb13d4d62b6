/**
 * DETR's util/box_ops.py over the engine's public box ops (one kernel each, with
 * autograd). Boxes are [..., 4] f32 tensors; IoU and GIoU take xyxy boxes.
 *
 *   box_cxcywh_to_xyxy  → boxCxcywhToXyxy      box_xyxy_to_cxcywh → boxXyxyToCxcywh
 *   box_iou(b1, b2)[0]  → boxIou  [N,M]        generalized_box_iou → generalizedBoxIou [N,M]
 *   diag(generalized_box_iou(a, b)) → elementwiseGiou [K] (without building the K×K matrix)
 *
 * Unlike DETR, degenerate boxes give finite values (IoU 0 for an empty union, no enclosing term
 * for an empty enclosing box: GIoU of two identical points is 0, not NaN), and DETR's assert that
 * boxes are valid xyxy runs only in validation mode (setValidation(true) or YOLOS_VALIDATE=1).
 */
export {
  boxCxcywhToXyxy,
  boxXyxyToCxcywh,
  boxIou,
  generalizedBoxIou,
  elementwiseGiou,
  elementwiseIou,
  setValidation,
} from '../engine/index.ts';
