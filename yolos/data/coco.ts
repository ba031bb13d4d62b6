/**
 * A COCO 2017-layout detection dataset on disk (Node only):
 *   <dir>/annotations/instances_<split>2017.json   (or instances_<split>.json)
 *   <dir>/<split>2017/<file_name>                   PNG or JPEG
 *
 * Targets follow YOLOS/DETR `ConvertCocoPolysToMask` then `Normalize`: crowd objects (iscrowd = 1) dropped;
 * bbox [x, y, w, h] → [x0, y0, x1, y1] clamped to the image; boxes with x1 ≤ x0 or y1 ≤ y0 dropped; then
 * (cx, cy, w, h) divided by the image size. Labels are the raw `category_id`s (COCO: 1…90 with gaps).
 * Items are in ascending image-id order (DETR: `sorted(coco.imgs.keys())`), images without annotations
 * included. Images are decoded by ../image-io.ts (PNG via pngjs, JPEG via jpeg-js) into Float32 CHW RGB
 * in [0, 1]; boxes are normalised by the decoded size.
 *
 * @example
 *   const ds = await CocoDataset.open('/data/coco', { split: 'val' });
 *   const s = await ds.get(0);   // { image: Float32Array [3,H,W] in [0,1], boxes, labels, imageId, … }
 *   cocoEvaluate(ds.groundTruth, detections);
 */
import type { DetectionSample } from './sample.ts';
import type { CocoAnnotation, CocoCategory, CocoGroundTruth, CocoImage } from '../eval/coco-eval.ts';

export interface CocoDatasetOptions {
  /** 'train' or 'val' (any name: the folders are `<split>2017`). Default 'val'. */
  split?: string;
  /** Override the annotation file path. */
  annotationFile?: string;
  /** Override the image folder. */
  imageDir?: string;
}

/**
 * 8-bit RGBA (or RGB) pixels → Float32 [3, H, W] RGB in [0, 1] (value / 255, alpha dropped).
 * @example rgbaToChw(new Uint8Array([255, 0, 0, 255]), 1, 1) // [1, 0, 0]
 */
export function rgbaToChw(data: ArrayLike<number>, width: number, height: number, channels: 3 | 4 = 4): Float32Array {
  const hw = width * height;
  if (data.length !== hw * channels) throw new Error(`rgbaToChw: ${data.length} values for ${width}×${height}×${channels}`);
  const out = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++) {
    out[p] = data[p * channels] / 255;
    out[hw + p] = data[p * channels + 1] / 255;
    out[2 * hw + p] = data[p * channels + 2] / 255;
  }
  return out;
}

/**
 * The YOLOS/DETR target of one image: crowd dropped, xywh → clamped xyxy, degenerate dropped, then
 * normalised cxcywh. Returns boxes [M, 4], labels [M] (raw category ids), areas [M] (the `area` field).
 */
export function cocoTarget(anns: CocoAnnotation[], width: number, height: number): { boxes: Float32Array; labels: Int32Array; areas: Float32Array } {
  const boxes: number[] = [];
  const labels: number[] = [];
  const areas: number[] = [];
  for (const a of anns) {
    if (a.iscrowd) continue;
    const [x, y, w, h] = a.bbox;
    const x0 = Math.min(Math.max(x, 0), width);
    const y0 = Math.min(Math.max(y, 0), height);
    const x1 = Math.min(Math.max(x + w, 0), width);
    const y1 = Math.min(Math.max(y + h, 0), height);
    if (!(x1 > x0 && y1 > y0)) continue;
    boxes.push((x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height);
    labels.push(a.category_id);
    areas.push(a.area);
  }
  return { boxes: Float32Array.from(boxes), labels: Int32Array.from(labels), areas: Float32Array.from(areas) };
}

export class CocoDataset {
  /** The annotation JSON as loaded (pass it to `cocoEvaluate`). */
  readonly groundTruth: CocoGroundTruth;
  readonly categories: CocoCategory[];
  readonly imageDir: string;
  readonly annotationFile: string;
  private readonly images: CocoImage[];
  private readonly annsByImage: Map<number, CocoAnnotation[]>;

  /** Use `CocoDataset.open`; this takes an already-parsed annotation JSON. */
  constructor(groundTruth: CocoGroundTruth, imageDir: string, annotationFile = '') {
    this.groundTruth = groundTruth;
    this.categories = groundTruth.categories;
    this.imageDir = imageDir;
    this.annotationFile = annotationFile;
    this.images = [...groundTruth.images].sort((a, b) => a.id - b.id);
    this.annsByImage = new Map();
    for (const a of groundTruth.annotations) {
      const list = this.annsByImage.get(a.image_id);
      if (list) list.push(a);
      else this.annsByImage.set(a.image_id, [a]);
    }
  }

  /**
   * Opens `<dir>` in COCO 2017 layout: reads `annotations/instances_<split>2017.json`, or
   * `annotations/instances_<split>.json` when the first is absent.
   */
  static async open(dir: string, opts: CocoDatasetOptions = {}): Promise<CocoDataset> {
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    const split = opts.split ?? 'val';
    const candidates = opts.annotationFile
      ? [opts.annotationFile]
      : [path.join(dir, 'annotations', `instances_${split}2017.json`), path.join(dir, 'annotations', `instances_${split}.json`)];
    let text: string | null = null;
    let annotationFile = '';
    for (const f of candidates) {
      try {
        text = await fs.readFile(f, 'utf8');
        annotationFile = f;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    if (text === null) throw new Error(`CocoDataset: no annotation file, tried ${candidates.join(', ')}`);
    const gt = JSON.parse(text) as CocoGroundTruth;
    if (!Array.isArray(gt.images) || !Array.isArray(gt.annotations) || !Array.isArray(gt.categories)) {
      throw new Error(`CocoDataset: ${annotationFile} lacks images / annotations / categories arrays`);
    }
    return new CocoDataset(gt, opts.imageDir ?? path.join(dir, `${split}2017`), annotationFile);
  }

  get length(): number {
    return this.images.length;
  }

  /** COCO image record of item i (ascending id order). */
  imageInfo(i: number): CocoImage {
    if (!Number.isInteger(i) || i < 0 || i >= this.images.length) throw new RangeError(`CocoDataset.get: index ${i} out of range [0, ${this.images.length})`);
    return this.images[i];
  }

  /**
   * Item i: decoded image and its YOLOS target (boxes normalised by the decoded image size).
   * @example const { image, width, height, boxes, labels } = await ds.get(0);
   */
  async get(i: number): Promise<DetectionSample> {
    const info = this.imageInfo(i);
    if (!info.file_name) throw new Error(`CocoDataset: image ${info.id} has no file_name`);
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    const { decodeImage } = await import('../image-io.ts'); // pngjs / jpeg-js, loaded only here (Node)
    const file = path.join(this.imageDir, info.file_name);
    const img = decodeImage(await fs.readFile(file), file);
    const { width, height } = img;
    const data = rgbaToChw(img.data, width, height, img.channels);
    const target = cocoTarget(this.annsByImage.get(info.id) ?? [], width, height);
    return { image: data, width, height, ...target, imageId: info.id, origSize: [height, width] };
  }
}
