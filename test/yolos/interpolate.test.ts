/**
 * The bicubic matrices are cached on the GPU per engine: after `dispose()` and a fresh `init()` the
 * resize must build them again on the new device (before the fix it bound the old device's buffers
 * and the readback failed with a WebGPU validation error). The values are a 2×2 → 3×3 resize compared
 * with the same matrices applied on the CPU (f32 matmuls of 2 terms: 1e-6 is ample).
 */
import { describe, it, expect } from 'vitest';
import { init, tensor } from '../../engine/index.ts';
import { resizeBicubic, bicubicMatrix } from '../../yolos/interpolate.ts';

const grid = [1, 2, 3, 4]; // [1, 2, 2]

function cpuResize(): number[] {
  const w = bicubicMatrix(2, 3); // [3, 2], the same for both axes
  const out: number[] = [];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) s += w[i * 2 + a] * grid[a * 2 + b] * w[j * 2 + b];
      out.push(s);
    }
  return out;
}

async function resizeOnce(): Promise<number[]> {
  const g = tensor(grid, [1, 2, 2]);
  const out = resizeBicubic(g, 3, 3);
  const values = Array.from((await out.data()) as Float32Array);
  g.dispose();
  out.dispose();
  return values;
}

describe('resizeBicubic across engines', () => {
  it('rebuilds its cached matrices after dispose() and init()', async () => {
    const want = cpuResize();
    const first = await init();
    const a = await resizeOnce();
    first.dispose();
    const second = await init();
    try {
      const b = await resizeOnce();
      for (const got of [a, b]) got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-6));
    } finally {
      second.dispose();
    }
  });
});
