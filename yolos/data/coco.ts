/**
 * A COCO-format detection dataset, platform-neutral: parsed ground truth plus an image reader.
 * The Node folder opener is ./coco-node.ts (`openCocoFolder`); a browser builds one from picked files.
 *
 * Annotations are validated first (./coco-validate.ts: structural errors fail naming the file, the
 * annotation id and the field; zero-width/height boxes are skipped with one warning and a count).
 * Targets follow YOLOS/DETR `ConvertCocoPolysToMask` then `Normalize`: crowd objects (iscrowd = 1) dropped;
 * bbox [x, y, w, h] → [x0, y0, x1, y1] clamped to the image; boxes with x1 ≤ x0 or y1 ≤ y0 dropped; then
 * (cx, cy, w, h) divided by the image size. Labels are the raw `category_id`s (COCO: 1…90 with gaps).
 * Items are in ascending image-id order (DETR: `sorted(coco.imgs.keys())`), images without annotations
 * included. The reader returns 8-bit RGBA; `get` turns it into Float32 CHW RGB in [0, 1] and normalises
 * boxes by the decoded size.
 *
 * @example
 *   const ds = new CocoDataset(parseCocoAnnotations(text, 'instances_val2017.json'), readImage);
 *   const s = await ds.get(0);   // { image: Float32Array [3,H,W] in [0,1], boxes, labels, imageId, … }
 *   cocoEvaluate(ds.groundTruth, detections);
 */
import type { DetectionSample } from './sample.ts';
import type { CocoAnnotation, CocoCategory, CocoGroundTruth, CocoImage } from '../eval/coco-eval.ts';
import { parseJsonText, validateCocoGroundTruth, type WarningSink } from './coco-validate.ts';

/** Decoded pixels of one image: 8-bit RGBA (or RGB with `channels: 3`), row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  channels?: 3 | 4;
}

/** Reads and decodes the image named by a COCO `file_name`; throws naming the file when it cannot. */
export type CocoImageReader = (fileName: string) => Promise<DecodedImage>;

export interface CocoDatasetOptions {
  /** The annotation file's name or path, for messages. */
  annotationFile?: string;
  /** Where validation warnings go. Default console.warn. */
  onWarning?: WarningSink;
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
export function cocoTarget(
  anns: CocoAnnotation[],
  width: number,
  height: number,
): { boxes: Float32Array; labels: Int32Array; areas: Float32Array } {
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
  readonly annotationFile: string;
  private readonly readImage: CocoImageReader;
  private readonly images: CocoImage[];
  private readonly annsByImage: Map<number, CocoAnnotation[]>;

  /**
   * Validates `groundTruth` (throws naming `opts.annotationFile`) and indexes it.
   * @example new CocoDataset(gt, (name) => decode(files.get(name)!), { annotationFile: 'instances_val.json' })
   */
  constructor(groundTruth: CocoGroundTruth, readImage: CocoImageReader, opts: CocoDatasetOptions = {}) {
    this.annotationFile = opts.annotationFile ?? 'annotations';
    this.groundTruth = validateCocoGroundTruth(groundTruth, this.annotationFile, opts.onWarning);
    this.categories = groundTruth.categories;
    this.readImage = readImage;
    this.images = [...groundTruth.images].sort((a, b) => a.id - b.id);
    this.annsByImage = new Map();
    for (const a of groundTruth.annotations) {
      const list = this.annsByImage.get(a.image_id);
      if (list) list.push(a);
      else this.annsByImage.set(a.image_id, [a]);
    }
  }

  /**
   * From annotation JSON text (a syntax error names `opts.annotationFile`).
   * @example CocoDataset.fromJson(await file.text(), readImage, { annotationFile: file.name })
   */
  static fromJson(text: string, readImage: CocoImageReader, opts: CocoDatasetOptions = {}): CocoDataset {
    return new CocoDataset(parseJsonText(text, opts.annotationFile ?? 'annotations') as CocoGroundTruth, readImage, opts);
  }

  get length(): number {
    return this.images.length;
  }

  /** COCO image record of item i (ascending id order). */
  imageInfo(i: number): CocoImage & { file_name: string } {
    if (!Number.isInteger(i) || i < 0 || i >= this.images.length)
      throw new RangeError(`CocoDataset.get: index ${i} out of range [0, ${this.images.length})`);
    return this.images[i] as CocoImage & { file_name: string }; // validated: every image has a file_name
  }

  /**
   * Item i: decoded image and its YOLOS target (boxes normalised by the decoded image size).
   * @example const { image, width, height, boxes, labels } = await ds.get(0);
   */
  async get(i: number): Promise<DetectionSample & { imageId: number; origSize: [number, number] }> {
    const info = this.imageInfo(i);
    const img = await this.readImage(info.file_name);
    const { width, height } = img;
    if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1)) {
      throw new Error(`${info.file_name}: decoded to ${width}×${height}, expected at least 1×1`);
    }
    const data = rgbaToChw(img.data, width, height, img.channels ?? 4);
    const target = cocoTarget(this.annsByImage.get(info.id) ?? [], width, height);
    return { image: data, width, height, ...target, imageId: info.id, origSize: [height, width] };
  }
}
