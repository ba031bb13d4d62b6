/**
 * Post-processing like DETR's PostProcess / HF post_process_object_detection: softmax over
 * all classes, drop "no object" BEFORE the arg-max, keep scores above the threshold (strict), boxes
 * cxcywh → xyxy in pixels of the original image. No NMS, no top-k.
 */
import { scope, type Tensor } from '../engine/index.ts';
import type { YolosOutput } from './model.ts';

export interface Detection {
  score: number;
  /** Class index (a raw COCO id for Hub models). */
  label: number;
  labelName: string;
  /** [x0, y0, x1, y1] in pixels of the original image. */
  box: [number, number, number, number];
}

/**
 * @param targetSizes per image, [height, width] of the original image (boxes are relative to the
 *   unpadded resized image, so scaling by the original size is right).
 */
export async function postprocess(
  out: YolosOutput,
  targetSizes: [number, number][],
  opts: { threshold?: number; id2label?: Record<string, string> } = {},
): Promise<Detection[][]> {
  const threshold = opts.threshold ?? 0.5;
  const [B, Q, C1] = out.logits.shape;
  if (targetSizes.length !== B) throw new Error(`postprocess: ${targetSizes.length} target sizes for a batch of ${B}`);
  const probs = scope(() => out.logits.softmax(-1)) as Tensor;
  const p = await probs.data();
  probs.dispose();
  const bx = await out.boxes.data();
  const result: Detection[][] = [];
  for (let b = 0; b < B; b++) {
    const [h, w] = targetSizes[b];
    const dets: Detection[] = [];
    for (let q = 0; q < Q; q++) {
      const row = (b * Q + q) * C1;
      let best = 0;
      for (let c = 1; c < C1 - 1; c++) if (p[row + c] > p[row + best]) best = c; // no-object (last) excluded
      const score = p[row + best];
      if (!(score > threshold)) continue;
      const [cx, cy, bw, bh] = bx.subarray((b * Q + q) * 4, (b * Q + q) * 4 + 4);
      dets.push({
        score,
        label: best,
        labelName: opts.id2label?.[String(best)] ?? String(best),
        box: [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h],
      });
    }
    result.push(dets);
  }
  return result;
}
