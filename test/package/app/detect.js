// What a consumer app writes: the detector one-liner on a model folder URL and an image URL.
import { createDetector } from 'yolos-webgpu';

export async function detectShapes(base) {
  const detector = await createDetector(new URL('./', base).href, { cache: false });
  const [dets] = await detector([new URL('./shapes.png', base).href], { threshold: 0.5 });
  detector.dispose();
  return dets;
}
