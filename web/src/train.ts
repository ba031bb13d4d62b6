/**
 * The Train tab: YOLOS nano-16 on the synthetic shapes stream, in the page. Each step is
 * `trainStep` from yolos/train/step.ts — the one the Node trainer runs — with the same recipe
 * (AdamW with the spec's parameter groups, clip 0.1, warm-up then cosine, fan-in init).
 */
import { tensor, scope } from '../../engine/index.ts';
import { AdamW, warmupCosine } from '../../engine/optim/index.ts';
import { Yolos, presets, shapesDataset, collate, SetCriterion, postprocess, type Detection, type ShapesDataset, type Batch } from '../../yolos/index.ts';
import { trainStep } from '../../yolos/train/step.ts';
import { parameterGroups } from '../../yolos/train/groups.ts';
import { SHAPES_VAL, labelMap, type LabelMap } from '../../yolos/train/data.ts';
import { byId, chwToRgba, download, fmt, paint } from './common.ts';
import { drawLossChart } from './chart.ts';
import { modelFromFiles } from './weights.ts';

const SIZE = 64; // nano-16's image side
const VAL_IMAGES = 6;
const WEIGHT_DECAY = 1e-4;
const CLIP = 0.1;

/** One step; `ms` is null for steps read from a checkpoint's history (trained elsewhere). */
export interface StepLog { step: number; loss: number; lr: number; batch: number; ms: number | null; parts?: [number, number, number]; classError?: number }

export class TrainPanel {
  model: Yolos | null = null;
  history: StepLog[] = [];
  step = 0;
  imagesSeen = 0;
  running = false;
  /** Predicted boxes drawn in the validation images at the last redraw (for the page's caption and tests). */
  boxesDrawn = 0;
  valRedraws = 0;
  private optimizer: AdamW | null = null;
  private criterion = new SetCriterion({ numClasses: presets.nano16.num_labels, eosCoef: 0.1, weights: { ce: 1, bbox: 5, giou: 2 } });
  private data: ShapesDataset;
  private labels: LabelMap;
  private val: ShapesDataset;
  private valBatch: Batch;
  private valDets: Detection[][] = [];
  private seconds = 0;
  private lock: Promise<unknown> = Promise.resolve();
  private chartQueued = false;
  private looping = false;
  private seed = 0;
  onModelChange: (() => void) | null = null;

  constructor() {
    this.data = shapesDataset({ seed: 0, count: Number.MAX_SAFE_INTEGER, size: SIZE });
    this.labels = labelMap(this.data.categories, presets.nano16.num_labels);
    this.val = shapesDataset({ ...SHAPES_VAL, count: VAL_IMAGES, size: SIZE });
    this.valBatch = collate(Array.from({ length: VAL_IMAGES }, (_, i) => this.val.get(i)));
    byId('t-start').addEventListener('click', () => (this.running ? this.pause() : this.start()));
    byId('t-reset').addEventListener('click', () => this.reset());
    byId('t-save').addEventListener('click', () => this.save());
    byId<HTMLInputElement>('t-load').addEventListener('change', (ev) => {
      const input = ev.target as HTMLInputElement;
      if (input.files?.length) this.load(Array.from(input.files));
      input.value = '';
    });
    const thresh = byId<HTMLInputElement>('t-thresh');
    thresh.addEventListener('input', () => { byId('t-thresh-v').textContent = Number(thresh.value).toFixed(2); this.paintValidation(); });
    window.addEventListener('resize', () => this.queueChart());
    this.paintValidation();
    this.render();
  }

  /** Runs `fn` when no other model operation is in flight (steps, validation, saving). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn);
    this.lock = p.catch(() => undefined);
    return p;
  }

  private num(id: string, fallback: number): number {
    const v = Number(byId<HTMLInputElement>(id).value);
    return Number.isFinite(v) ? v : fallback;
  }

  private ensureModel(): Yolos {
    if (this.model) return this.model;
    this.seed = Math.trunc(this.num('t-seed', 0));
    this.data = shapesDataset({ seed: this.seed, count: Number.MAX_SAFE_INTEGER, size: SIZE });
    this.model = Yolos.create(presets.nano16, { seed: this.seed, init: 'fanin' });
    this.setOptimizer();
    this.onModelChange?.();
    return this.model;
  }

  private setOptimizer(): void {
    this.optimizer?.dispose();
    this.model!.train();
    this.optimizer = new AdamW(parameterGroups(this.model!, WEIGHT_DECAY), { lr: this.num('t-lr', 5e-4), betas: [0.9, 0.999], eps: 1e-8 });
  }

  start(): void {
    if (this.running) return;
    this.ensureModel();
    this.running = true;
    this.setState('training…');
    this.render();
    if (!this.looping) void this.loop(); // a loop paused mid-step just carries on
  }

  pause(): void {
    this.running = false;
    this.setState('paused');
    this.render();
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.running) {
        const total = Math.max(1, Math.trunc(this.num('t-total', 8000)));
        if (this.step >= total) { this.running = false; this.setState(`the schedule ended at step ${total}; raise "Schedule steps" to go on`); break; }
        await this.exclusive(() => this.oneStep(total));
        const every = Math.max(1, Math.trunc(this.num('t-every', 10)));
        if (this.step % every === 0 || this.step === 1) await this.exclusive(() => this.validate());
        this.render();
        await new Promise((r) => setTimeout(r, 0)); // let the page handle clicks between steps
      }
    } catch (e) {
      this.running = false;
      this.setState(`stopped: ${(e as Error).message}`, true);
      console.error(e);
    }
    this.looping = false;
    this.render();
  }

  private async oneStep(total: number): Promise<void> {
    const model = this.model!, optimizer = this.optimizer!;
    const t0 = performance.now();
    const batch = Math.max(1, Math.trunc(this.num('t-batch', 16)));
    const base = this.num('t-lr', 5e-4);
    const lr = warmupCosine(this.step, { warmup: Math.min(Math.max(0, Math.trunc(this.num('t-warmup', 200))), total), total, base });
    // batch (CPU): images imagesSeen … imagesSeen + batch − 1 of the stream, so a batch-size change keeps the stream
    const b = collate(Array.from({ length: batch }, (_, i) => this.data.get(this.imagesSeen + i)));
    const targets = b.targets.map((t) => ({ labels: Int32Array.from(t.labels, this.labels.toIndex), boxes: t.boxes }));
    const l = await trainStep(model, optimizer, this.criterion, b.pixels, b.shape, targets, { lr, clip: CLIP });
    if (!Number.isFinite(l.loss)) throw new Error(`the loss became ${l.loss} at step ${this.step} (lr ${lr}); lower the learning rate and reset`);
    const ms = performance.now() - t0;
    this.seconds += ms / 1000;
    this.history.push({ step: this.step, loss: l.loss, lr, batch, ms, parts: [l.lossCe, l.lossBbox, l.lossGiou], classError: l.classError });
    this.step++;
    this.imagesSeen += batch;
  }

  /** Predicts the validation images (one batch: they share one size) and redraws them. */
  private async validate(): Promise<void> {
    const model = this.model;
    if (!model) return;
    const [, , H, W] = this.valBatch.shape;
    const x = tensor(this.valBatch.pixels, this.valBatch.shape);
    const pred = scope(() => model.predict(x));
    x.dispose();
    try {
      // all queries (threshold 0); the slider filters when painting
      this.valDets = await postprocess(pred, this.valBatch.sizes.map(() => [H, W] as [number, number]), { threshold: 0, id2label: model.config.id2label });
    } finally {
      pred.logits.dispose();
      pred.boxes.dispose();
    }
    this.valRedraws++;
    this.paintValidation();
  }

  private paintValidation(): void {
    const grid = byId('t-val');
    const threshold = Number(byId<HTMLInputElement>('t-thresh').value);
    if (grid.children.length !== VAL_IMAGES) {
      grid.replaceChildren(...Array.from({ length: VAL_IMAGES }, () => {
        const f = document.createElement('figure');
        f.append(document.createElement('canvas'), document.createElement('figcaption'));
        return f;
      }));
    }
    let drawn = 0;
    for (let i = 0; i < VAL_IMAGES; i++) {
      const s = this.val.get(i);
      const dets = (this.valDets[i] ?? []).filter((d) => d.score > threshold);
      drawn += dets.length;
      const truth = Array.from({ length: s.labels.length }, (_, k) => {
        const [x0, y0, x1, y1] = cxcywhToXyxy(s.boxes.subarray(4 * k, 4 * k + 4));
        return [x0 * s.width, y0 * s.height, x1 * s.width, y1 * s.height] as [number, number, number, number];
      });
      const fig = grid.children[i] as HTMLElement;
      paint(fig.querySelector('canvas')!, chwToRgba(s.image, s.height, s.width), dets, { minSide: 192, truth });
      fig.querySelector('figcaption')!.textContent = this.valDets.length ? `${dets.length} box${dets.length === 1 ? '' : 'es'} · ${s.labels.length} true` : `${s.labels.length} objects`;
    }
    this.boxesDrawn = drawn;
    grid.dataset.boxes = String(drawn);
    grid.dataset.redraws = String(this.valRedraws);
    byId('t-val-info').textContent = this.valRedraws ? `predictions of step ${this.step}` : 'predictions appear once training starts';
  }

  async reset(): Promise<void> {
    this.pause();
    await this.exclusive(async () => {
      this.optimizer?.dispose();
      this.model?.dispose();
      this.optimizer = null;
      this.model = null;
      this.history = [];
      this.step = 0;
      this.imagesSeen = 0;
      this.seconds = 0;
      this.valDets = [];
      this.valRedraws = 0;
    });
    this.setState('idle');
    this.paintValidation();
    this.render();
    this.onModelChange?.();
  }

  /** The weights as safetensors, with the config and the step in the metadata. */
  snapshot(): Promise<Uint8Array> {
    return this.exclusive(async () => {
      if (!this.model) throw new Error('no model yet: start training first');
      return this.model.saveSafetensors({ 'yolos.config': JSON.stringify(this.model.config), 'yolos.steps': String(this.step) });
    });
  }

  private async save(): Promise<void> {
    try {
      download(await this.snapshot(), `yolos-nano16-shapes-step${this.step}.safetensors`);
    } catch (e) {
      this.setState(`cannot save: ${(e as Error).message}`, true);
    }
  }

  /** Continues training from a weights file (the optimizer's moments start afresh). */
  async load(files: File[]): Promise<void> {
    this.pause();
    try {
      await this.exclusive(async () => {
        const w = await modelFromFiles(files);
        const c = w.model.config;
        if (c.num_labels !== presets.nano16.num_labels || c.image_size.join() !== presets.nano16.image_size.join()) {
          w.model.dispose();
          throw new Error(`${w.name} is not a shapes model (${c.num_labels} labels, input ${c.image_size.join('×')}); this tab trains nano-16 on 3 classes at 64×64`);
        }
        this.model?.dispose();
        this.model = w.model;
        this.setOptimizer();
        this.step = w.steps ?? 0;
        this.imagesSeen = this.step * (w.batch ?? 0);
        // a checkpoint brings its loss history (the chart continues it); plain weights start a new chart
        this.history = (w.history ?? []).map((h) => ({ ...h, batch: w.batch ?? 0, ms: null }));
        this.setState(`loaded ${w.name} at step ${this.step}${w.history?.length ? ' with its loss history' : ''}; Start continues from there (the AdamW moments start afresh)`);
      });
      await this.exclusive(() => this.validate());
      this.onModelChange?.();
    } catch (e) {
      this.setState(`cannot load: ${(e as Error).message}`, true);
    }
    this.render();
  }

  private setState(text: string, error = false): void {
    const el = byId('t-state');
    el.textContent = text;
    el.style.color = error ? 'var(--bad)' : '';
  }

  private queueChart(): void {
    if (this.chartQueued) return;
    this.chartQueued = true;
    requestAnimationFrame(() => {
      this.chartQueued = false;
      drawLossChart(byId<HTMLCanvasElement>('t-chart'), this.history);
    });
  }

  render(): void {
    const h = this.history, last = h[h.length - 1];
    const recent = h.slice(-20);
    const avg = recent.reduce((s, r) => s + r.loss, 0) / Math.max(recent.length, 1);
    const timed = recent.filter((r) => r.ms !== null);
    const ips = timed.reduce((s, r) => s + r.batch, 0) / Math.max(timed.reduce((s, r) => s + r.ms!, 0) / 1000, 1e-9);
    byId('s-step').textContent = String(this.step);
    byId('s-loss').textContent = last ? fmt(last.loss, 4) : '–';
    byId('s-avg').textContent = last ? fmt(avg, 4) : '–';
    byId('s-parts').textContent = last?.parts ? last.parts.map((v) => v.toFixed(2)).join(' · ') : '–';
    byId('s-cerr').textContent = last?.classError !== undefined ? `${last.classError.toFixed(0)}%` : '–';
    byId('s-seen').textContent = this.imagesSeen.toLocaleString('en');
    byId('s-lr').textContent = last ? fmt(last.lr, 3) : '–';
    byId('s-ips').textContent = timed.length ? ips.toFixed(ips < 10 ? 2 : 1) : '–';
    byId('s-time').textContent = `${this.seconds.toFixed(0)} s`;
    byId('t-start').textContent = this.running ? 'Pause' : this.step ? 'Resume' : 'Start';
    byId<HTMLButtonElement>('t-save').disabled = !this.model;
    byId('tab-train').dataset.step = String(this.step);
    this.queueChart();
  }
}

/** cxcywh → xyxy for one box on the host. */
function cxcywhToXyxy([cx, cy, w, h]: Float32Array): [number, number, number, number] {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}
