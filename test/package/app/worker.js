import { detectShapes } from './detect.js';

self.onmessage = (e) =>
  detectShapes(e.data.base, e.data.endpoint).then(
    (result) => postMessage({ result }),
    (err) => postMessage({ error: String(err && err.stack ? err.stack : err) }),
  );
