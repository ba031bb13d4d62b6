/**
 * The one-line detector, in the conventions of transformers.js's `pipeline('object-detection', …)`:
 *
 *   const detector = await createDetector('hustvl/yolos-tiny');
 *   const objects = await detector('street.jpg', { threshold: 0.9 });
 *   // [{ score: 0.99, label: 'car', labelId: 3, box: { xmin, ymin, xmax, ymax } }, …]
 *
 * One input gives one list; an array of inputs gives a list per input. Inputs are anything `toRgbImage`
 * reads (URLs, encoded bytes, Blobs, bitmaps, canvases, video frames, `{ width, height, data }`; in Node
 * also file paths), decoded with EXIF orientation applied. The model is a Hub id or URL (fromPretrained),
 * `{ weights, config }`, or a loaded Yolos; the engine is started on first use when nobody has.
 */
import { init, engine, type Engine } from '../engine/index.ts';
import { Yolos } from './model.ts';
import { parseConfig, type YolosConfig } from './config.ts';
import { detect, defaultResize } from './detect.ts';
import type { PretrainedOptions } from './hub.ts';
import { toRgbImage, type ImageInput, type ImageInputOptions } from './image-input.ts';
import type { ResizeOptions } from './preprocess.ts';

/** A detected object: transformers.js's shape, plus `bbox` as [x0, y0, x1, y1]. */
export interface DetectedObject {
  score: number;
  /** The class name from the model's id2label. */
  label: string;
  /** The class index (a raw COCO id for Hub models). */
  labelId: number;
  /** In pixels of the input image. */
  box: { xmin: number; ymin: number; xmax: number; ymax: number };
  bbox: [number, number, number, number];
}

export interface DetectOptions {
  /** Keep objects scoring above this (default 0.9, as transformers.js). */
  threshold?: number;
  /** Keep at most this many per image, best first. */
  topk?: number;
}

export interface Detector {
  (input: ImageInput, opts?: DetectOptions): Promise<DetectedObject[]>;
  (inputs: readonly ImageInput[], opts?: DetectOptions): Promise<DetectedObject[][]>;
  readonly model: Yolos;
  /** Frees the model's weights (when the detector loaded them) and the engine (when it started it). */
  dispose(): void;
}

export type ModelSource = string | Yolos | { weights: Uint8Array | ArrayBuffer; config: YolosConfig | string | object };

export interface DetectorOptions extends PretrainedOptions, Pick<ImageInputOptions, 'maxPixels'> {
  /** Image resizing (default: the processor settings the config was trained with). */
  resize?: ResizeOptions;
  /** Passed to `init()` when the detector starts the engine. */
  engine?: Parameters<typeof init>[0];
}

function running(): Engine | null {
  try {
    const e = engine();
    e.checkLost();
    return e;
  } catch {
    return null;
  }
}

async function loadModel(source: ModelSource, opts: DetectorOptions): Promise<{ model: Yolos; owned: boolean }> {
  if (source instanceof Yolos) return { model: source, owned: false };
  if (typeof source === 'string') return { model: await Yolos.fromPretrained(source, opts), owned: true };
  if (source && typeof source === 'object' && 'weights' in source && 'config' in source) {
    return { model: Yolos.fromSafetensors(source.weights, parseConfig(source.config)), owned: true };
  }
  throw new Error('createDetector: expected a Hub model id or URL, { weights, config }, or a Yolos model');
}

/**
 * @example
 * const detector = await createDetector('hustvl/yolos-tiny', { onProgress: (p) => console.log(p.file, p.loaded) });
 * const [a, b] = await detector(['cat.jpg', 'dog.png'], { threshold: 0.8, topk: 5 });
 * detector.dispose();
 */
export async function createDetector(source: ModelSource, opts: DetectorOptions = {}): Promise<Detector> {
  let startedEngine: Engine | null = null;
  if (!running()) startedEngine = await init(opts.engine ?? {});
  let model: Yolos, owned: boolean;
  try {
    ({ model, owned } = await loadModel(source, opts));
  } catch (e) {
    startedEngine?.dispose();
    throw e;
  }
  const resize = opts.resize ?? defaultResize(model.config);
  let disposed = false;

  const run = async (input: ImageInput | readonly ImageInput[], o: DetectOptions = {}): Promise<DetectedObject[] | DetectedObject[][]> => {
    if (disposed) throw new Error('detector: used after dispose()');
    const threshold = o.threshold ?? 0.9;
    if (!(threshold >= 0 && threshold < 1)) throw new Error(`detector: threshold must be in [0, 1), got ${o.threshold}`);
    if (o.topk !== undefined && !(Number.isInteger(o.topk) && o.topk > 0))
      throw new Error(`detector: topk must be a positive integer, got ${o.topk}`);
    const batch = Array.isArray(input);
    const inputs = (batch ? input : [input]) as readonly ImageInput[];
    const images = await Promise.all(
      inputs.map((x, i) =>
        toRgbImage(x, { ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}), ...(batch ? { name: nameOf(x, i) } : {}) }),
      ),
    );
    const dets = await detect(model, images, { threshold, resize });
    const out = dets.map((list) => {
      const objects = list
        .map(
          (d): DetectedObject => ({
            score: d.score,
            label: d.labelName,
            labelId: d.label,
            box: { xmin: d.box[0], ymin: d.box[1], xmax: d.box[2], ymax: d.box[3] },
            bbox: [...d.box],
          }),
        )
        .sort((a, b) => b.score - a.score);
      return o.topk === undefined ? objects : objects.slice(0, o.topk);
    });
    return batch ? out : out[0]!;
  };
  const detector = run as Detector;
  Object.defineProperty(detector, 'model', { value: model, enumerable: true });
  detector.dispose = () => {
    if (disposed) return;
    disposed = true;
    if (owned) model.dispose();
    startedEngine?.dispose();
  };
  return detector;
}

function nameOf(x: ImageInput, i: number): string | undefined {
  if (typeof x === 'string') return x;
  if (x instanceof URL) return x.href;
  if (typeof File !== 'undefined' && x instanceof File) return x.name;
  return `image ${i}`;
}
