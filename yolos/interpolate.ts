/**
 * PyTorch's bicubic resize (F.interpolate(mode='bicubic', align_corners=False), no antialias) as two
 * matrices: out = Wh · grid · Wwᵀ per channel. Being matmuls, it is differentiable for free (the
 * adjoint is the transposed weights), so the stored position-embedding grid trains. As HF, the model
 * resizes the patch grid (config.image_size / 16) to (H/16, W/16) every forward; [CLS] and [DET]
 * embeddings are never resized. PyTorch's rules, kept below: A = −0.75, src = scale·(dst + 0.5) − 0.5
 * not clamped at 0, taps clamped to the edge, no antialias.
 */
import { tensor, keep, engine, type Tensor, type Engine } from '../engine/index.ts';

const A = -0.75;
const cc1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1; // |x| ≤ 1
const cc2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 < |x| < 2

/** The [out, in] matrix of a 1-D bicubic resize with PyTorch's semantics. */
export function bicubicMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float64Array(outSize * inSize);
  // PyTorch computes the scale in f32 (accscalar_t for float tensors) as in/out when a size is given.
  const scale = Math.fround(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.fround(scale * (o + 0.5) - 0.5); // not clamped at 0 in cubic mode
    const i = Math.floor(src);
    const t = Math.min(Math.max(src - i, 0), 1);
    const w = [cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)];
    for (let k = 0; k < 4; k++) {
      const idx = Math.min(Math.max(i - 1 + k, 0), inSize - 1);
      m[o * inSize + idx] += w[k];
    }
  }
  return Float32Array.from(m);
}

const cache = new Map<string, Tensor>();
let cacheOwner: Engine | null = null;

/** The bicubic matrix as a cached GPU tensor (engine-lifetime constant, kept out of scopes). */
export function bicubicTensor(inSize: number, outSize: number): Tensor {
  const e = engine();
  // After dispose() and init() the old tensors' buffers belong to a destroyed device: drop them
  // (not dispose: that would count them off the new engine's live tensors).
  if (cacheOwner !== e) {
    cache.clear();
    cacheOwner = e;
  }
  const key = `${inSize}->${outSize}`;
  let t = cache.get(key);
  if (!t || t.disposed) {
    t = keep(tensor(bicubicMatrix(inSize, outSize), [outSize, inSize]));
    cache.set(key, t);
  }
  return t;
}

/** Resizes grid [C, inH, inW] to [C, outH, outW] bicubically (autograd flows to the grid). */
export function resizeBicubic(grid: Tensor, outH: number, outW: number): Tensor {
  const [, inH, inW] = grid.shape;
  if (inH === outH && inW === outW) return grid.reshape([...grid.shape]); // bicubic at scale 1 is the identity
  const wh = bicubicTensor(inH, outH); // [outH, inH]
  const ww = bicubicTensor(inW, outW); // [outW, inW]
  const rows = wh.matmul(grid); // [C, outH, inW] (wh broadcast over channels)
  return rows.matmul(ww, { transposeB: true }); // [C, outH, outW]
}
