/**
 * Training end to end on the GPU (node project): overfitting two images, exact resume, flat memory,
 * the CLI's argument errors. A small config keeps each step to tens of milliseconds on lavapipe.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { init, tensor, scope, engine, type Engine } from '../../engine/index.ts';
import { AdamW, clipGradNorm, warmupCosine } from '../../engine/optim/index.ts';
import { Yolos, presets, SetCriterion, shapesDataset, collate, type YolosConfig } from '../../yolos/index.ts';
import { train } from '../../yolos/train/train.ts';
import { writeShapesCoco } from '../../yolos/data/shapes-node.ts';

let eng: Engine;
beforeAll(async () => {
  eng = await init();
});
afterAll(() => eng.dispose());

const tinyConfig: YolosConfig = {
  ...presets.nano16,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  image_size: [32, 32],
  num_detection_tokens: 6,
};
const tmp = () => mkdtempSync(join(tmpdir(), 'yolos-train-'));

describe('training', () => {
  it('overfits two images: the loss falls near zero and the matched boxes match the ground truth', async () => {
    const ds = shapesDataset({ seed: 5, count: 2, size: 32 });
    const batch = collate([ds.get(0), ds.get(1)]);
    const targets = batch.targets.map((t) => ({ labels: Int32Array.from(t.labels, (l) => l - 1), boxes: t.boxes }));
    const model = Yolos.create(tinyConfig, { seed: 1, init: 'fanin' });
    const opt = new AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0 });
    const crit = new SetCriterion({ numClasses: 3 });
    const x = tensor(batch.pixels, batch.shape);
    let first = 0,
      last = 0,
      lastIndices: { queryIndex: Int32Array; targetIndex: Int32Array }[] = [];
    const steps = 500;
    for (let step = 0; step < steps; step++) {
      opt.setLr(warmupCosine(step, { warmup: 20, total: steps, base: 3e-3 }));
      const out = scope(() => model.forward(x));
      const l = await crit.forward(out, targets);
      l.loss.backward();
      clipGradNorm(model.parameters(), 1).dispose();
      opt.step();
      opt.zeroGrad();
      last = await l.loss.item();
      if (step === 0) first = last;
      lastIndices = l.indices;
      for (const t of [out.logits, out.boxes, l.loss, l.lossCe, l.lossBbox, l.lossGiou]) t.dispose();
      if (last < 0.05) break;
    }
    expect(first).toBeGreaterThan(2);
    expect(last).toBeLessThan(0.1);
    const { boxes, logits } = scope(() => model.predict(x));
    const b = await boxes.data(),
      lg = await logits.data();
    lastIndices.forEach(({ queryIndex, targetIndex }, img) => {
      for (let j = 0; j < queryIndex.length; j++) {
        const q = queryIndex[j],
          t = targetIndex[j];
        for (let c = 0; c < 4; c++) expect(Math.abs(b[(img * 6 + q) * 4 + c] - targets[img].boxes[t * 4 + c])).toBeLessThan(0.03);
        const row = lg.subarray((img * 6 + q) * 4, (img * 6 + q + 1) * 4);
        expect(row.indexOf(Math.max(...row))).toBe(targets[img].labels[t]);
      }
    });
    model.dispose();
    opt.dispose();
    x.dispose();
  });

  it('a resumed run reproduces the uninterrupted run exactly; memory is flat across steps', async () => {
    const common = {
      data: 'shapes',
      model: tinyConfig,
      size: 32,
      batch: 2,
      steps: 8,
      warmup: 2,
      lr: 1e-3,
      progress: 'none' as const,
      checkpointEvery: 100,
    };
    const whole = await train({ ...common, out: tmp() });
    const dir = tmp();
    let calls = 0;
    const part = await train({ ...common, out: dir, shouldStop: () => ++calls > 4 });
    expect(part.steps).toBe(4);
    part.model.dispose();
    const resumed = await train({ out: dir, resume: true, data: 'shapes', model: tinyConfig, progress: 'none' });
    expect(resumed.steps).toBe(8);
    expect(resumed.history.map((h) => h.loss)).toEqual(whole.history.map((h) => h.loss));
    for (const [name, p] of whole.model.namedParameters()) {
      expect(Array.from(await resumed.model.params.get(name)!.data()), name).toEqual(Array.from(await p.data()));
    }
    for (const f of ['checkpoint.safetensors', 'model.safetensors', 'config.json', 'metrics.jsonl', 'loss.svg'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    expect(readFileSync(join(dir, 'loss.svg'), 'utf8')).toMatch(/^<svg/);
    whole.model.dispose();
    resumed.model.dispose();

    // memory: the same live tensors and bytes after step 10 and after step 200
    const samples = new Map<number, { tensors: number; liveBytes: number }>();
    let n = 0;
    const run = await train({
      ...common,
      steps: 201,
      out: tmp(),
      shouldStop: () => {
        n++;
        if (n === 11 || n === 201) samples.set(n, (({ tensors, liveBytes }) => ({ tensors, liveBytes }))(engine().memory()));
        return false;
      },
    });
    expect(samples.get(201)).toEqual(samples.get(11));
    run.model.dispose();
  });

  it('trains tiny on a COCO-format folder written by the shapes generator, and evaluates it', async () => {
    const dir = tmp();
    await writeShapesCoco(shapesDataset({ seed: 1, count: 4, size: 64 }), dir, 'train');
    await writeShapesCoco(shapesDataset({ seed: 2, count: 3, size: 64 }), dir, 'val');
    const r = await train({
      data: dir,
      model: 'tiny',
      steps: 2,
      batch: 2,
      size: 64,
      out: join(dir, 'run'),
      progress: 'none',
      evalAtEnd: true,
    });
    expect(r.steps).toBe(2);
    expect(r.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    expect(r.model.config.num_labels).toBe(91); // COCO ids 1..3 are used raw as class indices
    expect(r.eval!.AP).toBeGreaterThanOrEqual(0);
    r.model.dispose();
  });

  it('a batch that does not fit says so and suggests a smaller one', async () => {
    const limit = engine().limits.maxStorageBufferBindingSize;
    const side = Math.ceil(Math.sqrt(limit / (4 * 3 * 2)) / 16) * 16 + 16; // 2 images of this side exceed the binding limit
    await expect(
      train({ data: 'shapes', model: tinyConfig, size: side, batch: 2, steps: 1, out: tmp(), progress: 'none', augment: false }),
    ).rejects.toThrow(/does not fit in GPU memory[\s\S]*try --batch 1/);
  });

  it('the CLI explains bad arguments in one line and exits with 2', () => {
    for (const args of [
      ['train', '--model', 'huge', '--data', 'shapes'],
      ['train'],
      ['train', '--data', 'shapes', '--steps', '-3'],
      ['eval', '--data', 'shapes'],
      ['frobnicate'],
      ['train', '--bogus'],
    ]) {
      const r = spawnSync(process.execPath, ['bin/yolos.mjs', ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('Warning')).length,
        r.stderr,
      ).toBe(1);
    }
    expect(execFileSync(process.execPath, ['bin/yolos.mjs', 'train', '--help'], { encoding: 'utf8' })).toMatch(/--resume/);
  });
});
