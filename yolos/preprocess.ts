/**
 * Pre-processing like Hugging Face's YolosImageProcessor (inference path, `preprocessor_config.json`
 * of the Hub models): resize the shortest edge to a target with a cap on the longest edge, both
 * sides floored to multiples of 16; bilinear resampling with Pillow's antialiasing (a triangle
 * filter stretched by the scale when shrinking, 8-bit fixed point, horizontal pass then vertical, as
 * Pillow's Resample.c); rescale by 1/255; ImageNet normalisation; zero padding (in normalised space)
 * at the bottom/right to the batch's largest size.
 *
 * Host-only (no engine import), so the data pipeline shares the ImageNet constants without loading
 * the GPU code; `preprocess` in preprocess-tensor.ts uploads the batch as a tensor.
 */

/** An 8-bit image, RGBA (4 channels) or RGB (3), row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  channels?: 3 | 4;
  /** Shown in error messages (a file name or URL); the batch index is used otherwise. */
  name?: string;
}

/**
 * Checks that an image is what it claims (positive integer size, 8-bit data of exactly
 * width·height·channels values) and returns its channel count; throws naming the image otherwise.
 * @example checkRgbImage({ width: 2, height: 1, data: new Uint8Array(6) }, 'detect: image 0'); // 3
 */
export function checkRgbImage(img: RgbImage, where: string): 3 | 4 {
  if (typeof img !== 'object' || img === null)
    throw new Error(`${where}: expected { width, height, data }, got ${img === null ? 'null' : typeof img}`);
  const at = img.name ? `${where} (${img.name})` : where;
  for (const key of ['width', 'height'] as const) {
    const v = img[key];
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0))
      throw new Error(`${at}: ${key} is ${typeof v === 'number' ? v : typeof v}; expected a positive integer`);
  }
  const { width: w, height: h, data, channels } = img;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    const got = data === null || typeof data !== 'object' ? String(data) : ((data as object).constructor?.name ?? 'an object');
    throw new Error(
      `${at}: data is ${got}; expected 8-bit RGB(A) values in a Uint8Array or Uint8ClampedArray (scale float pixels to 0–255 first)`,
    );
  }
  if (channels !== undefined && channels !== 3 && channels !== 4)
    throw new Error(`${at}: channels is ${String(channels)}; expected 3 (RGB) or 4 (RGBA)`);
  const ch = channels ?? (data.length === w * h * 3 ? 3 : data.length === w * h * 4 ? 4 : undefined);
  if (ch === undefined || data.length !== w * h * ch) {
    const expected = ch ? `${w}×${h}×${ch} = ${w * h * ch}` : `${w}×${h}×3 = ${w * h * 3} (RGB) or ${w}×${h}×4 = ${w * h * 4} (RGBA)`;
    throw new Error(`${at}: data has ${data.length} values; expected ${expected}`);
  }
  return ch;
}

/** ImageNet's per-channel RGB mean and std (of pixels in [0, 1]): the normalisation every YOLOS model was trained with. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface ResizeOptions {
  /** Target length of the shorter side (hustvl/yolos-tiny: 512; S/B: 800). */
  shortestEdge: number;
  /** Cap on the longer side (1333 in the Hub configs). */
  longestEdge: number;
  /** Both sides are floored to multiples of this (16 in YOLOS). */
  multiple?: number;
}

/** HF `get_size_with_aspect_ratio` with mod_size 16: the [height, width] an image is resized to. */
export function resizedSize(height: number, width: number, o: ResizeOptions): [number, number] {
  const mod = o.multiple ?? 16;
  let size = o.shortestEdge;
  let raw: number | null = null;
  const minSide = Math.min(height, width),
    maxSide = Math.max(height, width);
  if ((maxSide / minSide) * size > o.longestEdge) {
    raw = (o.longestEdge * minSide) / maxSide;
    size = Math.round(raw);
  }
  let oh: number, ow: number;
  if (width < height) {
    ow = size;
    oh = Math.trunc(((raw ?? size) * height) / width);
  } else if ((height <= width && height === size) || (width <= height && width === size)) {
    oh = height;
    ow = width;
  } else {
    oh = size;
    ow = Math.trunc(((raw ?? size) * width) / height);
  }
  return [Math.floor(oh / mod) * mod, Math.floor(ow / mod) * mod];
}

const PRECISION_BITS = 32 - 8 - 2;

/** Pillow's precompute_coeffs for the bilinear (triangle) filter, in 8-bit fixed point. */
function coefficients(inSize: number, outSize: number): { bounds: Int32Array; kk: Int32Array; ksize: number } {
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = 1.0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let ww = 0;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) / filterscale);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x] / ww : 0;
      kk[xx * ksize + x] = Math.trunc(v < 0 ? v * (1 << PRECISION_BITS) - 0.5 : v * (1 << PRECISION_BITS) + 0.5);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

const clip8 = (v: number) => Math.min(255, Math.max(0, v >> PRECISION_BITS));

/** Resizes an 8-bit RGB(A) image like PIL's `Image.resize((w, h), BILINEAR)`; returns packed RGB. */
export function resizeBilinear(img: RgbImage, outW: number, outH: number): Uint8Array {
  const ch = img.channels ?? (img.data.length === img.width * img.height * 3 ? 3 : 4);
  const { width: W, height: H } = img;
  // horizontal pass: H × outW × 3
  const tmp = new Uint8Array(H * outW * 3);
  const hc = coefficients(W, outW);
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < outW; xx++) {
      const xmin = hc.bounds[xx * 2],
        xmax = hc.bounds[xx * 2 + 1];
      for (let c = 0; c < 3; c++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let x = 0; x < xmax; x++) ss += img.data[(y * W + x + xmin) * ch + c] * hc.kk[xx * hc.ksize + x];
        tmp[(y * outW + xx) * 3 + c] = clip8(ss);
      }
    }
  }
  if (outH === H) return tmp;
  const out = new Uint8Array(outH * outW * 3);
  const vc = coefficients(H, outH);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = vc.bounds[yy * 2],
      ymax = vc.bounds[yy * 2 + 1];
    for (let x = 0; x < outW * 3; x++) {
      let ss = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < ymax; y++) ss += tmp[(y + ymin) * outW * 3 + x] * vc.kk[yy * vc.ksize + y];
      out[yy * outW * 3 + x] = clip8(ss);
    }
  }
  return out;
}

/** Packed 8-bit RGB → normalised channels-first f32: (x/255 − mean)/std. */
export function normalize(
  rgb: Uint8Array,
  width: number,
  height: number,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): Float32Array {
  const n = width * height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = (rgb[i * 3 + c] / 255 - mean[c]) / std[c];
  return out;
}

/** Mean and std of the normalisation (default: ImageNet's). */
export interface NormalizeOptions {
  mean?: number[];
  std?: number[];
}

export interface PreprocessedPixels {
  /** [B, 3, H, W] row-major, normalised and zero-padded at the bottom/right. */
  pixels: Float32Array;
  shape: [number, number, number, number];
  /** Per image, [height, width] after resizing (before padding). */
  sizes: [number, number][];
  /** Per image, [height, width] of the original. */
  originalSizes: [number, number][];
}

/**
 * Resizes, normalises and batches images on the host; errors start with `op` (the caller's name).
 * @example const { pixels, shape } = preprocessPixels([img], { shortestEdge: 512, longestEdge: 1333 }); // shape [1, 3, H, W]
 */
export function preprocessPixels(images: RgbImage[], opts: ResizeOptions & NormalizeOptions, op = 'preprocessPixels'): PreprocessedPixels {
  if (!Array.isArray(images)) throw new Error(`${op}: expected an array of images, got ${typeof images}`);
  if (!images.length) throw new Error(`${op}: no images`);
  images.forEach((img, i) => checkRgbImage(img, `${op}: image ${i}`));
  const items = images.map((img, i) => {
    const [h, w] = resizedSize(img.height, img.width, opts);
    if (h === 0 || w === 0)
      throw new Error(`${op}: image ${i} (${img.width}×${img.height}) resizes to ${w}×${h}: too small for 16-pixel patches`);
    const rgb = h === img.height && w === img.width ? toRgb(img) : resizeBilinear(img, w, h);
    return { h, w, data: normalize(rgb, w, h, opts.mean, opts.std), orig: [img.height, img.width] as [number, number] };
  });
  const H = Math.max(...items.map((i) => i.h)),
    W = Math.max(...items.map((i) => i.w));
  const batch = new Float32Array(items.length * 3 * H * W);
  items.forEach((it, b) => {
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < it.h; y++) {
        batch.set(it.data.subarray((c * it.h + y) * it.w, (c * it.h + y + 1) * it.w), ((b * 3 + c) * H + y) * W);
      }
  });
  return { pixels: batch, shape: [items.length, 3, H, W], sizes: items.map((i) => [i.h, i.w]), originalSizes: items.map((i) => i.orig) };
}

function toRgb(img: RgbImage): Uint8Array {
  const ch = img.channels ?? (img.data.length === img.width * img.height * 3 ? 3 : 4);
  if (ch === 3) return Uint8Array.from(img.data);
  const n = img.width * img.height,
    out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = img.data[i * 4];
    out[i * 3 + 1] = img.data[i * 4 + 1];
    out[i * 3 + 2] = img.data[i * 4 + 2];
  }
  return out;
}
