/** `yolos train`: a thin layer over `train()`; SIGINT/SIGTERM/SIGHUP become its abort signal. */
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { presets } from './config.ts';
import { train, abortOnSignals, type TrainOptions } from './train/train.ts';
import { scratchRecipe } from './train/recipe.ts';
import { formatCocoStats } from './eval/coco-eval.ts';
import { UsageError, int, positive, oneOf, EXIT_CODES_HELP } from './cli-usage.ts';

const PRESETS = Object.keys(presets);
/** The from-scratch recipe's numbers for the help text (they do not depend on the preset). */
const SCRATCH = scratchRecipe(presets.nano16);

interface TrainFlags {
  data?: string;
  trainSplit?: string;
  model?: string;
  steps?: number;
  minutes?: number;
  batch?: number;
  lr?: number;
  size?: number;
  seed?: number;
  out?: string;
  resume?: string | true;
  init?: 'fanin' | 'hf';
  initFrom?: string;
  freezeBackbone?: boolean;
  checkpointBlocks?: boolean;
  augment?: boolean;
  eval?: boolean;
  evalEvery?: number;
  evalLimit?: number;
  checkpointEvery?: number;
  checkpointMinutes?: number;
}

export function trainCommand(cmd: Command): Command {
  return cmd
    .description(
      'train YOLOS from scratch or fine-tune pre-trained weights (or resume a run) on the shapes data or a COCO 2017-layout folder',
    )
    .option(
      '--data <d>',
      "'shapes' (synthetic, made on demand) or a COCO folder (annotations/instances_{train,val}[2017].json, {train,val}2017/)",
    )
    .option(
      '--train-split <name>',
      "COCO: the annotation split to train on (default train; 'val' trains on the validation images, on purpose)",
    )
    .option('--model <name>', `preset: ${PRESETS.join(', ')} (default nano16)`, oneOf(PRESETS))
    .option(
      '--steps <n>',
      `optimisation steps; the cosine schedule ends there (default from scratch ${SCRATCH.steps}; fine-tuning: 300 epochs for Ti, 150 for S/B; on --resume it may grow)`,
      int(),
    )
    .option('--minutes <m>', 'stop after M minutes, writing a checkpoint; without --steps the schedule fits M', positive)
    .option('--batch <n>', `images per step (default ${SCRATCH.batch}; fine-tuning: Ti 16, S/B 8)`, int())
    .option(
      '--lr <x>',
      `peak learning rate (default from scratch ${SCRATCH.lr} after ${SCRATCH.warmup} warm-up steps; fine-tuning: Ti 5e-5·batch/16, S/B 2.5e-5·batch/8, cosine per epoch)`,
      positive,
    )
    .option('--size <n>', 'shapes: the image side (64); COCO: the largest training scale', int(16))
    .option('--seed <n>', 'model init and data order (default 0)', int(0))
    .option('--out <dir>', 'checkpoint.safetensors, metrics.jsonl, loss.svg, model.safetensors, config.json (default runs/train)')
    .option(
      '--resume [checkpoint]',
      "continue from CHECKPOINT, or <out>/checkpoint.safetensors, exactly where it stopped (the recipe options are the checkpoint's; a different one is refused)",
    )
    .option('--init <scheme>', `from scratch: ${SCRATCH.init} (the from-scratch recipe, default) or hf`, oneOf(['fanin', 'hf']))
    .option(
      '--init-from <source>',
      "fine-tune from pre-trained weights with the paper's recipe: a folder (config.json + model.safetensors), a .safetensors file, or a Hub id (a ViT/DeiT backbone or a YOLOS)",
    )
    .option('--freeze-backbone', 'with --init-from: train only the new parts ([DET] tokens, position embeddings, heads)')
    .option(
      '--checkpoint-blocks',
      'recompute each encoder block in backward: activation memory of one block, one more encoder forward per step, identical gradients',
    )
    .option('--no-augment', 'no flips/resizes/crops (default: augment COCO data, not shapes)')
    .option('--checkpoint-every <n>', 'write the checkpoint every N steps (default 500)', int())
    .option('--checkpoint-minutes <m>', 'and every M minutes of training', positive)
    .option('--eval', 'evaluate on the validation data at the end')
    .option('--eval-every <n>', 'evaluate every N steps too', int())
    .option('--eval-limit <n>', 'images of the validation data to evaluate (default all)', int())
    .addHelpText(
      'after',
      `
Ctrl-C, SIGTERM (kill, timeout, docker stop, systemd) and SIGHUP stop after the current step and write the
checkpoint; repeated signals wait for that write. Continue with: yolos train --resume --out DIR.${EXIT_CODES_HELP}`,
    )
    .action(async (o: TrainFlags) => {
      process.exitCode = await runTrain(o);
    });
}

export async function runTrain(o: TrainFlags): Promise<number> {
  const stop = abortOnSignals();
  try {
    const opts: TrainOptions = {
      data: o.data,
      trainSplit: o.trainSplit,
      model: o.model as TrainOptions['model'],
      steps: o.steps,
      minutes: o.minutes,
      batch: o.batch,
      lr: o.lr,
      size: o.size,
      seed: o.seed,
      out: o.out,
      resume: o.resume,
      init: o.init,
      initFrom: o.initFrom,
      freezeBackbone: o.freezeBackbone,
      checkpointBlocks: o.checkpointBlocks,
      augment: o.augment === false ? false : undefined,
      checkpointEvery: o.checkpointEvery,
      checkpointMinutes: o.checkpointMinutes,
      evalAtEnd: o.eval,
      evalEvery: o.evalEvery,
      evalLimit: o.evalLimit,
      progress: process.stderr.isTTY ? 'bar' : 'lines',
      signal: stop.signal,
      onEval: (e) => {
        if (o.evalEvery) console.log(`eval at step ${e.step}: AP ${e.result.AP.toFixed(3)} AP50 ${e.result.AP50.toFixed(3)}`);
      },
    };
    if (!o.data && !o.resume) throw new UsageError('--data is required (shapes or a COCO-format folder), unless --resume');
    if (o.freezeBackbone && !o.initFrom && !o.resume)
      throw new UsageError('--freeze-backbone needs --init-from (pre-trained weights to keep)');
    if (o.init && o.initFrom)
      throw new UsageError('--init applies to training from scratch; with --init-from the weights are the pre-trained ones');
    const r = await train(opts);
    const outDir = dirname(r.checkpoint);
    const stopped =
      r.stoppedBy === 'signal' ? ` — stopped by ${stop.received()}` : r.stoppedBy === 'minutes' ? ' — time budget reached' : '';
    console.log(
      `trained ${r.steps}/${r.totalSteps} steps (${r.imagesSeen} images, ${(r.seconds / 60).toFixed(1)} min)${stopped}; checkpoint ${r.checkpoint}; weights ${r.weights}`,
    );
    if (r.steps < r.totalSteps) console.log(`continue with: yolos train --resume --out ${outDir}`);
    if (r.eval) console.log(formatCocoStats(r.eval));
    r.model.dispose();
    return stop.exitCode();
  } finally {
    stop.dispose();
  }
}
