/**
 * Yolos.checkpointBlocks: a training forward + backward gives the same outputs and every parameter
 * the same gradient as without it, bit for bit (Float32Array equality: the recompute runs the same
 * kernels on the same values on this adapter), uses less peak memory, and leaves nothing behind.
 */
import { describe, it, expect } from 'vitest';
import { randn, scope, engine, tensor } from '../../engine/index.ts';
import { Yolos, presets, type YolosConfig } from '../../yolos/index.ts';
import { useEngine } from '../gpu/util.ts';

useEngine();

/** One training forward + backward; outputs, every gradient and the step's peak bytes. */
async function step(model: Yolos, ck: boolean, shape: [number, number, number, number]) {
  model.checkpointBlocks = ck;
  const x = randn(shape, { seed: 5 });
  await engine().flush();
  engine().pool.resetPeak();
  const { logits, boxes, loss } = scope(() => {
    const out = model.forward(x);
    return { ...out, loss: out.logits.square().mean().add(out.boxes.sum()) };
  });
  loss.backward();
  const grads = new Map<string, Float32Array>();
  for (const [name, p] of model.namedParameters()) grads.set(name, (await p.grad!.data()) as Float32Array);
  const peakBytes = engine().memory().peakBytes;
  const values = { logits: await logits.data(), boxes: await boxes.data() };
  for (const t of [x, logits, boxes, loss]) t.dispose();
  for (const p of model.parameters()) {
    p.grad!.dispose();
    p.grad = null;
  }
  return { values, grads, peakBytes };
}

async function expectIdentical(config: YolosConfig, shape: [number, number, number, number]) {
  const model = Yolos.create(config, { seed: 3, init: 'fanin' });
  const plain = await step(model, false, shape);
  const ck = await step(model, true, shape);
  expect(ck.values.logits).toEqual(plain.values.logits);
  expect(ck.values.boxes).toEqual(plain.values.boxes);
  for (const [name, g] of plain.grads) {
    const got = ck.grads.get(name)!;
    if (!got.every((v, i) => Object.is(v, g[i]))) {
      const i = got.findIndex((v, k) => !Object.is(v, g[k]));
      throw new Error(`${name}: gradient differs with checkpointBlocks at [${i}]: ${got[i]} vs ${g[i]}`);
    }
  }
  expect([...plain.grads.values()].some((g) => g.some((v) => v !== 0))).toBe(true);
  model.dispose();
  return { plain: plain.peakBytes, ck: ck.peakBytes };
}

describe('Yolos.checkpointBlocks', () => {
  it('nano16, batch 4 at 64×64: identical outputs and gradients, lower peak memory', async () => {
    const peak = await expectIdentical(presets.nano16, [4, 3, 64, 64]);
    expect(peak.ck).toBeLessThan(peak.plain);
  });

  it('with mid position embeddings (small-style) on a 48×32 input: identical', async () => {
    const mid: YolosConfig = {
      ...presets.nano16,
      hidden_size: 16,
      num_hidden_layers: 3,
      intermediate_size: 32,
      num_detection_tokens: 3,
      image_size: [32, 48],
      use_mid_position_embeddings: true,
    };
    await expectIdentical(mid, [2, 3, 48, 32]);
  });

  it('tiny (12 blocks of width 192) on a 32×48 input: identical', async () => {
    await expectIdentical(presets.tiny, [1, 3, 32, 48]);
  });

  it('leaves no tensor or byte behind and changes nothing in predict', async () => {
    const model = Yolos.create(presets.nano16, { seed: 4 });
    await step(model, true, [2, 3, 32, 32]);
    await engine().flush();
    const before = engine().memory();
    await step(model, true, [2, 3, 32, 32]);
    await engine().flush();
    const after = engine().memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.liveBytes).toBe(before.liveBytes);
    const x = tensor(new Float32Array(3 * 32 * 32).fill(0.5), [1, 3, 32, 32]);
    const a = scope(() => model.predict(x));
    model.checkpointBlocks = false;
    const b = scope(() => model.predict(x));
    expect(await a.logits.data()).toEqual(await b.logits.data());
    for (const t of [x, a.logits, a.boxes, b.logits, b.boxes]) t.dispose();
    model.dispose();
  });
});
