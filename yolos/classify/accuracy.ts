/** Top-1 accuracy of a ViTClassifier on a range of the shapes-classification stream. */
import { tensor, scope } from '../../engine/index.ts';
import { classifyBatch } from '../data/shapes-classify.ts';
import type { ViTClassifier } from './vit-classifier.ts';

/**
 * The fraction of images `start … start + count − 1` of stream `seed` whose arg-max logit is the label.
 * @example await classifyAccuracy(vit, { ...SHAPES_CLASSIFY_VAL, count: 500 }) // 0.97
 */
export async function classifyAccuracy(
  model: ViTClassifier,
  opts: { seed: number; start: number; count: number; batch?: number },
): Promise<number> {
  const size = model.config.image_size,
    batch = opts.batch ?? 50;
  let correct = 0;
  for (let i = 0; i < opts.count; i += batch) {
    const n = Math.min(batch, opts.count - i);
    const { pixels, labels } = classifyBatch({ seed: opts.seed, start: opts.start + i, count: n, size });
    const x = tensor(pixels, [n, 3, size, size]);
    const logits = scope(() => model.predict(x));
    x.dispose();
    const v = (await logits.data()) as Float32Array;
    const K = logits.shape[1];
    logits.dispose();
    for (let b = 0; b < n; b++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (v[b * K + k] > v[b * K + best]) best = k;
      if (best === labels[b]) correct++;
    }
  }
  return correct / opts.count;
}
