/**
 * COCO evaluation of a model on a validation source, the DETR/YOLOS way: every one of the Q slots of
 * every image is a detection (no threshold), scored by its best real class (no-object dropped before
 * the arg-max), boxes in pixels of the original image.
 */
import { tensor, scope } from '../../engine/index.ts';
import { normalizeImageNet } from '../data/augment.ts';
import { cocoEvaluate, type CocoDetection, type CocoEvalResult } from '../eval/coco-eval.ts';
import type { Yolos } from '../model.ts';
import type { ValSource, LabelMap } from './data.ts';

export async function evaluate(
  model: Yolos,
  val: ValSource,
  labels: LabelMap,
  opts: { batch?: number; limit?: number } = {},
): Promise<{ result: CocoEvalResult; detections: CocoDetection[] }> {
  const n = Math.min(val.length, opts.limit ?? val.length);
  if (!(n > 0))
    throw new Error(
      `evaluate: no images to evaluate (the validation data has ${val.length}, limit ${opts.limit ?? 'none'}); expected at least one`,
    );
  const detections: CocoDetection[] = [];
  const seen = new Set<number>();
  const batch = opts.batch ?? 16;
  for (let i0 = 0; i0 < n; i0 += batch) {
    const items = [];
    for (let i = i0; i < Math.min(n, i0 + batch); i++) items.push(await val.get(i));
    // one forward per size group: images of one size need no padding (which would change predictions)
    const groups = new Map<string, typeof items>();
    for (const it of items) {
      const k = `${it.height}x${it.width}`;
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k)!.push(it);
    }
    for (const group of groups.values()) {
      const { height: H, width: W } = group[0];
      const pixels = new Float32Array(group.length * 3 * H * W);
      group.forEach((s, b) => pixels.set(normalizeImageNet(s.image), b * 3 * H * W));
      const x = tensor(pixels, [group.length, 3, H, W]);
      const { probs, boxes } = scope(() => {
        const out = model.predict(x);
        return { probs: out.logits.softmax(-1), boxes: out.boxes };
      });
      x.dispose();
      const p = await probs.data(),
        bx = await boxes.data();
      const [, Q, C1] = probs.shape;
      probs.dispose();
      boxes.dispose();
      group.forEach((s, b) => {
        seen.add(s.imageId);
        const [oh, ow] = s.origSize;
        for (let q = 0; q < Q; q++) {
          const row = (b * Q + q) * C1;
          let best = 0;
          for (let c = 1; c < C1 - 1; c++) if (p[row + c] > p[row + best]) best = c;
          const [cx, cy, w, h] = bx.subarray((b * Q + q) * 4, (b * Q + q) * 4 + 4);
          detections.push({
            image_id: s.imageId,
            category_id: labels.categoryIds[best],
            score: p[row + best],
            bbox: [(cx - w / 2) * ow, (cy - h / 2) * oh, w * ow, h * oh],
          });
        }
      });
    }
  }
  const gt =
    n === val.length
      ? val.groundTruth
      : {
          ...val.groundTruth,
          images: val.groundTruth.images.filter((im) => seen.has(im.id)),
          annotations: val.groundTruth.annotations.filter((a) => seen.has(a.image_id)),
        };
  return { result: cocoEvaluate(gt, detections), detections };
}
