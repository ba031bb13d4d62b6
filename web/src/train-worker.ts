/**
 * The Train tab's Web Worker: it owns the engine (WebGPU works in dedicated workers), the model, the
 * optimizer and the data, and runs `trainStep` from yolos/train/step.ts — the Node trainer's step.
 * From random init it trains nano-16 with the from-scratch recipe; started from a checkpoint
 * (transferFromFiles: a ViT/DeiT backbone or a YOLOS detector) it fine-tunes with the paper's recipe
 * (yolos/train/recipe.ts `finetuneRecipe`). The data is the synthetic shapes stream or the user's COCO
 * folder (yolos/data/coco-files.ts; a `.zip` is unpacked here). The page's form may change batch, lr,
 * warm-up and schedule steps. The page only draws: steps, validation images and predictions, and
 * weight bytes come back as messages (web/src/train-protocol.ts), so the main thread never waits on the GPU.
 */
import { init, describeAdapterOf, tensor, scope } from '../../engine/index.ts';
import type { AdamW } from '../../engine/optim/index.ts';
import {
  Yolos,
  presets,
  shapesDataset,
  collate,
  postprocess,
  readSafetensorsMetadata,
  transferFromFiles,
  checkpointKind,
  type Batch,
  type CheckpointKind,
  type DetectionSample,
  type YolosConfig,
} from '../../yolos/index.ts';
import { parseHeader } from '../../yolos/safetensors-header.ts';
import { trainStep } from '../../yolos/train/step.ts';
import {
  scratchRecipe,
  finetuneRecipe,
  validationResize,
  stepsPerEpoch,
  lrAt,
  makeOptimizer,
  makeCriterion,
  type Recipe,
} from '../../yolos/train/recipe.ts';
import { SHAPES_VAL, labelMap, cocoSources, type LabelMap } from '../../yolos/train/data.ts';
import { cocoFromFiles, type CocoFilesDataset } from '../../yolos/data/coco-files.ts';
import { modelFromBytes } from './weights.ts';
import { expandArchives } from './zip-files.ts';
import { fineTuneTarget } from './finetune-target.ts';
import { chwToRgba } from './common.ts';
import {
  SIZE,
  VAL_IMAGES,
  type DataSource,
  type FromWorker,
  type StepLog,
  type ToWorker,
  type TrainProgress,
  type TrainSettings,
  type ValImage,
} from './train-protocol.ts';

const SCRATCH = scratchRecipe(presets.nano16);

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

/** A checkpoint to start from: its bytes, a name for messages, and what it is. */
interface StartFrom {
  where: string;
  config: Uint8Array;
  weights: Uint8Array;
  kind: CheckpointKind;
}

/** The data as chosen: the shapes stream, or a COCO folder's datasets. */
type Data = { kind: 'shapes'; name: string } | { kind: 'coco'; name: string; set: CocoFilesDataset };

/** Everything a run needs that follows from (start, data): built whole before it replaces the current one. */
interface Plan {
  config: YolosConfig;
  labels: LabelMap;
  recipe: Recipe;
  /** Training images per epoch (null: the endless shapes stream). */
  images: number | null;
  /** Batch `step` of `n` images; `imagesSeen` images were used before it. */
  batch(step: number, imagesSeen: number, n: number): Promise<Batch>;
  /** The validation images, transformed for evaluation, [0, 1] CHW. */
  val: DetectionSample[];
  /** The pre-trained model (null: created from random init at Start). */
  model: Yolos | null;
  report: string[];
}

/** The shapes data and its first validation images. */
function shapesPlan(config: YolosConfig, seed: number): Omit<Plan, 'recipe' | 'model' | 'report'> {
  const stream = shapesDataset({ seed, count: Number.MAX_SAFE_INTEGER, size: SIZE });
  const valSet = shapesDataset({ ...SHAPES_VAL, count: VAL_IMAGES, size: SIZE });
  return {
    config,
    labels: labelMap(stream.categories, presets.nano16.num_labels),
    images: null,
    // images imagesSeen … imagesSeen + n − 1 of the stream, so a batch-size change keeps the stream
    batch: async (_step, seen, n) => collate(Array.from({ length: n }, (_, i) => stream.get(seen + i))),
    val: Array.from({ length: VAL_IMAGES }, (_, i) => valSet.get(i)),
  };
}

/** The page's picture of a validation sample: RGBA and the true boxes in its pixels. */
function valImage(s: DetectionSample, name: string): ValImage {
  const truth = Array.from({ length: s.labels.length }, (_, k) => {
    const [cx, cy, w, h] = s.boxes.subarray(4 * k, 4 * k + 4);
    return [(cx - w / 2) * s.width, (cy - h / 2) * s.height, (cx + w / 2) * s.width, (cy + h / 2) * s.height] as [
      number,
      number,
      number,
      number,
    ];
  });
  return { name, width: s.width, height: s.height, rgba: chwToRgba(s.image, s.height, s.width).data as Uint8ClampedArray, truth };
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

class Trainer {
  model: Yolos | null = null;
  history: StepLog[] = [];
  step = 0;
  imagesSeen = 0;
  running = false;
  settings: TrainSettings = { seed: 0, batch: SCRATCH.batch, lr: SCRATCH.lr, warmup: SCRATCH.warmup, total: SCRATCH.steps, every: 10 };
  private optimizer: AdamW | null = null;
  private origin: StartFrom | null = null;
  private data: Data = { kind: 'shapes', name: 'the synthetic shapes' };
  private plan: Plan;
  private criterion: ReturnType<typeof makeCriterion>;
  private seconds = 0;
  private lock: Promise<unknown> = Promise.resolve();
  private looping = false;

  constructor() {
    this.plan = { ...shapesPlan(presets.nano16, 0), recipe: SCRATCH, model: null, report: [] };
    this.criterion = makeCriterion(presets.nano16.num_labels, SCRATCH);
  }

  progress(): TrainProgress {
    return { step: this.step, imagesSeen: this.imagesSeen, seconds: this.seconds, running: this.running, hasModel: !!this.model };
  }

  state(text: string, extra: { error?: boolean; history?: StepLog[] } = {}): void {
    post({ type: 'state', text, ...extra, progress: this.progress() });
  }

  /** Runs `fn` when no other model operation is in flight (steps, validation, saving, loading). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn);
    this.lock = p.catch(() => undefined);
    return p;
  }

  /** Says which data is trained on (its notes and validation images). */
  postData(): void {
    const d = this.data;
    const text =
      d.kind === 'shapes'
        ? 'the synthetic shapes (an endless stream; validation: a held-out stream)'
        : `${d.name}: ${count(d.set.train.length, 'training image')}, ${count(d.set.val.length, 'validation image')}, ${count(d.set.train.categories.length, 'category', 'categories')} (${d.set.train.categories.map((c) => c.name ?? c.id).join(', ')})`;
    post({
      type: 'data',
      name: d.name,
      text,
      notes: d.kind === 'coco' ? d.set.notes : [],
      val: this.plan.val.map((s, i) => valImage(s, d.kind === 'shapes' ? `shapes ${i}` : `image id ${s.imageId}`)),
      images: this.plan.images,
    });
  }

  postStart(): void {
    const s = this.origin;
    post({ type: 'start', from: s?.where ?? null, lines: this.plan.report, finetune: s ? this.plan.config : null });
  }

  /** The plan of (start, data): the target config, labels, recipe, sources, validation images and the transferred model. */
  private async build(start: StartFrom | null, data: Data): Promise<Plan> {
    const seed = this.settings.seed;
    const target = start
      ? fineTuneTarget(start.kind, new TextDecoder().decode(start.config), data.kind, start.where)
      : { config: presets.nano16, preset: 'nano16' as const, why: 'from random init: nano-16' };
    const recipe = start ? finetuneRecipe(target.config, this.settings.batch) : SCRATCH;
    let base: Omit<Plan, 'recipe' | 'model' | 'report'>;
    if (data.kind === 'shapes') base = shapesPlan(target.config, seed);
    else {
      const cats = data.set.train.categories;
      const labels = labelMap(cats, cats.length);
      const config = { ...target.config, num_labels: cats.length, id2label: labels.id2label };
      // a preset trains at its own scales (shapes: 48–80, Ti: 256–608…); another detector at scales up to its input's short side
      const size = target.preset ? undefined : Math.min(...config.image_size);
      const { train, val } = cocoSources(data.set.train, data.set.val, {
        seed,
        model: target.preset ?? 'custom',
        size,
        augment: true,
        name: data.name,
        evalResize: validationResize(config),
        onWarning: (text) => post({ type: 'note', text }),
      });
      const valSamples: DetectionSample[] = [];
      for (let i = 0; i < Math.min(VAL_IMAGES, val.length); i++) valSamples.push(await val.get(i)); // decoding errors name the image
      base = { config, labels, images: train.images ?? null, batch: (step, _seen, n) => train.batch(step, n), val: valSamples };
    }
    if (!start) return { ...base, recipe, model: null, report: [] };
    const { model, report } = transferFromFiles(start, target.config, { seed, id2label: base.labels.id2label });
    return {
      ...base,
      config: model.config,
      recipe,
      model,
      report: [`target: ${target.why}, labels from the data (${model.config.num_labels})`, ...report],
    };
  }

  /** Builds the plan of (start, data) and, when it works, replaces the current model and resets the training. */
  async prepare(start: StartFrom | null, data: Data): Promise<void> {
    this.running = false;
    await this.exclusive(async () => {
      const plan = await this.build(start, data);
      this.optimizer?.dispose();
      this.model?.dispose();
      this.plan = plan;
      this.origin = start;
      this.data = data;
      this.optimizer = null;
      this.model = plan.model;
      this.criterion = makeCriterion(plan.config.num_labels, plan.recipe);
      this.history = [];
      this.step = 0;
      this.imagesSeen = 0;
      this.seconds = 0;
      if (this.model) this.setOptimizer();
    });
    this.postData();
    this.postStart();
    if (this.model) await this.exclusive(() => this.validate()); // the starting point's predictions
    this.state(this.model ? 'ready to fine-tune: Start' : 'idle', { history: [] });
  }

  /** Reads a picked checkpoint (a .safetensors and, optionally, its config.json) and starts from it. */
  async startFrom(files: File[]): Promise<void> {
    try {
      const st = files.find((f) => /\.safetensors$/i.test(f.name));
      if (!st)
        throw new Error(
          `no .safetensors file among ${files.map((f) => f.name).join(', ') || 'the files'}; pick the weights with their config.json`,
        );
      const cj = files.find((f) => /\.json$/i.test(f.name));
      const weights = new Uint8Array(await st.arrayBuffer());
      const kind = checkpointKind(
        parseHeader(weights, st.name).tensors.map((t) => t.name),
        st.name,
      );
      let config: Uint8Array;
      if (cj) config = new Uint8Array(await cj.arrayBuffer());
      else {
        const meta = readSafetensorsMetadata(weights, { name: st.name })['yolos.config'];
        if (meta === undefined)
          throw new Error(`${st.name}: no config: pick its config.json with it (the file has no 'yolos.config' metadata)`);
        config = new TextEncoder().encode(meta);
      }
      await this.prepare({ where: st.name, config, weights, kind }, this.data);
    } catch (e) {
      post({
        type: 'start',
        from: null,
        lines: [`cannot start from ${files.map((f) => f.name).join(' + ')}: ${(e as Error).message}`],
        error: true,
        finetune: null,
      });
      this.state(`the model is unchanged (${this.origin ? `from ${this.origin.where}` : 'random init'})`);
    }
  }

  /** Drops the start checkpoint: the next Start trains from random init. */
  async fromScratch(): Promise<void> {
    try {
      await this.prepare(null, this.data);
    } catch (e) {
      this.state(`cannot go back to random init: ${(e as Error).message}`, { error: true });
    }
  }

  /** Reads a COCO folder's files (or the shapes) and trains on them from now on. */
  async setData(source: DataSource): Promise<void> {
    let data: Data;
    try {
      if (source.kind === 'shapes') data = { kind: 'shapes', name: 'the synthetic shapes' };
      else {
        const notes: string[] = [];
        const set = await cocoFromFiles(await expandArchives(source.files), { onWarning: (m) => notes.push(m) });
        set.notes.push(...notes);
        data = { kind: 'coco', name: source.name, set };
      }
      await this.prepare(this.origin, data);
    } catch (e) {
      post({
        type: 'data',
        name: source.kind === 'shapes' ? 'shapes' : source.name,
        text: `cannot use ${source.kind === 'shapes' ? 'the shapes' : source.name}: ${(e as Error).message}`,
        error: true,
        notes: [`still training on ${this.data.name}`],
        val: [],
        images: this.plan.images,
      });
      this.state(`the data is unchanged (${this.data.name})`);
    }
  }

  private ensureModel(): void {
    if (this.model) return;
    // from random init; the shapes stream restarts at the seed
    if (this.data.kind === 'shapes') this.plan = { ...this.plan, ...shapesPlan(this.plan.config, this.settings.seed) };
    this.model = Yolos.create(this.plan.config, { seed: this.settings.seed, init: SCRATCH.init });
    this.setOptimizer();
  }

  private setOptimizer(): void {
    this.optimizer?.dispose();
    this.model!.train();
    this.optimizer = makeOptimizer(this.model!, { ...this.plan.recipe, lr: this.settings.lr });
  }

  start(): void {
    if (this.running) return;
    this.ensureModel();
    this.running = true;
    this.state('training…');
    if (!this.looping) void this.loop(); // a loop paused mid-step just carries on
  }

  pause(): void {
    this.running = false;
    this.state('paused');
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.running) {
        const total = this.settings.total;
        if (this.step >= total) {
          this.running = false;
          this.state(`the schedule ended at step ${total}; raise "Schedule steps" to go on`);
          break;
        }
        await this.exclusive(() => this.oneStep(total));
        if (this.step % this.settings.every === 0 || this.step === 1) await this.exclusive(() => this.validate());
        await new Promise((r) => setTimeout(r, 0)); // take the page's messages (pause, settings) between steps
      }
    } catch (e) {
      this.running = false;
      this.state(`stopped: ${(e as Error).message}`, { error: true });
      console.error(e);
    }
    this.looping = false;
  }

  private async oneStep(total: number): Promise<void> {
    const model = this.model!,
      optimizer = this.optimizer!,
      plan = this.plan;
    const t0 = performance.now();
    const { batch, lr: base } = this.settings;
    // schedule: the recipe's kind (per step from scratch, per epoch fine-tuning) with the form's numbers
    const lr = lrAt(this.step, {
      schedule: plan.recipe.schedule,
      lrMin: plan.recipe.lrMin,
      lr: base,
      warmup: this.settings.warmup,
      total,
      stepsPerEpoch: stepsPerEpoch(plan.images ?? undefined, batch),
    });
    const b = await plan.batch(this.step, this.imagesSeen, batch); // batch (CPU)
    const targets = b.targets.map((t) => ({ labels: Int32Array.from(t.labels, plan.labels.toIndex), boxes: t.boxes }));
    const l = await trainStep(model, optimizer, this.criterion, b.pixels, b.shape, targets, { lr, clip: plan.recipe.clip });
    if (!Number.isFinite(l.loss))
      throw new Error(`the loss became ${l.loss} at step ${this.step} (lr ${lr}); lower the learning rate and reset`);
    const ms = performance.now() - t0;
    this.seconds += ms / 1000;
    const log: StepLog = {
      step: this.step,
      loss: l.loss,
      lr,
      batch,
      ms,
      parts: [l.lossCe, l.lossBbox, l.lossGiou],
      classError: l.classError,
    };
    this.history.push(log);
    this.step++;
    this.imagesSeen += batch;
    post({ type: 'step', log, progress: this.progress() });
  }

  /** Predicts the validation images (one batch when they share a size, else one by one) and sends every query's box. */
  private async validate(): Promise<void> {
    const model = this.model;
    if (!model) return;
    const val = this.plan.val;
    const sameSize = val.every((s) => s.width === val[0].width && s.height === val[0].height);
    const groups = sameSize ? [val] : val.map((s) => [s]);
    const dets = [];
    for (const group of groups) {
      const b = collate(group);
      const x = tensor(b.pixels, b.shape);
      const pred = scope(() => model.predict(x));
      x.dispose();
      try {
        // all queries (threshold 0); the page's slider filters when painting
        dets.push(...(await postprocess(pred, b.sizes, { threshold: 0, id2label: model.config.id2label })));
      } finally {
        pred.logits.dispose();
        pred.boxes.dispose();
      }
    }
    post({ type: 'validation', step: this.step, dets });
  }

  /** Back to step 0: the start checkpoint again, or random init at the next Start. */
  async reset(): Promise<void> {
    try {
      await this.prepare(this.origin, this.data);
    } catch (e) {
      this.state(`cannot reset: ${(e as Error).message}`, { error: true });
    }
  }

  /** The weights as safetensors, with the config and the step in the metadata. */
  snapshot(id: number): Promise<void> {
    return this.exclusive(async () => {
      if (!this.model) throw new Error('no model yet: start training first');
      const bytes = await this.model.saveSafetensors({
        'yolos.config': JSON.stringify(this.model.config),
        'yolos.steps': String(this.step),
      });
      const buffer =
        bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
      post({ type: 'weights', id, bytes: buffer, step: this.step }, [buffer]);
    }).catch((e: Error) => post({ type: 'failed', id, message: e.message }));
  }

  /** Continues training from a weights file (the optimizer's moments start afresh). */
  async load(name: string, bytes: ArrayBuffer): Promise<void> {
    this.running = false;
    try {
      const loaded = await this.exclusive(async () => {
        const w = modelFromBytes(new Uint8Array(bytes));
        const c = w.model.config,
          want = this.plan.config;
        if (this.data.kind === 'shapes' && (c.num_labels !== want.num_labels || c.image_size.join() !== want.image_size.join())) {
          w.model.dispose();
          throw new Error(
            `${name} is not a shapes model (${c.num_labels} labels, input ${c.image_size.join('×')}); this tab trains nano-16 on 3 classes at 64×64`,
          );
        }
        if (c.num_labels !== want.num_labels) {
          w.model.dispose();
          throw new Error(
            `${name} has ${c.num_labels} labels; ${this.data.name} has ${want.num_labels} categories (to train it on them, use "Start from…")`,
          );
        }
        this.model?.dispose();
        this.model = w.model;
        this.setOptimizer();
        this.step = w.steps ?? 0;
        this.imagesSeen = this.step * (w.batch ?? 0);
        // a checkpoint brings its loss history (the chart continues it); plain weights start a new chart
        this.history = (w.history ?? []).map((h) => ({ ...h, batch: w.batch ?? 0, ms: null }));
        return w;
      });
      await this.exclusive(() => this.validate());
      this.state(
        `loaded ${name} at step ${this.step}${loaded.history?.length ? ' with its loss history' : ''}; Start continues from there (the AdamW moments start afresh)`,
        { history: this.history },
      );
    } catch (e) {
      this.state(`cannot load: ${(e as Error).message}`, { error: true });
    }
  }
}

let trainer: Trainer | null = null;
const early: ToWorker[] = []; // messages that arrive while the engine starts

function handle(m: ToWorker): void {
  const t = trainer!;
  switch (m.type) {
    case 'settings':
      t.settings = m.settings;
      break;
    case 'start':
      t.start();
      break;
    case 'pause':
      t.pause();
      break;
    case 'reset':
      void t.reset();
      break;
    case 'load':
      void t.load(m.name, m.bytes);
      break;
    case 'snapshot':
      void t.snapshot(m.id);
      break;
    case 'start-from':
      void t.startFrom(m.files);
      break;
    case 'from-scratch':
      void t.fromScratch();
      break;
    case 'data':
      void t.setData(m.source);
      break;
  }
}

self.addEventListener('message', (ev: MessageEvent<ToWorker>) => (trainer ? handle(ev.data) : early.push(ev.data)));

try {
  const engine = await init();
  trainer = new Trainer();
  post({ type: 'ready', adapter: describeAdapterOf(engine) });
  trainer.postData();
  for (const m of early.splice(0)) handle(m);
} catch (e) {
  post({ type: 'fatal', message: (e as Error).message });
}
