/**
 * `npm run train:shapes` — the from-scratch recipe (yolos/train/recipe.ts: 12 000 steps, batch 16) on
 * nano-16, seed 0, to the end, then the
 * committed artefacts: models/shapes-nano16.safetensors, models/config.json,
 * models/shapes-nano16.metrics.jsonl and models/training.json (command, seed, steps, time, adapter and
 * the validation scores the README quotes). Interrupt freely: `npm run train:shapes -- --resume` continues.
 *   options: --steps N (the recipe's), --seed N (0), --out DIR (runs/shapes-nano16), --resume, --minutes M
 */
import { parseArgs } from 'node:util';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeAdapterOf, engine } from '../engine/node.ts';
import { train, abortOnSignals } from '../yolos/train/train.ts';
import { scratchRecipe } from '../yolos/train/recipe.ts';
import { presets } from '../yolos/config.ts';
import { evaluate } from '../yolos/train/evaluate.ts';
import { formatCocoStats } from '../yolos/eval/coco-eval.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    minutes: { type: 'string' },
  },
});
const out = values.out ?? 'runs/shapes-nano16';
const recipe = scratchRecipe(presets.nano16);
const steps = Number(values.steps ?? recipe.steps),
  seed = Number(values.seed ?? 0);
const stop = abortOnSignals(); // Ctrl-C, SIGTERM, SIGHUP: finish the step, write the checkpoint
const r = await train({
  data: 'shapes',
  model: 'nano16',
  steps,
  seed, // the recipe's batch, lr, warm-up, weight decay, clip and init: train()'s defaults
  out,
  resume: values.resume ? true : undefined,
  minutes: values.minutes ? Number(values.minutes) : undefined,
  checkpointEvery: 250,
  logEvery: 10,
  progress: process.stderr.isTTY ? 'bar' : 'lines',
  signal: stop.signal,
});
stop.dispose();
if (r.steps < steps) {
  console.log(`stopped at step ${r.steps}/${steps}; continue with: npm run train:shapes -- --resume${values.out ? ` --out ${out}` : ''}`);
  process.exit(stop.exitCode()); // 0 for --minutes, 128 + N after signal N
}
const { result } = await evaluate(r.model.eval(), r.val, r.labels);
console.log(formatCocoStats(result));
await mkdir('models', { recursive: true });
await copyFile(r.weights, 'models/shapes-nano16.safetensors');
await copyFile(join(out, 'config.json'), 'models/config.json');
await copyFile(join(out, 'metrics.jsonl'), 'models/shapes-nano16.metrics.jsonl');
const info = {
  command: `npm run train:shapes${values.steps ? ` -- --steps ${steps}` : ''}`,
  seed,
  steps: r.steps,
  batch: recipe.batch,
  imagesSeen: r.imagesSeen,
  seconds: Math.round(r.seconds),
  adapter: describeAdapterOf(engine()),
  date: new Date().toISOString().slice(0, 10),
  validation: { images: r.val.length, AP: result.AP, AP50: result.AP50, AP75: result.AP75 },
};
await writeFile('models/training.json', `${JSON.stringify(info, null, 2)}\n`);
console.log(`wrote models/shapes-nano16.safetensors (AP50 ${result.AP50.toFixed(3)}, AP ${result.AP.toFixed(3)})`);
r.model.dispose();
engine().dispose();
