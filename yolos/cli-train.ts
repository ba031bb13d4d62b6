/** `yolos train` and `yolos eval`. */
import { parseArgs } from 'node:util';
import { init } from '../engine/index.ts';
import { presets } from './config.ts';
import { train, type TrainOptions } from './train/train.ts';
import { makeSources, labelMap } from './train/data.ts';
import { evaluate } from './train/evaluate.ts';
import { formatCocoStats } from './eval/coco-eval.ts';
import { loadModel } from './cli-detect.ts';
import { UsageError } from './cli-usage.ts';

export const TRAIN_HELP = `usage: yolos train --data shapes|<coco-dir> --model nano16|tiny|small|small-dwr|base [options]

  --data D         'shapes' (synthetic, made on demand) or a COCO 2017-layout folder
                   (annotations/instances_{train,val}[2017].json, {train,val}2017/ images)
  --model NAME     preset (default nano16)
  --steps N        optimisation steps; the cosine schedule ends there (default 8000)
  --minutes M      stop after M minutes (a checkpoint is written); without --steps the schedule fits M
  --batch N        images per step (default 16)
  --lr X           peak learning rate after 200 warm-up steps (default 5e-4)
  --size N         shapes: image side (64); COCO: the largest training scale
  --seed N         model init and data order (default 0)
  --out DIR        checkpoint.safetensors, metrics.jsonl, loss.svg, model.safetensors, config.json (default runs/train)
  --resume [PATH]  continue from PATH or <out>/checkpoint.safetensors, exactly where it stopped
  --init fanin|hf  initialisation (default fanin: the from-scratch recipe)
  --no-augment     no flips/resizes/crops (default: augment COCO data, not shapes)
  --eval           evaluate on the validation data at the end
Ctrl-C writes a checkpoint before exiting.`;

export const EVAL_HELP = `usage: yolos eval --weights model.safetensors [--config config.json | --model NAME] --data shapes|<coco-dir> [--limit N]

  prints the COCO AP/AR table (pycocotools' definitions) of the model on the validation data`;

function num(v: string | undefined, name: string, integer = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
  return n;
}

export async function runTrain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      data: { type: 'string' }, model: { type: 'string' }, steps: { type: 'string' }, minutes: { type: 'string' }, batch: { type: 'string' },
      lr: { type: 'string' }, size: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, resume: { type: 'string' },
      init: { type: 'string' }, 'no-augment': { type: 'boolean' }, eval: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(TRAIN_HELP); return 0; }
  const resume = values.resume === undefined ? undefined : values.resume === '' || values.resume === 'true' ? true : values.resume;
  if (!values.data && !resume) throw new UsageError('--data is required (shapes or a COCO-format folder)');
  const model = values.model ?? 'nano16';
  if (!(model in presets)) throw new UsageError(`unknown --model '${model}' (expected ${Object.keys(presets).join(', ')})`);
  if (values.init && values.init !== 'fanin' && values.init !== 'hf') throw new UsageError(`--init must be fanin or hf, got '${values.init}'`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0)) throw new UsageError(`--seed must be a non-negative integer, got '${values.seed}'`);
  const opts: TrainOptions = {
    data: values.data ?? '', model: model as keyof typeof presets, steps: num(values.steps, '--steps'), minutes: num(values.minutes, '--minutes', false),
    batch: num(values.batch, '--batch'), lr: num(values.lr, '--lr', false), size: num(values.size, '--size'), seed, out: values.out, resume,
    init: values.init as TrainOptions['init'], augment: values['no-augment'] ? false : undefined, evalAtEnd: values.eval,
    progress: process.stderr.isTTY ? 'bar' : 'lines',
  };
  const r = await train(opts);
  console.log(`trained ${r.steps} steps (${r.imagesSeen} images, ${(r.seconds / 60).toFixed(1)} min)${r.interrupted ? ' — interrupted' : ''}; checkpoint ${r.checkpoint}; weights ${r.weights}`);
  if (r.eval) console.log(formatCocoStats(r.eval));
  r.model.dispose();
  return 0;
}

export async function runEval(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: { weights: { type: 'string' }, config: { type: 'string' }, model: { type: 'string' }, data: { type: 'string' }, limit: { type: 'string' }, size: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) { console.log(EVAL_HELP); return 0; }
  if (!values.weights) throw new UsageError('--weights is required');
  if (!values.data) throw new UsageError('--data is required (shapes or a COCO-format folder)');
  const engine = await init();
  try {
    const model = await loadModel(values.weights, values.config, values.model);
    const { train: src, val } = await makeSources({ data: values.data, seed: 0, model: values.model ?? 'custom', size: num(values.size, '--size'), augment: false });
    const { result } = await evaluate(model.eval(), val, labelMap(src.categories, model.config.num_labels), { limit: num(values.limit, '--limit') });
    console.log(formatCocoStats(result));
    model.dispose();
  } finally {
    engine.dispose();
  }
  return 0;
}
