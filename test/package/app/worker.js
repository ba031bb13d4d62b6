import { detectShapes } from './detect.js';

self.onmessage = (e) =>
  detectShapes(e.data.base).then(
    (dets) => postMessage({ dets }),
    (err) => postMessage({ error: String(err && err.stack ? err.stack : err) }),
  );
