// What a consumer app writes: the detector one-liner on a Hub model id and an image URL.
import { createDetector } from 'yolos-webgpu';

export async function detectShapes(base, endpoint) {
  const progress = [];
  const detector = await createDetector('test-org/nano16', { endpoint, onProgress: (p) => progress.push(p.file) });
  const [dets] = await detector([new URL('./shapes.png', base).href], { threshold: 0.5 });
  detector.dispose();
  return { dets, downloaded: [...new Set(progress)] };
}
