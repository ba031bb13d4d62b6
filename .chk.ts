import { init, tensor, scope } from './engine/index.ts';
import { detect, postprocess, collate, shapesDataset, Yolos } from './yolos/index.ts';
import { SHAPES_VAL } from './yolos/train/data.ts';
import { loadCheckpoint } from './yolos/train/checkpoint.ts';
await init();
const ck = await loadCheckpoint('/tmp/ckpt.safetensors');
const model = ck.model; model.eval();
const val = shapesDataset({ ...SHAPES_VAL, count: 6, size: 64 });
const b = collate(Array.from({ length: 6 }, (_, i) => val.get(i)));
const x = tensor(b.pixels, b.shape);
const pred = scope(() => model.predict(x));
const dets = await postprocess(pred, b.sizes, { threshold: 0, id2label: model.config.id2label });
dets.forEach((d, i) => console.log(i, d.sort((a, b) => b.score - a.score).slice(0, 4).map((q) => `${q.labelName} ${q.score.toFixed(2)} [${q.box.map((v) => v.toFixed(0))}]`).join(' | ')));
// the same image through detect() (8-bit RGBA, HF preprocessing)
const s = val.get(0); const n = 64 * 64; const data = new Uint8ClampedArray(n * 4);
for (let p = 0; p < n; p++) { data[4*p] = s.image[p]*255; data[4*p+1] = s.image[n+p]*255; data[4*p+2] = s.image[2*n+p]*255; data[4*p+3] = 255; }
const [d0] = await detect(model, [{ width: 64, height: 64, data, channels: 4 }], { threshold: 0 });
console.log('detect()', d0.sort((a, b) => b.score - a.score).slice(0, 4).map((q) => `${q.labelName} ${q.score.toFixed(2)} [${q.box.map((v) => v.toFixed(0))}]`).join(' | '));
process.exit(0);
