import { detectShapes } from './detect.js';

const endpoint = new URLSearchParams(location.search).get('endpoint');

async function inWorker(base) {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data.result));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage({ base, endpoint });
  });
}

try {
  const main = await detectShapes(location.href, endpoint);
  const worker = await inWorker(location.href);
  window.results = { main, worker };
} catch (e) {
  window.results = { error: String(e && e.stack ? e.stack : e) };
}
