/**
 * Yolos.to('f16') on the PyTorch fixture (test/fixtures/yolos-ref: D = 32, 3 blocks, mid position
 * embeddings, two input sizes). f16 mode must be exactly "weights rounded to f16, arithmetic in f32":
 * an f32 model given the f16-rounded weights agrees to f32 rounding (the reference test's 1e-4).
 * Against the unrounded f32 model each weight moves by ≤ 2⁻¹¹ relative, so each matmul output moves
 * by ≤ 2⁻¹¹·Σ|w·x|; the path to a logit crosses 22 matmuls (patch, 3 × (q, k, v, out, fc1, fc2), the
 * 3 head layers), each LayerNorm renormalising, so |Δlogit| ≤ 22·2⁻¹¹·max|logit| (≈ 1.1%) is asserted
 * (measured: ~30× below). Also: exact round trip, training refused, no shader-f16 refused.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { init, tensor, scope, DTypeError, type Engine, type Tensor } from '../../engine/index.ts';
import { roundToF16 } from '../../engine/dtype.ts';
import { Yolos, parseConfig, readSafetensors, type SafeTensor } from '../../yolos/index.ts';

const dir = 'test/fixtures/yolos-ref';
const config = parseConfig(readFileSync(`${dir}/config.json`, 'utf8'));
const weights = new Uint8Array(readFileSync(`${dir}/model.safetensors`));
const io = readSafetensors(new Uint8Array(readFileSync(`${dir}/io.safetensors`)));
const input = (i: number) => io.get(`input${i}`) as SafeTensor;

let engine: Engine = await init();
const hasF16 = engine.hasFeature('shader-f16');
afterAll(() => engine.dispose());

async function run(model: Yolos, i: number): Promise<{ logits: Float32Array; boxes: Float32Array }> {
  const x = input(i);
  const out = scope(() => model.predict(tensor(x.data as Float32Array, x.shape)));
  const r = { logits: (await out.logits.data()) as Float32Array, boxes: (await out.boxes.data()) as Float32Array };
  out.logits.dispose();
  out.boxes.dispose();
  return r;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
};
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]));
  return m;
};
const bits = async (t: Tensor) => new Uint32Array(((await t.data()) as Float32Array).slice().buffer);

describe.skipIf(!hasF16)("Yolos.to('f16') (lavapipe: shader-f16)", () => {
  it('stores the matmul weights in f16 and predicts as f16-rounded weights with f32 arithmetic', async () => {
    const f32 = Yolos.fromSafetensors(weights, config);
    const rounded = Yolos.fromSafetensors(weights, config);
    for (const [name, t] of rounded.params) {
      if (name.endsWith('.weight') && t.rank >= 2)
        rounded.loadStateDict(
          { [name]: { dtype: 'F32', shape: [...t.shape], data: roundToF16((await t.data()) as Float32Array) } },
          { strict: false },
        );
    }
    const half = Yolos.fromSafetensors(weights, config).to('f16');
    expect(half.dtype).toBe('f16');
    const dtypes = new Map([...half.params].map(([n, t]) => [n, t.dtype]));
    expect(dtypes.get('vit.encoder.layer.0.attention.attention.query.weight')).toBe('f16');
    expect(dtypes.get('vit.embeddings.patch_embeddings.projection.weight')).toBe('f16');
    expect(dtypes.get('bbox_predictor.layers.2.weight')).toBe('f16');
    for (const n of [
      'vit.encoder.layer.0.attention.attention.query.bias',
      'vit.layernorm.weight',
      'vit.embeddings.position_embeddings',
      'vit.embeddings.detection_tokens',
    ])
      expect(dtypes.get(n), n).toBe('f32');
    for (const i of [0, 1]) {
      const a = await run(f32, i),
        r = await run(rounded, i),
        h = await run(half, i);
      expect(maxDiff(h.logits, r.logits), `logits${i} vs rounded f32`).toBeLessThan(1e-4);
      expect(maxDiff(h.boxes, r.boxes), `boxes${i} vs rounded f32`).toBeLessThan(1e-4);
      const d = maxDiff(h.logits, a.logits),
        bound = 22 * 2 ** -11 * maxAbs(a.logits);
      console.log(
        `fixture input${i}: f16 vs f32 max |Δlogit| ${d.toExponential(2)} (bound ${bound.toExponential(2)}), |Δbox| ${maxDiff(h.boxes, a.boxes).toExponential(2)}`,
      );
      expect(d).toBeLessThan(bound);
      expect(maxDiff(h.boxes, a.boxes)).toBeLessThan(22 * 2 ** -11 * 0.25); // sigmoid' ≤ 1/4 on the box logits' bound, which are O(1)
      expect(d).toBeGreaterThan(0); // the weights really are rounded
    }
    f32.dispose();
    rounded.dispose();
    half.dispose();
  });

  it("to('f32') restores the exact weights and flags, frees the f16 copies; keepF32: false widens the f16 values", async () => {
    const start = engine.memory().tensors;
    const model = Yolos.fromSafetensors(weights, config);
    model.params.get('vit.layernorm.bias')!.requiresGrad = false; // a frozen parameter stays frozen
    const before = new Map<string, Uint32Array>();
    for (const [n, t] of model.params) before.set(n, await bits(t));
    const tensors = engine.memory().tensors;
    model.to('f16');
    expect([...model.params.values()].every((t) => !t.requiresGrad)).toBe(true);
    model.to('f32');
    expect(model.dtype).toBe('f32');
    expect(engine.memory().tensors).toBe(tensors);
    for (const [n, t] of model.params) {
      expect(t.dtype, n).toBe('f32');
      expect(await bits(t), n).toEqual(before.get(n));
      expect(t.requiresGrad, n).toBe(n !== 'vit.layernorm.bias');
    }
    model.to('f16', { keepF32: false });
    expect(engine.memory().tensors).toBe(tensors); // no f32 copies kept
    model.to('f32');
    const w = 'vit.encoder.layer.1.intermediate.dense.weight';
    const original = new Float32Array(before.get(w)!.buffer);
    expect(await model.params.get(w)!.data()).toEqual(roundToF16(original));
    model.to('f16').dispose();
    expect(engine.memory().tensors).toBe(start); // dispose frees the kept f32 weights too
  });

  it('refuses training, saving and loading in f16 mode, and f16 while training', async () => {
    const model = Yolos.fromSafetensors(weights, config);
    expect(() => model.train().to('f16')).toThrow(/Yolos.to\('f16'\): the model is in training mode/);
    model.eval().to('f16');
    expect(() => model.train()).toThrow(DTypeError);
    expect(() => model.train()).toThrow(/Yolos.train: the model is in f16 inference mode .*call model.to\('f32'\) first/);
    await expect(model.saveSafetensors()).rejects.toThrow(/Yolos.saveSafetensors: the model is in f16 inference mode/);
    expect(() => model.loadStateDict(new Map(), { strict: false })).toThrow(/Yolos.loadStateDict: the model is in f16 inference mode/);
    expect(() => model.to('f64' as 'f32')).toThrow(/Yolos.to: expected 'f16' or 'f32', got "f64"/);
    expect(model.eval().training).toBe(false); // eval stays allowed
    model.to('f32').train();
    expect(model.training).toBe(true);
    model.dispose();
  });
});

describe("Yolos.to('f16') without shader-f16", () => {
  it('throws a DTypeError naming the adapter and leaves the model f32', async () => {
    engine.dispose();
    engine = await init({ disableFeatures: ['shader-f16'] });
    const model = Yolos.fromSafetensors(weights, config);
    const tensors = engine.memory().tensors;
    expect(() => model.to('f16')).toThrow(DTypeError);
    expect(() => model.to('f16')).toThrow(
      /Yolos.to\('f16'\): dtype f16 needs the WebGPU feature 'shader-f16', which the adapter '.+' \(\w+\) does not have/,
    );
    expect(model.dtype).toBe('f32');
    expect([...model.params.values()].every((t) => t.dtype === 'f32' && t.requiresGrad)).toBe(true);
    expect(engine.memory().tensors).toBe(tensors);
    await run(model, 0); // still predicts
    model.dispose();
  });
});
