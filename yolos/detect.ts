/** End-to-end detection: images in, detections out (one image per forward: YOLOS has no padding mask). */
import { scope } from '../engine/index.ts';
import type { Yolos } from './model.ts';
import type { YolosConfig } from './config.ts';
import { checkRgbImage, type RgbImage, type ResizeOptions } from './preprocess.ts';
import { preprocess } from './preprocess-tensor.ts';
import { postprocess, type Detection } from './postprocess.ts';

/** The processor settings a config was trained with: Hub tiny 512/1333, other Hub models 800/1333, small grids their own size. */
export function defaultResize(c: YolosConfig): ResizeOptions {
  const [h, w] = c.image_size;
  if (Math.max(h, w) <= 256) return { shortestEdge: Math.min(h, w), longestEdge: Math.max(h, w) };
  return { shortestEdge: c.hidden_size === 192 && !c.use_mid_position_embeddings ? 512 : 800, longestEdge: 1333 };
}

/**
 * Detects objects in each image (padding changes YOLOS's predictions, so images run one at a time).
 * @example const [dets] = await detect(model, [{ width, height, data: rgba }], { threshold: 0.9 });
 */
export async function detect(
  model: Yolos,
  images: RgbImage[],
  opts: { threshold?: number; resize?: ResizeOptions } = {},
): Promise<Detection[][]> {
  if (!Array.isArray(images)) throw new Error(`detect: expected an array of images, got ${typeof images}`);
  images.forEach((img, i) => checkRgbImage(img, `detect: image ${i}`)); // all of them before the first forward
  const resize = opts.resize ?? defaultResize(model.config);
  const out: Detection[][] = [];
  for (const img of images) {
    const { pixelValues, originalSizes } = preprocess([img], resize);
    const pred = scope(() => model.predict(pixelValues));
    pixelValues.dispose();
    try {
      out.push(...(await postprocess(pred, originalSizes, { threshold: opts.threshold ?? 0.5, id2label: model.config.id2label })));
    } finally {
      pred.logits.dispose();
      pred.boxes.dispose();
    }
  }
  return out;
}
