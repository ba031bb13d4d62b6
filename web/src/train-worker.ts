/**
 * The Train tab's Web Worker: it owns the engine (WebGPU works in dedicated workers), the model, the
 * optimizer and the data, and runs `trainStep` from yolos/train/step.ts — the Node trainer's step —
 * with the same from-scratch recipe (yolos/train/recipe.ts; the page's form may change batch, lr,
 * warm-up and schedule steps). The page only draws: steps, validation predictions and weight bytes come back as
 * messages (web/src/train-protocol.ts), so the main thread never waits on the GPU.
 */
import { init, describeAdapterOf, tensor, scope } from '../../engine/index.ts';
import type { AdamW } from '../../engine/optim/index.ts';
import { Yolos, presets, shapesDataset, collate, postprocess, type ShapesDataset, type Batch } from '../../yolos/index.ts';
import { trainStep } from '../../yolos/train/step.ts';
import { scratchRecipe, lrAt, makeOptimizer, makeCriterion } from '../../yolos/train/recipe.ts';
import { SHAPES_VAL, labelMap, type LabelMap } from '../../yolos/train/data.ts';
import { modelFromBytes } from './weights.ts';
import { SIZE, VAL_IMAGES, type FromWorker, type StepLog, type ToWorker, type TrainProgress, type TrainSettings } from './train-protocol.ts';

const RECIPE = scratchRecipe(presets.nano16);

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

class Trainer {
  model: Yolos | null = null;
  history: StepLog[] = [];
  step = 0;
  imagesSeen = 0;
  running = false;
  settings: TrainSettings = { seed: 0, batch: RECIPE.batch, lr: RECIPE.lr, warmup: RECIPE.warmup, total: RECIPE.steps, every: 10 };
  private optimizer: AdamW | null = null;
  private criterion = makeCriterion(presets.nano16.num_labels, RECIPE);
  private data: ShapesDataset;
  private labels: LabelMap;
  private valBatch: Batch;
  private seconds = 0;
  private lock: Promise<unknown> = Promise.resolve();
  private looping = false;

  constructor() {
    this.data = shapesDataset({ seed: 0, count: Number.MAX_SAFE_INTEGER, size: SIZE });
    this.labels = labelMap(this.data.categories, presets.nano16.num_labels);
    const val = shapesDataset({ ...SHAPES_VAL, count: VAL_IMAGES, size: SIZE });
    this.valBatch = collate(Array.from({ length: VAL_IMAGES }, (_, i) => val.get(i)));
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

  private ensureModel(): void {
    if (this.model) return;
    const seed = this.settings.seed;
    this.data = shapesDataset({ seed, count: Number.MAX_SAFE_INTEGER, size: SIZE });
    this.model = Yolos.create(presets.nano16, { seed, init: RECIPE.init });
    this.setOptimizer();
  }

  private setOptimizer(): void {
    this.optimizer?.dispose();
    this.model!.train();
    this.optimizer = makeOptimizer(this.model!, { ...RECIPE, lr: this.settings.lr });
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
        if (this.step >= total) { this.running = false; this.state(`the schedule ended at step ${total}; raise "Schedule steps" to go on`); break; }
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
    const model = this.model!, optimizer = this.optimizer!;
    const t0 = performance.now();
    const { batch, lr: base } = this.settings;
    const lr = lrAt(this.step, { ...RECIPE, lr: base, warmup: this.settings.warmup, total, stepsPerEpoch: 1 });
    // batch (CPU): images imagesSeen … imagesSeen + batch − 1 of the stream, so a batch-size change keeps the stream
    const b = collate(Array.from({ length: batch }, (_, i) => this.data.get(this.imagesSeen + i)));
    const targets = b.targets.map((t) => ({ labels: Int32Array.from(t.labels, this.labels.toIndex), boxes: t.boxes }));
    const l = await trainStep(model, optimizer, this.criterion, b.pixels, b.shape, targets, { lr, clip: RECIPE.clip });
    if (!Number.isFinite(l.loss)) throw new Error(`the loss became ${l.loss} at step ${this.step} (lr ${lr}); lower the learning rate and reset`);
    const ms = performance.now() - t0;
    this.seconds += ms / 1000;
    const log: StepLog = { step: this.step, loss: l.loss, lr, batch, ms, parts: [l.lossCe, l.lossBbox, l.lossGiou], classError: l.classError };
    this.history.push(log);
    this.step++;
    this.imagesSeen += batch;
    post({ type: 'step', log, progress: this.progress() });
  }

  /** Predicts the validation images (one batch: they share one size) and sends every query's box. */
  private async validate(): Promise<void> {
    const model = this.model;
    if (!model) return;
    const [, , H, W] = this.valBatch.shape;
    const x = tensor(this.valBatch.pixels, this.valBatch.shape);
    const pred = scope(() => model.predict(x));
    x.dispose();
    try {
      // all queries (threshold 0); the page's slider filters when painting
      const dets = await postprocess(pred, this.valBatch.sizes.map(() => [H, W] as [number, number]), { threshold: 0, id2label: model.config.id2label });
      post({ type: 'validation', step: this.step, dets });
    } finally {
      pred.logits.dispose();
      pred.boxes.dispose();
    }
  }

  async reset(): Promise<void> {
    this.running = false;
    await this.exclusive(async () => {
      this.optimizer?.dispose();
      this.model?.dispose();
      this.optimizer = null;
      this.model = null;
      this.history = [];
      this.step = 0;
      this.imagesSeen = 0;
      this.seconds = 0;
    });
    this.state('idle', { history: [] });
  }

  /** The weights as safetensors, with the config and the step in the metadata. */
  snapshot(id: number): Promise<void> {
    return this.exclusive(async () => {
      if (!this.model) throw new Error('no model yet: start training first');
      const bytes = await this.model.saveSafetensors({ 'yolos.config': JSON.stringify(this.model.config), 'yolos.steps': String(this.step) });
      const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer as ArrayBuffer : bytes.slice().buffer;
      post({ type: 'weights', id, bytes: buffer, step: this.step }, [buffer]);
    }).catch((e: Error) => post({ type: 'failed', id, message: e.message }));
  }

  /** Continues training from a weights file (the optimizer's moments start afresh). */
  async load(name: string, bytes: ArrayBuffer): Promise<void> {
    this.running = false;
    try {
      const loaded = await this.exclusive(async () => {
        const w = modelFromBytes(new Uint8Array(bytes));
        const c = w.model.config;
        if (c.num_labels !== presets.nano16.num_labels || c.image_size.join() !== presets.nano16.image_size.join()) {
          w.model.dispose();
          throw new Error(`${name} is not a shapes model (${c.num_labels} labels, input ${c.image_size.join('×')}); this tab trains nano-16 on 3 classes at 64×64`);
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
      this.state(`loaded ${name} at step ${this.step}${loaded.history?.length ? ' with its loss history' : ''}; Start continues from there (the AdamW moments start afresh)`, { history: this.history });
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
    case 'settings': t.settings = m.settings; break;
    case 'start': t.start(); break;
    case 'pause': t.pause(); break;
    case 'reset': void t.reset(); break;
    case 'load': void t.load(m.name, m.bytes); break;
    case 'snapshot': void t.snapshot(m.id); break;
  }
}

self.addEventListener('message', (ev: MessageEvent<ToWorker>) => (trainer ? handle(ev.data) : early.push(ev.data)));

try {
  const engine = await init();
  trainer = new Trainer();
  post({ type: 'ready', adapter: describeAdapterOf(engine) });
  for (const m of early.splice(0)) handle(m);
} catch (e) {
  post({ type: 'fatal', message: (e as Error).message });
}
