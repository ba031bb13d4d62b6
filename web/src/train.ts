/**
 * The Train tab: YOLOS nano-16 on the synthetic shapes stream. The training runs in a Web Worker
 * (web/src/train-worker.ts: the engine, the model, `trainStep`); this side reads the form, sends
 * start/pause/settings/load/snapshot messages, and draws what comes back: the stats, the loss chart
 * and the validation images with their predicted boxes.
 */
import { shapesDataset, type Detection, type DetectionSample } from '../../yolos/index.ts';
import { SHAPES_VAL } from '../../yolos/train/data.ts';
import { scratchRecipe } from '../../yolos/train/recipe.ts';
import { presets } from '../../yolos/config.ts';
import { byId, chwToRgba, download, fmt, paint } from './common.ts';
import { drawLossChart } from './chart.ts';
import { SIZE, VAL_IMAGES, type FromWorker, type StepLog, type ToWorker, type TrainProgress, type TrainSettings } from './train-protocol.ts';

export type { StepLog };

/** The from-scratch recipe the tab trains with (yolos/train/recipe.ts): the form starts from its numbers. */
const RECIPE = scratchRecipe(presets.nano16);
/** The recipe's batch (`npm start`), and the default on a software adapter, where 16 is slow. */
export const RECIPE_BATCH = RECIPE.batch;
export const SOFTWARE_BATCH = 4;

/** Writes the recipe's lr, warm-up and schedule steps into the form (the page's markup holds no numbers of its own that count). */
function applyRecipeDefaults(): void {
  byId<HTMLInputElement>('t-lr').value = String(RECIPE.lr);
  byId<HTMLInputElement>('t-warmup').value = String(RECIPE.warmup);
  byId<HTMLInputElement>('t-total').value = String(RECIPE.steps);
}

/** Picks the default batch for this adapter and writes the hint from the same numbers. */
export function applyBatchDefault(isSoftware: boolean): void {
  const batch = isSoftware ? SOFTWARE_BATCH : RECIPE_BATCH;
  byId<HTMLSelectElement>('t-batch').value = String(batch);
  byId('t-batch-hint').textContent = isSoftware
    ? `Batch ${RECIPE_BATCH} is the recipe; this is a software adapter, so the default is ${batch} (2–8 keep a step short).`
    : `Batch ${RECIPE_BATCH} is the recipe and the default; on a software adapter pick 2–8.`;
}

const SETTINGS_INPUTS = ['t-seed', 't-batch', 't-lr', 't-warmup', 't-total', 't-every'];

export class TrainPanel {
  history: StepLog[] = [];
  step = 0;
  imagesSeen = 0;
  /** Whether the worker is training (as it last reported). */
  running = false;
  /** Whether the worker holds a model (trained or loaded). */
  hasModel = false;
  /** Predicted boxes drawn in the validation images at the last redraw (for the page's caption and tests). */
  boxesDrawn = 0;
  valRedraws = 0;
  onModelChange: (() => void) | null = null;
  private readonly worker: Worker;
  private readonly val: DetectionSample[];
  private valDets: Detection[][] = [];
  private valStep = 0;
  private seconds = 0;
  private chartQueued = false;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();

  constructor(isSoftware: boolean) {
    applyRecipeDefaults();
    applyBatchDefault(isSoftware);
    const val = shapesDataset({ ...SHAPES_VAL, count: VAL_IMAGES, size: SIZE });
    this.val = Array.from({ length: VAL_IMAGES }, (_, i) => val.get(i));
    this.worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module', name: 'yolos-train' });
    this.worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => this.receive(ev.data));
    this.worker.addEventListener('error', (ev) => this.fail(`the training worker failed: ${ev.message || 'it could not start (see the console)'}`));
    this.send({ type: 'settings', settings: this.settings() });
    for (const id of SETTINGS_INPUTS) byId(id).addEventListener('change', () => this.send({ type: 'settings', settings: this.settings() }));
    byId('t-start').addEventListener('click', () => (this.running ? this.pause() : this.start()));
    byId('t-reset').addEventListener('click', () => this.send({ type: 'reset' }));
    byId('t-save').addEventListener('click', () => this.save());
    byId<HTMLInputElement>('t-load').addEventListener('change', (ev) => {
      const input = ev.target as HTMLInputElement;
      if (input.files?.length) void this.load(input.files[0]);
      input.value = '';
    });
    const thresh = byId<HTMLInputElement>('t-thresh');
    thresh.addEventListener('input', () => { byId('t-thresh-v').textContent = Number(thresh.value).toFixed(2); this.paintValidation(); });
    window.addEventListener('resize', () => this.queueChart());
    this.setState('starting the training worker…');
    this.paintValidation();
    this.render();
  }

  private send(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private num(id: string, fallback: number): number {
    const v = Number(byId<HTMLInputElement>(id).value);
    return Number.isFinite(v) ? v : fallback;
  }

  /** The form as the worker's settings (integers where the form means counts). */
  private settings(): TrainSettings {
    return {
      seed: Math.trunc(this.num('t-seed', 0)),
      batch: Math.max(1, Math.trunc(this.num('t-batch', RECIPE_BATCH))),
      lr: this.num('t-lr', RECIPE.lr),
      warmup: Math.max(0, Math.trunc(this.num('t-warmup', RECIPE.warmup))),
      total: Math.max(1, Math.trunc(this.num('t-total', RECIPE.steps))),
      every: Math.max(1, Math.trunc(this.num('t-every', 10))),
    };
  }

  start(): void {
    // the form as it is now (a `change` event may not have fired yet for a field still focused)
    this.send({ type: 'settings', settings: this.settings() });
    this.send({ type: 'start' });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'ready': this.setState('idle'); break;
      case 'fatal': this.fail(`cannot train in this browser: the worker got no WebGPU device (${m.message})`); break;
      case 'state':
        if (m.history) this.history = m.history;
        if (!m.progress.hasModel) { this.valDets = []; this.valRedraws = 0; this.paintValidation(); }
        this.progress(m.progress);
        this.setState(m.text, m.error);
        break;
      case 'step':
        this.history.push(m.log);
        this.progress(m.progress);
        break;
      case 'validation':
        this.valDets = m.dets;
        this.valStep = m.step;
        this.valRedraws++;
        this.paintValidation();
        break;
      case 'weights': this.pending.get(m.id)?.resolve(new Uint8Array(m.bytes)); this.pending.delete(m.id); break;
      case 'failed': this.pending.get(m.id)?.reject(new Error(m.message)); this.pending.delete(m.id); break;
    }
  }

  /** The worker cannot go on: say why, stop offering what needs it, and fail the snapshots waiting on it. */
  private fail(text: string): void {
    this.setState(text, true);
    for (const id of ['t-start', 't-reset', 't-save']) byId<HTMLButtonElement>(id).disabled = true;
    byId<HTMLInputElement>('t-load').disabled = true;
    for (const p of this.pending.values()) p.reject(new Error(text));
    this.pending.clear();
  }

  private progress(p: TrainProgress): void {
    const modelChanged = p.hasModel !== this.hasModel;
    ({ step: this.step, imagesSeen: this.imagesSeen, seconds: this.seconds, running: this.running, hasModel: this.hasModel } = p);
    this.render();
    if (modelChanged) this.onModelChange?.();
  }

  /** The weights as safetensors (config and step in the metadata), from the worker. */
  snapshot(): Promise<Uint8Array> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ type: 'snapshot', id });
    });
  }

  private async save(): Promise<void> {
    try {
      const bytes = await this.snapshot();
      download(bytes, `yolos-nano16-shapes-step${this.step}.safetensors`);
    } catch (e) {
      this.setState(`cannot save: ${(e as Error).message}`, true);
    }
  }

  /** Continues training from a weights file or a checkpoint (the worker builds the model). */
  async load(file: File): Promise<void> {
    if (!/\.safetensors$/i.test(file.name)) { this.setState(`cannot load: ${file.name} is not a .safetensors file`, true); return; }
    const bytes = await file.arrayBuffer();
    this.send({ type: 'load', name: file.name, bytes }, [bytes]);
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
    this.val.forEach((s, i) => {
      const dets = (this.valDets[i] ?? []).filter((d) => d.score > threshold);
      drawn += dets.length;
      const truth = Array.from({ length: s.labels.length }, (_, k) => {
        const [x0, y0, x1, y1] = cxcywhToXyxy(s.boxes.subarray(4 * k, 4 * k + 4));
        return [x0 * s.width, y0 * s.height, x1 * s.width, y1 * s.height] as [number, number, number, number];
      });
      const fig = grid.children[i] as HTMLElement;
      paint(fig.querySelector('canvas')!, chwToRgba(s.image, s.height, s.width), dets, { minSide: 192, truth });
      fig.querySelector('figcaption')!.textContent = this.valDets.length ? `${dets.length} box${dets.length === 1 ? '' : 'es'} · ${s.labels.length} true` : `${s.labels.length} objects`;
    });
    this.boxesDrawn = drawn;
    grid.dataset.boxes = String(drawn);
    grid.dataset.redraws = String(this.valRedraws);
    byId('t-val-info').textContent = this.valRedraws ? `predictions of step ${this.valStep}` : 'predictions appear once training starts';
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
    byId<HTMLButtonElement>('t-save').disabled = !this.hasModel;
    byId('tab-train').dataset.step = String(this.step);
    this.queueChart();
  }
}

/** cxcywh → xyxy for one box on the host. */
function cxcywhToXyxy([cx, cy, w, h]: Float32Array): [number, number, number, number] {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}
