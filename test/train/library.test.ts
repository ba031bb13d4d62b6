/**
 * `train()` as a library (GPU, a few nano16 steps at batch 2 on shapes): callbacks, an AbortSignal
 * that stops cleanly with a checkpoint, a resume that refuses another recipe and appends each step once.
 */
import { it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, type Engine } from '../../engine/node.ts';
import { train, type StepRecord, type EvalRecord } from '../../yolos/train/train.ts';
import { loadCheckpoint } from '../../yolos/train/checkpoint.ts';

let eng: Engine;
beforeAll(async () => {
  eng = await init();
});
afterAll(() => eng.dispose());

it('onStep/onEval, abort → checkpoint, resume refuses another --batch, grows --steps, never repeats a metrics step', async () => {
  const out = mkdtempSync(join(tmpdir(), 'yolos-lib-'));
  const recipe = { data: 'shapes', model: 'nano16' as const, batch: 2, steps: 6, warmup: 1, logEvery: 1, out };
  const stop = new AbortController();
  const steps: StepRecord[] = [];
  const first = await train({
    ...recipe,
    signal: stop.signal,
    onStep: (r) => {
      steps.push(r);
      if (steps.length === 3) stop.abort();
    },
  });
  expect(steps.map((s) => s.step)).toEqual([0, 1, 2]);
  expect(first).toMatchObject({ steps: 3, totalSteps: 6, stoppedBy: 'signal', interrupted: true });
  expect(first.eval).toBeUndefined();
  first.model.dispose();
  expect((await loadCheckpoint(first.checkpoint)).meta.step).toBe(3);

  await expect(train({ out, resume: true, batch: 4 })).rejects.toThrow(
    /batch \(--batch\) 4 differs from 2 in the checkpoint '.*checkpoint\.safetensors'/,
  );

  const evals: EvalRecord[] = [];
  const rest = await train({
    out,
    resume: true,
    steps: 7,
    evalAtEnd: true,
    evalLimit: 4,
    onEval: (e) => {
      evals.push(e);
    },
  });
  expect(rest).toMatchObject({ steps: 7, totalSteps: 7, stoppedBy: 'steps', interrupted: false });
  expect(rest.history.map((h) => h.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  expect(evals.map((e) => e.step)).toEqual([7]);
  expect(rest.eval).toBe(evals[0].result);
  expect(rest.evals).toEqual(evals);
  const logged = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).step);
  expect(logged).toEqual([0, 1, 2, 3, 4, 5, 6]);
  rest.model.dispose();
});

it('checkpointBlocks (--checkpoint-blocks) trains to the same bits as the plain path', async () => {
  const run = async (checkpointBlocks: boolean) => {
    const r = await train({
      data: 'shapes',
      model: 'nano16',
      batch: 2,
      steps: 3,
      warmup: 1,
      logEvery: 1,
      out: mkdtempSync(join(tmpdir(), 'yolos-ckb-')),
      checkpointBlocks,
    });
    expect(r.model.checkpointBlocks).toBe(checkpointBlocks);
    const weights = await Promise.all(r.model.parameters().map((p) => p.data()));
    r.model.dispose();
    return { losses: r.history.map((h) => h.loss), weights };
  };
  const plain = await run(false),
    checkpointed = await run(true);
  expect(checkpointed.losses).toEqual(plain.losses);
  checkpointed.weights.forEach((w, i) => expect(w, `parameter ${i}`).toEqual(plain.weights[i]));
});
