/**
 * The Detect tab: weights (a file, or a snapshot of the model being trained) and an image (a file,
 * a drop, or a generated shapes image) → `detect()` → boxes with labels and scores; the threshold
 * slider filters the detections without running the model again.
 */
import { detect, renderShapes, type Detection, type RgbImage, type Yolos } from '../../yolos/index.ts';
import { SHAPES_VAL } from '../../yolos/train/data.ts';
import { byId, decodeImage, escapeHtml, fmt, paint } from './common.ts';
import { modelFromBytes, modelFromFiles, describeModel } from './weights.ts';

export class DetectPanel {
  model: Yolos | null = null;
  image: RgbImage | null = null;
  /** Every query's best class and score (threshold 0) for the current model and image. */
  all: Detection[] = [];
  /** Boxes drawn at the current threshold. */
  shown: Detection[] = [];
  private sampleIndex = 0;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly snapshot: () => Promise<Uint8Array>) {
    byId('d-use-trained').addEventListener('click', () => this.useTrained());
    byId<HTMLInputElement>('d-weights').addEventListener('change', (ev) => {
      const input = ev.target as HTMLInputElement;
      if (input.files?.length) void this.loadWeights(Array.from(input.files));
      input.value = '';
    });
    byId<HTMLInputElement>('d-image').addEventListener('change', (ev) => {
      const input = ev.target as HTMLInputElement;
      if (input.files?.[0]) void this.loadImage(input.files[0]);
      input.value = '';
    });
    byId('d-sample').addEventListener('click', () => this.setImage(this.sampleImage(), `shapes validation image ${this.sampleIndex - 1}`));
    const drop = byId('d-drop');
    drop.addEventListener('dragover', (ev) => {
      ev.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (ev) => {
      ev.preventDefault();
      drop.classList.remove('over');
      const file = Array.from(ev.dataTransfer?.files ?? []).find((f) => f.type.startsWith('image/')) ?? ev.dataTransfer?.files[0];
      if (file) void this.loadImage(file);
    });
    const thresh = byId<HTMLInputElement>('d-thresh');
    thresh.addEventListener('input', () => {
      byId('d-thresh-v').textContent = Number(thresh.value).toFixed(2);
      this.paint();
    });
    this.paint();
  }

  /** Enables "use the model being trained" when there is one. */
  setTrainedAvailable(on: boolean): void {
    byId<HTMLButtonElement>('d-use-trained').disabled = !on;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.busy.then(fn);
    this.busy = p.catch(() => undefined);
    return p;
  }

  private async useTrained(): Promise<void> {
    try {
      const bytes = await this.snapshot();
      const w = modelFromBytes(bytes);
      await this.setModel(w.model, `the model being trained, at step ${w.steps ?? '?'}`);
    } catch (e) {
      this.status(`cannot take the trained model: ${(e as Error).message}`, true);
    }
  }

  async loadWeights(files: File[]): Promise<void> {
    try {
      this.status('loading weights…');
      const w = await modelFromFiles(files);
      await this.setModel(w.model, `${w.name} (config from ${w.configFrom}${w.steps !== undefined ? `, step ${w.steps}` : ''})`);
    } catch (e) {
      this.status(`cannot load the weights: ${(e as Error).message}`, true);
    }
  }

  private async setModel(model: Yolos, from: string): Promise<void> {
    await this.serial(async () => {
      // not while a detection uses the old model
      this.model?.dispose();
      this.model = model.eval();
    });
    this.status(`${from}: ${describeModel(model)}`);
    byId('tab-detect').dataset.model = 'loaded';
    if (!this.image) this.setImage(this.sampleImage(), `shapes validation image ${this.sampleIndex - 1}`);
    else void this.run();
  }

  async loadImage(file: File): Promise<void> {
    try {
      this.setImage(await decodeImage(file), file.name);
    } catch (e) {
      this.info(`cannot read ${file.name} as an image: ${(e as Error).message}`);
    }
  }

  /** A 64×64 image of the shapes validation stream (what nano-16 is trained on). */
  private sampleImage(): RgbImage {
    const scene = renderShapes(SHAPES_VAL.seed, SHAPES_VAL.start + this.sampleIndex++, { size: 64 });
    const n = 64 * 64,
      img = scene.image!;
    const data = new Uint8ClampedArray(n * 4);
    for (let p = 0; p < n; p++) {
      data[4 * p] = img[p] * 255;
      data[4 * p + 1] = img[n + p] * 255;
      data[4 * p + 2] = img[2 * n + p] * 255;
      data[4 * p + 3] = 255;
    }
    return { width: 64, height: 64, data, channels: 4 };
  }

  private imageName = '';

  private setImage(img: RgbImage, name: string): void {
    this.image = img;
    this.all = [];
    this.imageName = name;
    this.paint();
    void this.run();
  }

  /** Runs the model on the image once; the slider then only filters. */
  private run(): Promise<void> {
    return this.serial(async () => {
      const model = this.model,
        img = this.image;
      if (!model || !img) {
        this.info(model ? 'now choose an image' : 'load weights to detect');
        return;
      }
      this.info(`detecting in ${this.imageName}…`);
      const t0 = performance.now();
      try {
        const [dets] = await detect(model, [img], { threshold: 0 });
        this.all = dets.sort((a, b) => b.score - a.score);
        this.info(
          `${this.imageName}, ${img.width}×${img.height}: ${this.all.length} queries scored in ${(performance.now() - t0).toFixed(0)} ms`,
        );
      } catch (e) {
        this.all = [];
        this.info(`detection failed: ${(e as Error).message}`);
      }
      this.paint();
      byId('tab-detect').dataset.runs = String(Number(byId('tab-detect').dataset.runs ?? 0) + 1);
    });
  }

  private paint(): void {
    const canvas = byId<HTMLCanvasElement>('d-canvas');
    const threshold = Number(byId<HTMLInputElement>('d-thresh').value);
    this.shown = this.all.filter((d) => d.score > threshold);
    if (this.image) paint(canvas, this.image, this.shown, { minSide: 384 });
    const body = byId('d-table').querySelector('tbody')!;
    body.innerHTML =
      this.shown
        .map(
          (d) =>
            `<tr><td>${escapeHtml(d.labelName)}</td><td>${(d.score * 100).toFixed(1)}%</td><td>[${d.box.map((v) => fmt(v, 3)).join(', ')}]</td></tr>`,
        )
        .join('') ||
      `<tr><td colspan="3" class="muted">${this.all.length ? `no detection above ${threshold.toFixed(2)}` : 'no detections yet'}</td></tr>`;
    byId('tab-detect').dataset.boxes = String(this.shown.length);
  }

  private status(text: string, error = false): void {
    const el = byId('d-model');
    el.textContent = text;
    el.style.color = error ? 'var(--bad)' : '';
  }

  private info(text: string): void {
    byId('d-info').textContent = text;
  }
}
