/**
 * The model against an independent PyTorch implementation (tools/yolos_reference.py): a small config
 * with mid position embeddings, seeded weights in the Hub layout, two inputs — the second (80×32 on a
 * 48×64 grid) forces the bicubic interpolation up on one axis and down on the other.
 *
 * The reference ran in float64, so the differences are our f32 rounding: logits are O(2) after 3
 * blocks of D = 32, each op adding a few ulp of its operands (matmul γ_K·Σ|ab| with K ≤ 768); the
 * measured error is ~1e-6, and HF's conversion-script bound, 1e-4 absolute on logits, is asserted.
 */
import { describe, it, expect } from 'vitest';
import { tensor, scope } from '../../engine/index.ts';
import { Yolos, parseConfig, readSafetensors, type SafeTensor } from '../../yolos/index.ts';
import { useEngine, expectClose } from './util.ts';
import { loadFixture } from './fixtures.ts';

useEngine();

describe('YOLOS matches the PyTorch reference', () => {
  it('logits and boxes for two input sizes (one forcing interpolation) within 1e-4', async () => {
    const config = parseConfig(new TextDecoder().decode(await loadFixture('../fixtures/yolos-ref/config.json')));
    const model = Yolos.fromSafetensors(await loadFixture('../fixtures/yolos-ref/model.safetensors'), config);
    const io = readSafetensors(await loadFixture('../fixtures/yolos-ref/io.safetensors'));
    const exact = (k: string) => {
      const hi = io.get(k) as SafeTensor,
        lo = io.get(`${k}.lo`) as SafeTensor;
      return { shape: hi.shape, data: Float64Array.from(hi.data as Float32Array, (v, i) => v + (lo.data as Float32Array)[i]!) };
    };
    let worst = 0;
    for (const i of [0, 1]) {
      const input = io.get(`input${i}`)!;
      const { logits, boxes } = scope(() => model.predict(tensor(input.data as Float32Array, input.shape)));
      const wantLogits = exact(`logits${i}`),
        wantBoxes = exact(`boxes${i}`);
      expect([...logits.shape]).toEqual(wantLogits.shape);
      const got = await logits.data();
      expectClose(got, wantLogits, { atol: 1e-4 }, `logits${i}`);
      expectClose(await boxes.data(), wantBoxes, { atol: 1e-4 }, `boxes${i}`);
      got.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - wantLogits.data[k]))));
      logits.dispose();
      boxes.dispose();
    }
    console.log(`YOLOS vs PyTorch (f64): max |Δlogit| = ${worst.toExponential(2)}`);
    model.dispose();
  });
});
