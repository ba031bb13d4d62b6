/**
 * `train(options)`: YOLOS training, DETR-style. One flat loop with named steps — schedule, batch,
 * forward, loss (the matcher's readback is the step's one GPU→CPU sync), backward, clip, AdamW step,
 * log — plus checkpoints every N steps and at the end (atomic), exact resume, Ctrl-C → checkpoint.
 * Recipe defaults are the nano-16 recipe of the training issue (spec §6 for COCO models).
 */
import { mkdir, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { init, LimitError } from '../../engine/index.ts';
import { AdamW, warmupCosine } from '../../engine/optim/index.ts';
import { trainStep } from './step.ts';
import { parameterGroups } from './groups.ts';
import { Yolos } from '../model.ts';
import { presets, parseConfig, type YolosConfig, type PresetName } from '../config.ts';
import { SetCriterion } from '../criterion.ts';
import type { InitScheme } from '../init.ts';
import { makeSources, labelMap, type ValSource, type LabelMap } from './data.ts';
import { saveCheckpoint, loadCheckpoint } from './checkpoint.ts';
import { ProgressBar, appendJsonl, lossCurveSvg, type StepRecord } from './report.ts';
import { evaluate } from './evaluate.ts';
import type { CocoEvalResult } from '../eval/coco-eval.ts';

export interface TrainOptions {
  /** 'shapes' (synthetic, generated on demand) or a COCO-format folder. */
  data: string;
  /** A preset name or a config. */
  model: PresetName | YolosConfig;
  /** Optimisation steps (the cosine schedule ends here). Default 8000. */
  steps?: number;
  /** Wall-clock budget: stop (and checkpoint) after this many minutes; with no `steps` given the schedule is fitted to it. */
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
  /** Resume from a checkpoint path, or true for `<out>/checkpoint.safetensors`. */
  resume?: string | boolean;
  init?: InitScheme;
  augment?: boolean;
  checkpointEvery?: number;
  logEvery?: number;
  /** Evaluate on the validation data at the end (and every `evalEvery` steps when set). */
  evalAtEnd?: boolean;
  evalEvery?: number;
  /** Images of the validation data to evaluate (default all). */
  evalLimit?: number;
  /** Progress output: 'bar' (default), 'lines' or 'none'. */
  progress?: 'bar' | 'lines' | 'none';
  /** Stop early when this returns true (checked every step). */
  shouldStop?: () => boolean;
}

export interface TrainResult {
  history: StepRecord[];
  checkpoint: string;
  weights: string;
  steps: number;
  imagesSeen: number;
  seconds: number;
  model: Yolos;
  labels: LabelMap;
  val: ValSource;
  eval?: CocoEvalResult;
  interrupted: boolean;
}

const DEFAULTS = { steps: 8000, batch: 16, lr: 5e-4, weightDecay: 1e-4, clip: 0.1, warmup: 200, seed: 0, out: 'runs/train', checkpointEvery: 500, logEvery: 10 };

export { parameterGroups };

export async function train(options: TrainOptions): Promise<TrainResult> {
  await init();
  const resumePath = options.resume === true ? join(options.out ?? DEFAULTS.out, 'checkpoint.safetensors') : options.resume || null;
  const resumed = resumePath ? await loadCheckpoint(resumePath) : null;
  // A resumed run continues with the options it was started with; only where output goes and when
  // to stop (minutes, progress, evaluation) may change.
  const prev = (resumed?.meta.options ?? {}) as unknown as Partial<TrainOptions>;
  const { minutes, progress, evalAtEnd, evalEvery, evalLimit, shouldStop, out: outOpt } = options;
  const o = resumed
    ? { ...DEFAULTS, ...stripUndefined(prev), ...stripUndefined({ minutes, progress, evalAtEnd, evalEvery, evalLimit, shouldStop, out: outOpt ?? prev.out }) }
    : { ...DEFAULTS, ...stripUndefined(options) };
  const modelName = typeof o.model === 'string' ? o.model : 'custom';
  const config: YolosConfig = resumed ? resumed.meta.config : typeof o.model === 'string' ? presets[o.model as PresetName] : parseConfig(o.model);
  if (!config) throw new Error(`train: unknown model '${o.model}' (expected one of ${Object.keys(presets).join(', ')})`);
  if (!(o.batch >= 1 && Number.isInteger(o.batch))) throw new Error(`train: batch must be a positive integer, got ${o.batch}`);
  const out = o.out ?? DEFAULTS.out;
  if (!o.data) throw new Error('train: no data given (--data shapes or a COCO-format folder)');
  const data = o.data;
  await mkdir(out, { recursive: true });
  const { train: source, val } = await makeSources({ data, seed: o.seed, model: modelName, size: o.size, augment: o.augment ?? data !== 'shapes' });
  const labels = labelMap(source.categories, config.num_labels);
  const model = resumed ? resumed.model : Yolos.create({ ...config, id2label: labels.id2label }, { seed: o.seed, init: o.init ?? 'fanin' });
  model.train();
  const optimizer = new AdamW(parameterGroups(model, o.weightDecay), { lr: o.lr, betas: [0.9, 0.999], eps: 1e-8 });
  if (resumed) resumed.restoreOptimizer(optimizer);
  const criterion = new SetCriterion({ numClasses: config.num_labels, eosCoef: 0.1, weights: { ce: 1, bbox: 5, giou: 2 } });
  const history: StepRecord[] = resumed ? ((resumed.meta.history as StepRecord[] | undefined) ?? []) : [];
  const startStep = resumed ? resumed.meta.step : 0;
  let step = startStep;
  let imagesSeen = resumed ? resumed.meta.imagesSeen : 0;
  const priorSeconds = resumed ? resumed.meta.seconds : 0;
  let total = o.steps;
  const fitToBudget = options.minutes !== undefined && options.steps === undefined && !resumed;
  let paceFrom = 0;
  const metricsPath = join(out, 'metrics.jsonl');
  if (!resumed) await writeFile(metricsPath, '');
  const bar = new ProgressBar(total);
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  let interrupted = false;
  const onSigint = () => { interrupted = true; };
  process.on('SIGINT', onSigint);
  const savedOptions = { ...o, model: modelName === 'custom' ? config : modelName, resume: undefined, shouldStop: undefined };
  const checkpointPath = join(out, 'checkpoint.safetensors');
  const checkpoint = () => saveCheckpoint(checkpointPath, model, optimizer, { step, config: model.config, options: savedOptions, seconds: priorSeconds + elapsed(), imagesSeen, history });
  try {
    while (step < total) {
      if (interrupted || options.shouldStop?.() || (o.minutes !== undefined && elapsed() > o.minutes * 60)) { interrupted = interrupted || false; break; }
      // schedule, batch (CPU), then one step on the GPU
      const lr = warmupCosine(step, { warmup: Math.min(o.warmup, total), total, base: o.lr });
      const batch = await source.batch(step, o.batch);
      const targets = batch.targets.map((t) => ({ labels: Int32Array.from(t.labels, labels.toIndex), boxes: t.boxes }));
      const { loss, lossCe, lossBbox, lossGiou, classError } = await trainStep(model, optimizer, criterion, batch.pixels, batch.shape, targets, { lr, clip: o.clip });
      if (!Number.isFinite(loss)) throw new Error(`train: the loss became ${loss} at step ${step} (lr ${lr}); lower --lr`);
      step++;
      imagesSeen += o.batch;
      const seconds = elapsed();
      const rec: StepRecord = { step: step - 1, loss, lossCe, lossBbox, lossGiou, classError, lr, imagesPerSec: ((step - startStep) * o.batch) / seconds, seconds: priorSeconds + seconds };
      history.push(rec);
      // Fit the schedule to the budget from the pace of steps 5…15 (the first steps compile pipelines).
      if (fitToBudget && step - startStep === 5) paceFrom = seconds;
      if (fitToBudget && step - startStep === 15) {
        const perStep = (seconds - paceFrom) / 10;
        total = Math.max(step + 1, step + Math.floor((o.minutes! * 60 - seconds) / perStep));
        bar.setTotal(total);
      }
      if (o.progress !== 'none') bar.update({ ...rec, seconds }, step === total);
      if (step % o.logEvery === 0 || step === total) await appendJsonl(metricsPath, rec);
      if (step % o.checkpointEvery === 0) await checkpoint();
    }
  } catch (e) {
    const msg = (e as Error).message ?? '';
    if (e instanceof LimitError || /out of memory|OutOfMemory|allocation|binding limit/i.test(msg)) throw new Error(`train: the batch of ${o.batch} does not fit in GPU memory (${msg}); try --batch ${Math.max(1, o.batch >> 1)}`);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    if (o.progress !== 'none') bar.done();
  }
  await checkpoint();
  optimizer.dispose(); // its moment buffers live on the GPU outside every scope
  const weights = join(out, 'model.safetensors');
  const { writeAtomic } = await import('./checkpoint.ts');
  await writeAtomic(weights, await model.saveSafetensors());
  await writeFile(join(out, 'config.json'), `${JSON.stringify({ ...model.config, architectures: ['YolosForObjectDetection'] }, null, 2)}\n`);
  await writeFile(join(out, 'loss.svg'), lossCurveSvg(history, `YOLOS ${modelName} on ${o.data}: training loss`));
  let evalResult: CocoEvalResult | undefined;
  if (o.evalAtEnd) {
    model.eval();
    evalResult = (await evaluate(model, val, labels, { limit: o.evalLimit })).result;
  }
  return { history, checkpoint: checkpointPath, weights, steps: step, imagesSeen, seconds: priorSeconds + elapsed(), model, labels, val, eval: evalResult, interrupted };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Lists checkpoint files in a folder (for --resume without a path). */
export async function findCheckpoint(dir: string): Promise<string | null> {
  try {
    return (await readdir(dir)).includes('checkpoint.safetensors') ? join(dir, 'checkpoint.safetensors') : null;
  } catch {
    return null;
  }
}
