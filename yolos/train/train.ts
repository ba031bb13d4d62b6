/**
 * `train(options)`: YOLOS training, DETR-style, as a library. One flat loop with named steps —
 * schedule, batch, forward, loss (the matcher's readback is the step's one GPU→CPU sync), backward,
 * clip, AdamW step, log — plus atomic checkpoints (every N steps / M minutes and at the end) and
 * exact resume. It prints nothing and installs no signal handlers unless asked (`progress`,
 * `signal`: the CLI turns SIGINT/SIGTERM/SIGHUP into an abort with `abortOnSignals`).
 * The recipe's numbers are recipe.ts's: the from-scratch recipe, or the paper's fine-tuning recipe
 * when the run starts from pre-trained weights (`initFrom`).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { init, LimitError } from '../../engine/node.ts';
import { trainStep } from './step.ts';
import {
  scratchRecipe,
  finetuneRecipe,
  validationResize,
  lrAt,
  stepsPerEpoch,
  makeOptimizer,
  makeCriterion,
  type Recipe,
} from './recipe.ts';
import { Yolos } from '../model.ts';
import { presets, parseConfig, type YolosConfig, type PresetName } from '../config.ts';
import type { InitScheme } from '../init.ts';
import { loadInitialModel, freezeBackbone } from '../transfer-node.ts';
import { labelMap, type ValSource, type LabelMap } from './data.ts';
import { makeSources } from './data-node.ts';
import { saveCheckpoint, loadCheckpoint, type LoadedCheckpoint } from './checkpoint.ts';
import { writeAtomic, removeStaleTemps } from './files-node.ts';
import { checkPinned, resumedTotal, truncateMetrics, PINNED } from './resume.ts';
import { ProgressBar, appendJsonl, lossCurveSvg, type StepRecord } from './report.ts';
import { evaluate } from './evaluate.ts';
import type { CocoEvalResult } from '../eval/coco-eval.ts';

export { abortOnSignals, type SignalStop, type StopSignal } from './signals-node.ts';
export type { StepRecord };

export interface TrainOptions {
  /** 'shapes' (synthetic, generated on demand) or a COCO-format folder. Required unless resuming. */
  data?: string;
  /** COCO data: the split to train on (default 'train'; 'val' only when asked for). */
  trainSplit?: string;
  /** A preset name or a config (default nano16). */
  model?: PresetName | YolosConfig;
  /** Optimisation steps (the cosine schedule ends here). Default the recipe's (from scratch 12 000; fine-tuning: its epochs over the data); on resume it may grow. */
  steps?: number;
  /** Wall-clock budget of this call: stop (and checkpoint) after this many minutes; with no `steps` given the schedule is fitted to it. */
  minutes?: number;
  batch?: number;
  lr?: number;
  weightDecay?: number;
  /** Global gradient-norm clip (0.1). */
  clip?: number;
  warmup?: number;
  /** Image side for the shapes data, or the largest training scale for COCO data. */
  size?: number;
  seed?: number;
  /** Output folder: checkpoint.safetensors, metrics.jsonl, loss.svg, model.safetensors + config.json. */
  out?: string;
  /** Resume from a checkpoint path, or true for `<out>/checkpoint.safetensors`. The recipe options are the checkpoint's (a different one is refused). */
  resume?: string | boolean;
  /** Initialisation of a model trained from scratch (default 'fanin'); not with `initFrom`. */
  init?: InitScheme;
  /** Start from pre-trained weights — a folder, a .safetensors file or a Hub id — and fine-tune with the paper's recipe (recipe.ts). */
  initFrom?: string;
  /** With `initFrom`: train only what is new (the [DET] tokens, position embeddings and heads); the backbone stays frozen. */
  freezeBackbone?: boolean;
  /** Recompute each encoder block in backward (gradient checkpointing): activation memory of one block, identical gradients. */
  checkpointBlocks?: boolean;
  augment?: boolean;
  /** Write a checkpoint every N steps (default 500) … */
  checkpointEvery?: number;
  /** … and/or every M minutes (default: off). */
  checkpointMinutes?: number;
  /** Append a metrics.jsonl line every N steps (default 10). */
  logEvery?: number;
  /** Evaluate on the validation data at the end (skipped when stopped early by `signal`/`shouldStop`). */
  evalAtEnd?: boolean;
  /** Evaluate every N steps too. */
  evalEvery?: number;
  /** Images of the validation data to evaluate (default all). */
  evalLimit?: number;
  /** Progress output on stderr: 'bar', 'lines' or 'none' (default: none). */
  progress?: 'bar' | 'lines' | 'none';
  /** Stops after the current step and writes the checkpoint (the CLI aborts it on SIGINT/SIGTERM/SIGHUP). */
  signal?: AbortSignal;
  /** Stop early when this returns true (checked before every step). */
  shouldStop?: () => boolean;
  /** Called after every step with its record (awaited). */
  onStep?: (record: StepRecord) => void | Promise<void>;
  /** Called after every evaluation (`evalEvery` and `evalAtEnd`). */
  onEval?: (e: EvalRecord) => void | Promise<void>;
}

export interface EvalRecord {
  /** Steps done when it was taken. */
  step: number;
  result: CocoEvalResult;
}

export interface TrainResult {
  /** Every step's record, this run's and (when resumed) the earlier ones. */
  history: StepRecord[];
  /** The evaluations of this call, in order; `eval` is the one at the end. */
  evals: EvalRecord[];
  eval?: CocoEvalResult;
  checkpoint: string;
  weights: string;
  steps: number;
  /** The schedule's end: `steps < totalSteps` when stopped early. */
  totalSteps: number;
  imagesSeen: number;
  seconds: number;
  /** The trained model, in train mode; the caller disposes it. */
  model: Yolos;
  labels: LabelMap;
  val: ValSource;
  /** Why the loop ended. */
  stoppedBy: 'steps' | 'minutes' | 'signal' | 'shouldStop';
  /** Stopped by `signal` or `shouldStop` before the schedule's end. */
  interrupted: boolean;
}

/** Options that are the run's, not the recipe's. */
const RUN_DEFAULTS = { model: 'nano16' as PresetName | YolosConfig, seed: 0, out: 'runs/train', checkpointEvery: 500, logEvery: 10 };

/** The recipe's values under the option names (steps null: from the recipe's epochs over the data). */
function recipeDefaults(r: Recipe) {
  return {
    steps: r.steps ?? undefined,
    batch: r.batch,
    lr: r.lr,
    weightDecay: r.weightDecay,
    clip: r.clip,
    warmup: r.warmup,
    init: r.init ?? undefined,
  };
}

/** The config a run trains: the checkpoint's, a preset's or the caller's. */
function configOf(model: PresetName | YolosConfig, resumed: LoadedCheckpoint | null): YolosConfig {
  if (resumed) return resumed.meta.config;
  const config = typeof model === 'string' ? presets[model] : parseConfig(model);
  if (!config) throw new Error(`train: unknown model '${model}' (expected one of ${Object.keys(presets).join(', ')})`);
  return config;
}

/**
 * The effective options: the recipe (fine-tuning with `initFrom`, else from scratch), then the
 * checkpoint's pinned options (resume) or the caller's.
 */
function resolve(options: TrainOptions, resumed: LoadedCheckpoint | null, resumePath: string | null) {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as TrainOptions;
  const saved = resumed?.meta.options;
  const transfer = resumed
    ? { initFrom: saved!.initFrom as string | undefined, freezeBackbone: saved!.freezeBackbone as boolean | undefined }
    : { initFrom: given.initFrom, freezeBackbone: given.freezeBackbone };
  if (resumed) {
    for (const k of ['initFrom', 'freezeBackbone'] as const) {
      if (given[k] !== undefined && given[k] !== (transfer[k] ?? (k === 'freezeBackbone' ? false : undefined))) {
        throw new Error(
          `train: ${k} ${JSON.stringify(given[k])} differs from ${JSON.stringify(transfer[k] ?? null)} in the checkpoint '${resumePath}'; a resumed run keeps the recipe it started with — leave it out, or start a new run with another --out`,
        );
      }
    }
  } else {
    if (transfer.freezeBackbone && !transfer.initFrom)
      throw new Error(
        'train: freezeBackbone (--freeze-backbone) needs initFrom (--init-from): a randomly initialised backbone would never train',
      );
    if (transfer.initFrom !== undefined && given.init !== undefined)
      throw new Error(
        `train: init (--init) ${given.init} applies to a model trained from scratch; with initFrom (--init-from) the weights are the pre-trained ones and the new tensors are the loader's`,
      );
  }
  const config = configOf(given.model ?? RUN_DEFAULTS.model, resumed);
  const recipe = transfer.initFrom ? finetuneRecipe(config, given.batch ?? (saved?.batch as number | undefined)) : scratchRecipe(config);
  const defaults = { ...RUN_DEFAULTS, ...recipeDefaults(recipe) };
  if (!resumed) return { ...defaults, ...given, ...transfer, recipe, config, augment: given.augment ?? given.data !== 'shapes' };
  checkPinned(given, saved!, resumePath!);
  const pinned = Object.fromEntries(PINNED.map((k) => [k, saved![k]]).filter(([, v]) => v !== undefined));
  const steps = resumedTotal(given.steps, saved!.steps as number, resumed.meta.step, resumePath!);
  const o = {
    ...defaults,
    checkpointEvery: saved!.checkpointEvery as number,
    logEvery: saved!.logEvery as number,
    ...given,
    ...pinned,
    ...transfer,
    steps,
    out: given.out ?? (saved!.out as string),
  };
  return { ...o, recipe, config, augment: o.augment ?? o.data !== 'shapes' }; // checkpoints before `augment` was pinned
}

/**
 * Trains (or resumes) a YOLOS and writes its run folder.
 * @example const r = await train({ data: 'shapes', model: 'nano16', steps: 100, out: 'runs/a', onStep: (s) => console.log(s.loss) });
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  await init();
  const resumePath = options.resume === true ? join(options.out ?? RUN_DEFAULTS.out, 'checkpoint.safetensors') : options.resume || null;
  if (resumePath) await removeStaleTemps(dirname(resumePath));
  const resumed = resumePath ? await loadCheckpoint(resumePath) : null;
  const o = resolve(options, resumed, resumePath);
  if (!o.data) throw new Error('train: no data given (shapes or a COCO-format folder)');
  const modelName = typeof o.model === 'string' ? o.model : 'custom';
  const config = o.config;
  for (const k of ['batch', 'checkpointEvery', 'logEvery'] as const) {
    if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new Error(`train: ${k} must be a positive integer, got ${o[k]}`);
  }
  if (o.steps !== undefined && !(Number.isInteger(o.steps) && o.steps >= 1))
    throw new Error(`train: steps must be a positive integer, got ${o.steps}`);
  const out = o.out;
  await mkdir(out, { recursive: true });
  await removeStaleTemps(out);
  const evalResize = validationResize(config, o.size);
  const { train: source, val } = await makeSources({
    data: o.data,
    seed: o.seed,
    model: modelName,
    size: o.size,
    augment: o.augment,
    trainSplit: o.trainSplit,
    evalResize,
  });
  const labels = labelMap(source.categories, config.num_labels);
  const say = o.progress === 'bar' || o.progress === 'lines' ? (line: string) => console.error(line) : () => {};
  const model = resumed
    ? resumed.model
    : o.initFrom
      ? await initialModel(o.initFrom, config, o.seed, labels.id2label, say)
      : Yolos.create({ ...config, id2label: labels.id2label }, { seed: o.seed, init: o.init });
  if (o.freezeBackbone) freezeBackbone(model);
  model.checkpointBlocks = options.checkpointBlocks ?? false; // not part of the recipe: a resume may change it
  model.train();
  const optimizer = makeOptimizer(model, { ...o.recipe, lr: o.lr, weightDecay: o.weightDecay });
  if (resumed) resumed.restoreOptimizer(optimizer);
  const criterion = makeCriterion(config.num_labels, o.recipe);
  const perEpoch = stepsPerEpoch(source.images, o.batch);
  const schedule = {
    schedule: (resumed?.meta.options.schedule as Recipe['schedule'] | undefined) ?? o.recipe.schedule,
    lr: o.lr,
    lrMin: (resumed?.meta.options.lrMin as number | undefined) ?? o.recipe.lrMin,
    warmup: o.warmup,
    stepsPerEpoch: perEpoch,
  };
  const startStep = resumed ? resumed.meta.step : 0;
  const history = resumed ? ((resumed.meta.history as StepRecord[] | undefined) ?? []).filter((h) => h.step < startStep) : [];
  let step = startStep;
  let imagesSeen = resumed ? resumed.meta.imagesSeen : 0;
  const priorSeconds = resumed ? resumed.meta.seconds : 0;
  let total = o.steps ?? (o.recipe.epochs ?? 1) * perEpoch;
  const fitToBudget = options.minutes !== undefined && options.steps === undefined && !resumed;
  let paceFrom = 0;
  const metricsPath = join(out, 'metrics.jsonl');
  if (resumed) await truncateMetrics(metricsPath, startStep);
  else await writeAtomic(metricsPath, '');
  const bar = o.progress === 'bar' || o.progress === 'lines' ? new ProgressBar(total) : null;
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const checkpointPath = join(out, 'checkpoint.safetensors');
  const recipe = () => ({
    ...Object.fromEntries(PINNED.map((k) => [k, o[k]])),
    model: modelName === 'custom' ? config : modelName,
    steps: total,
    checkpointEvery: o.checkpointEvery,
    logEvery: o.logEvery,
    out,
    initFrom: o.initFrom,
    freezeBackbone: o.freezeBackbone,
    schedule: schedule.schedule,
    lrMin: schedule.lrMin,
  });
  let savedAt = elapsed();
  const checkpoint = async () => {
    await saveCheckpoint(checkpointPath, model, optimizer, {
      step,
      config: model.config,
      options: recipe(),
      seconds: priorSeconds + elapsed(),
      imagesSeen,
      history,
    });
    savedAt = elapsed();
  };
  const evals: EvalRecord[] = [];
  const runEval = async () => {
    model.eval();
    const e = { step, result: (await evaluate(model, val, labels, { limit: o.evalLimit })).result };
    model.train();
    evals.push(e);
    await o.onEval?.(e);
    return e.result;
  };
  let stoppedBy: TrainResult['stoppedBy'] = 'steps';
  try {
    while (step < total) {
      if (o.signal?.aborted) {
        stoppedBy = 'signal';
        break;
      }
      if (o.shouldStop?.()) {
        stoppedBy = 'shouldStop';
        break;
      }
      if (o.minutes !== undefined && elapsed() > o.minutes * 60) {
        stoppedBy = 'minutes';
        break;
      }
      // schedule, batch (CPU), then one step on the GPU
      const lr = lrAt(step, { ...schedule, total });
      const batch = await source.batch(step, o.batch);
      const targets = batch.targets.map((t) => ({ labels: Int32Array.from(t.labels, labels.toIndex), boxes: t.boxes }));
      const { loss, lossCe, lossBbox, lossGiou, classError } = await trainStep(
        model,
        optimizer,
        criterion,
        batch.pixels,
        batch.shape,
        targets,
        { lr, clip: o.clip },
      );
      if (!Number.isFinite(loss)) throw new Error(`train: the loss became ${loss} at step ${step} (lr ${lr}); lower --lr`);
      step++;
      imagesSeen += o.batch;
      const seconds = elapsed();
      const rec: StepRecord = {
        step: step - 1,
        loss,
        lossCe,
        lossBbox,
        lossGiou,
        classError,
        lr,
        imagesPerSec: ((step - startStep) * o.batch) / seconds,
        seconds: priorSeconds + seconds,
      };
      history.push(rec);
      // Fit the schedule to the budget from the pace of steps 5…15 (the first steps compile pipelines).
      if (fitToBudget && step - startStep === 5) paceFrom = seconds;
      if (fitToBudget && step - startStep === 15) {
        const perStep = (seconds - paceFrom) / 10;
        total = Math.max(step + 1, step + Math.floor((o.minutes! * 60 - seconds) / perStep));
        bar?.setTotal(total);
      }
      bar?.update({ ...rec, seconds }, step === total);
      await o.onStep?.(rec);
      if (step % o.logEvery === 0 || step === total) await appendJsonl(metricsPath, rec);
      if (o.evalEvery && step % o.evalEvery === 0 && step < total) await runEval();
      const due = step % o.checkpointEvery === 0 || (o.checkpointMinutes !== undefined && seconds - savedAt >= o.checkpointMinutes * 60);
      if (due && step < total) await checkpoint();
    }
  } catch (e) {
    const msg = (e as Error).message ?? '';
    if (e instanceof LimitError || /out of memory|OutOfMemory|allocation|binding limit/i.test(msg))
      throw new Error(`train: the batch of ${o.batch} does not fit in GPU memory (${msg}); try --batch ${Math.max(1, o.batch >> 1)}`);
    throw e;
  } finally {
    bar?.done();
  }
  // The final save: each file atomic, the checkpoint first (it is what a resume needs).
  await checkpoint();
  optimizer.dispose(); // its moment buffers live on the GPU outside every scope
  const weights = join(out, 'model.safetensors');
  await writeAtomic(weights, await model.saveSafetensors());
  await writeAtomic(
    join(out, 'config.json'),
    `${JSON.stringify({ ...model.config, architectures: ['YolosForObjectDetection'] }, null, 2)}\n`,
  );
  await writeAtomic(join(out, 'loss.svg'), lossCurveSvg(history, `YOLOS ${modelName} on ${o.data}: training loss`));
  const interrupted = stoppedBy === 'signal' || stoppedBy === 'shouldStop';
  const evalResult = o.evalAtEnd && !interrupted ? await runEval() : undefined;
  return {
    history,
    evals,
    eval: evalResult,
    checkpoint: checkpointPath,
    weights,
    steps: step,
    totalSteps: total,
    imagesSeen,
    seconds: priorSeconds + elapsed(),
    model,
    labels,
    val,
    stoppedBy,
    interrupted,
  };
}

/** The pre-trained start of a fine-tuning run (transfer-node.ts); `say` gets its report (what was used, resized, created). */
async function initialModel(
  source: string,
  config: YolosConfig,
  seed: number,
  id2label: Record<string, string>,
  say: (line: string) => void,
): Promise<Yolos> {
  const { model, report } = await loadInitialModel(source, config, { seed, id2label });
  for (const line of report) say(`init-from ${source}: ${line}`);
  return model;
}

/** `<dir>/checkpoint.safetensors` when it exists, else null. */
export async function findCheckpoint(dir: string): Promise<string | null> {
  try {
    return (await readdir(dir)).includes('checkpoint.safetensors') ? join(dir, 'checkpoint.safetensors') : null;
  } catch {
    return null;
  }
}
