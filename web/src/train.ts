/**
 * The Train tab: YOLOS nano-16 on the synthetic shapes stream from random init, or fine-tuned from a
 * picked checkpoint on the user's COCO folder. The training runs in a Web Worker
 * (web/src/train-worker.ts: the engine, the model, the data, `trainStep`); this side reads the form and
 * the picked or dropped files, sends messages, and draws what comes back: the transfer report, the
 * data's notes, the stats, the loss chart and the validation images with their predicted boxes.
 */
import type { Detection, YolosConfig } from '../../yolos/index.ts';
import { scratchRecipe, finetuneRecipe, stepsPerEpoch } from '../../yolos/train/recipe.ts';
import { presets } from '../../yolos/config.ts';
import { byId, download, fmt, paint } from './common.ts';
import { drawLossChart } from './chart.ts';
import { describeFiles, filesOfDrop, filesOfInput } from './dataset-files.ts';
import type { DatasetFile } from '../../yolos/data/coco-files.ts';
import type { FromWorker, StepLog, ToWorker, TrainProgress, TrainSettings, ValImage } from './train-protocol.ts';

export type { StepLog };

/** The from-scratch recipe the tab trains with (yolos/train/recipe.ts): the form starts from its numbers. */
const RECIPE = scratchRecipe(presets.nano16);
/** The recipe's batch (`npm start`), and the default on a software adapter, where 16 is slow. */
export const RECIPE_BATCH = RECIPE.batch;
export const SOFTWARE_BATCH = 4;

/**
 * Writes the recipe's lr, warm-up and schedule steps into the form (the page's markup holds no numbers
 * of its own that count): from random init the from-scratch recipe; fine-tuning `finetune` the paper's
 * (lr scaled with `batch`, its epochs over `images` training images; an endless stream has 1-step epochs).
 */
function applyRecipeDefaults(finetune: YolosConfig | null = null, batch = RECIPE.batch, images: number | null = null): void {
  const r = finetune ? finetuneRecipe(finetune, batch) : RECIPE;
  const total = r.steps ?? r.epochs! * stepsPerEpoch(images ?? undefined, batch);
  byId<HTMLInputElement>('t-lr').value = String(r.lr);
  byId<HTMLInputElement>('t-warmup').value = String(r.warmup);
  byId<HTMLInputElement>('t-total').value = String(total);
  byId('t-recipe').textContent = finetune
    ? `Fine-tuning recipe (the paper's): lr ${finetuneRecipe(finetune).lr} × ${batch}/${finetuneRecipe(finetune).batch} = ${fmt(r.lr, 3)}, no warm-up, cosine stepped per epoch to ${r.lrMin} over ${r.epochs} epochs = ${total} steps${images === null ? ' (the shapes stream: one step per epoch)' : ` (${stepsPerEpoch(images, batch)} steps of batch ${batch} per epoch of ${images} images)`}.`
    : `From-scratch recipe: fan-in init, lr ${r.lr}, ${r.warmup} warm-up steps, then cosine over ${total} steps.`;
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
  /** The fine-tuning target's config (null: from random init) and the data's training images per epoch. */
  finetune: YolosConfig | null = null;
  dataImages: number | null = null;
  dataName = 'shapes';
  private readonly worker: Worker;
  private val: ValImage[] = [];
  private valDets: Detection[][] = [];
  private valStep = 0;
  private seconds = 0;
  private chartQueued = false;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();

  constructor(isSoftware: boolean) {
    applyBatchDefault(isSoftware);
    applyRecipeDefaults(null, this.batch());
    this.worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module', name: 'yolos-train' });
    this.worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => this.receive(ev.data));
    this.worker.addEventListener('error', (ev) =>
      this.fail(`the training worker failed: ${ev.message || 'it could not start (see the console)'}`),
    );
    this.send({ type: 'settings', settings: this.settings() });
    // a fine-tuning lr scales with the batch (and its epochs have another number of steps)
    byId('t-batch').addEventListener('change', () => {
      if (this.finetune) applyRecipeDefaults(this.finetune, this.batch(), this.dataImages);
    });
    for (const id of SETTINGS_INPUTS) byId(id).addEventListener('change', () => this.send({ type: 'settings', settings: this.settings() }));
    byId('t-start').addEventListener('click', () => (this.running ? this.pause() : this.start()));
    byId('t-reset').addEventListener('click', () => this.send({ type: 'reset' }));
    byId('t-save').addEventListener('click', () => this.save());
    byId<HTMLInputElement>('t-load').addEventListener('change', (ev) => {
      const input = ev.target as HTMLInputElement;
      if (input.files?.length) void this.load(input.files[0]);
      input.value = '';
    });
    this.wireStartAndData();
    const thresh = byId<HTMLInputElement>('t-thresh');
    thresh.addEventListener('input', () => {
      byId('t-thresh-v').textContent = Number(thresh.value).toFixed(2);
      this.paintValidation();
    });
    window.addEventListener('resize', () => this.queueChart());
    this.setState('starting the training worker…');
    this.paintValidation();
    this.render();
  }

  /** "Start from…" (a checkpoint picked or dropped) and "Data" (the shapes, or a COCO folder/files/.zip picked or dropped). */
  private wireStartAndData(): void {
    const picked = (id: string, use: (files: File[]) => void) =>
      byId<HTMLInputElement>(id).addEventListener('change', (ev) => {
        const input = ev.target as HTMLInputElement;
        if (input.files?.length) use(Array.from(input.files));
        input.value = '';
      });
    const dropped = (id: string, use: (dt: DataTransfer) => void) => {
      const zone = byId(id);
      zone.addEventListener('dragover', (ev) => {
        ev.preventDefault();
        zone.classList.add('over');
      });
      zone.addEventListener('dragleave', () => zone.classList.remove('over'));
      zone.addEventListener('drop', (ev) => {
        ev.preventDefault();
        zone.classList.remove('over');
        if (ev.dataTransfer) use(ev.dataTransfer);
      });
    };
    picked('t-from', (files) => this.startFrom(files));
    dropped('t-from-drop', (dt) => this.startFrom(Array.from(dt.files)));
    byId('t-scratch').addEventListener('click', () => {
      this.say('t-from-state', 'going back to random init…');
      this.send({ type: 'from-scratch' });
    });
    byId('t-shapes').addEventListener('click', () => {
      this.say('t-data-state', 'switching to the shapes…');
      this.send({ type: 'data', source: { kind: 'shapes' } });
    });
    picked('t-data-dir', (files) => this.useData(filesOfInput(files)));
    picked('t-data-files', (files) => this.useData(filesOfInput(files)));
    dropped('t-data-drop', (dt) => {
      filesOfDrop(dt).then(
        (files) => this.useData(files),
        (e: Error) => this.say('t-data-state', `cannot read the dropped files: ${e.message}`, true),
      );
    });
  }

  /** Sends a checkpoint (a .safetensors and its config.json) to the worker, which builds the model from it. */
  startFrom(files: File[]): void {
    this.say('t-from-state', `reading ${files.map((f) => f.name).join(' + ')}…`);
    byId('t-report').replaceChildren();
    this.send({ type: 'start-from', files });
  }

  /** Sends a dataset's files to the worker (Files are cloned by reference, not read here). */
  useData(files: DatasetFile[]): void {
    if (!files.length) {
      this.say('t-data-state', 'no files were given', true);
      return;
    }
    const name = describeFiles(files);
    this.say('t-data-state', `reading ${name} (${files.length} file${files.length === 1 ? '' : 's'})…`);
    byId('t-data-notes').replaceChildren();
    this.send({ type: 'data', source: { kind: 'files', name, files } });
  }

  /** A state line of the page (`error`: in red). */
  private say(id: string, text: string, error = false): void {
    const el = byId(id);
    el.textContent = text;
    el.style.color = error ? 'var(--bad)' : '';
    el.dataset.error = String(error);
  }

  private list(id: string, lines: string[], append = false): void {
    const items = lines.map((l) => Object.assign(document.createElement('li'), { textContent: l }));
    if (append) byId(id).append(...items);
    else byId(id).replaceChildren(...items);
  }

  private batch(): number {
    return Math.max(1, Math.trunc(this.num('t-batch', RECIPE_BATCH)));
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
      batch: this.batch(),
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
      case 'ready':
        this.setState('idle');
        break;
      case 'fatal':
        this.fail(`cannot train in this browser: the worker got no WebGPU device (${m.message})`);
        break;
      case 'state':
        if (m.history) this.history = m.history;
        if (!m.progress.hasModel) {
          this.valDets = [];
          this.valRedraws = 0;
          this.paintValidation();
        }
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
      case 'weights':
        this.pending.get(m.id)?.resolve(new Uint8Array(m.bytes));
        this.pending.delete(m.id);
        break;
      case 'failed':
        this.pending.get(m.id)?.reject(new Error(m.message));
        this.pending.delete(m.id);
        break;
      case 'data':
        this.say('t-data-state', m.text, m.error);
        this.list('t-data-notes', m.notes);
        if (m.error) break;
        this.dataName = m.name;
        this.dataImages = m.images;
        this.val = m.val;
        this.valDets = [];
        this.valRedraws = 0;
        byId<HTMLButtonElement>('t-shapes').disabled = m.name === 'the synthetic shapes';
        if (this.finetune) applyRecipeDefaults(this.finetune, this.batch(), this.dataImages);
        this.paintValidation();
        break;
      case 'note':
        this.list('t-data-notes', [m.text], true);
        break;
      case 'start':
        this.say('t-from-state', m.error ? m.lines[0] : m.from ? `fine-tuning from ${m.from}` : 'random init', m.error);
        if (m.error) break;
        this.list('t-report', m.lines);
        this.finetune = m.finetune;
        byId<HTMLButtonElement>('t-scratch').disabled = !m.from;
        applyRecipeDefaults(this.finetune, this.batch(), this.dataImages);
        this.send({ type: 'settings', settings: this.settings() });
        break;
    }
  }

  /** The worker cannot go on: say why, stop offering what needs it, and fail the snapshots waiting on it. */
  private fail(text: string): void {
    this.setState(text, true);
    for (const id of ['t-start', 't-reset', 't-save', 't-scratch', 't-shapes']) byId<HTMLButtonElement>(id).disabled = true;
    for (const id of ['t-load', 't-from', 't-data-dir', 't-data-files']) byId<HTMLInputElement>(id).disabled = true;
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
      const what =
        this.dataName === 'the synthetic shapes'
          ? this.finetune
            ? 'finetuned-shapes'
            : 'nano16-shapes'
          : `finetuned-${this.dataName.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '')}`;
      download(bytes, `yolos-${what}-step${this.step}.safetensors`);
    } catch (e) {
      this.setState(`cannot save: ${(e as Error).message}`, true);
    }
  }

  /** Continues training from a weights file or a checkpoint (the worker builds the model). */
  async load(file: File): Promise<void> {
    if (!/\.safetensors$/i.test(file.name)) {
      this.setState(`cannot load: ${file.name} is not a .safetensors file`, true);
      return;
    }
    const bytes = await file.arrayBuffer();
    this.send({ type: 'load', name: file.name, bytes }, [bytes]);
  }

  private paintValidation(): void {
    const grid = byId('t-val');
    const threshold = Number(byId<HTMLInputElement>('t-thresh').value);
    if (grid.children.length !== this.val.length) {
      grid.replaceChildren(
        ...Array.from({ length: this.val.length }, () => {
          const f = document.createElement('figure');
          f.append(document.createElement('canvas'), document.createElement('figcaption'));
          return f;
        }),
      );
    }
    let drawn = 0;
    this.val.forEach((v, i) => {
      const dets = (this.valDets[i] ?? []).filter((d) => d.score > threshold);
      drawn += dets.length;
      const fig = grid.children[i] as HTMLElement;
      paint(fig.querySelector('canvas')!, { width: v.width, height: v.height, data: v.rgba, channels: 4 }, dets, {
        minSide: 192,
        truth: v.truth,
      });
      fig.title = v.name;
      fig.querySelector('figcaption')!.textContent = this.valDets.length
        ? `${dets.length} box${dets.length === 1 ? '' : 'es'} · ${v.truth.length} true`
        : `${v.truth.length} objects`;
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
    const h = this.history,
      last = h[h.length - 1];
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
