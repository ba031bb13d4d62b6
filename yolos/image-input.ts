/**
 * Every form an image comes in → one 8-bit RGB(A) image, the way the model's users decode it.
 *
 * Decoding policy, the same in the CLI, the library and the pages (transformers' `load_image` is
 * the reference: `PIL.ImageOps.exif_transpose(image).convert("RGB")`):
 * - EXIF orientation is applied (browsers: `imageOrientation: 'from-image'`; Node: sharp's autoOrient);
 * - embedded colour profiles are ignored, as PIL does (browsers: `colorSpaceConversion: 'none'`);
 * - the pixel count is capped before decoding at PIL's default, `DEFAULT_MAX_PIXELS` (option `maxPixels`).
 *
 * Encoded bytes go to a pluggable decoder: in browsers `createImageBitmap` (the default here), in Node
 * sharp, which `image-input-node.ts` registers when imported. This file imports nothing from Node.
 */
import { checkRgbImage, type RgbImage } from './preprocess.ts';
import { readImageHeader } from './image-header.ts';

/** PIL's `Image.MAX_IMAGE_PIXELS` × 2, the size above which `Image.open` refuses an image. */
export const DEFAULT_MAX_PIXELS = 2 * 89_478_485;

export interface DecodeOptions {
  /** Largest width·height accepted, checked before decoding (default `DEFAULT_MAX_PIXELS`; `Infinity`: no cap). */
  maxPixels?: number;
}

/** A decoded image: always RGBA. */
export type DecodedImage = RgbImage & { channels: 4 };

/** Encoded image bytes (PNG, JPEG, WebP…) → RGBA; throws naming the image. */
export type BytesDecoder = (bytes: Uint8Array, name: string, opts?: DecodeOptions) => Promise<DecodedImage>;

/** What `toRgbImage` takes. A string is a URL (fetched); the Node version also takes a file path. */
export type ImageInput =
  | string
  | URL
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ImageBitmap
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | VideoFrame
  | RgbImage;

export interface ImageInputOptions extends DecodeOptions {
  /** Names the image in errors (default: the URL, the file's name, or the kind of input). */
  name?: string;
  /** Decodes encoded bytes (default: the registered decoder, see `setBytesDecoder`). */
  decodeBytes?: BytesDecoder;
}

let registeredDecoder: BytesDecoder = decodeBytesInBrowser;

/** Makes `decoder` the default for encoded bytes (the Node entry registers sharp's). */
export function setBytesDecoder(decoder: BytesDecoder): void {
  registeredDecoder = decoder;
}

/** Reads a string or URL input that names a local file: its bytes and name, or null when it is a URL to fetch. */
export type LocalFileReader = (input: string | URL) => Promise<{ bytes: Uint8Array; name: string } | null>;

let localFiles: LocalFileReader | null = null;

/** Lets strings and `file:` URLs name local files (the Node entry registers a reader of paths). */
export function setLocalFileReader(reader: LocalFileReader): void {
  localFiles = reader;
}

/**
 * Any image input → an 8-bit RGB(A) image, with `name` set. Raw `{ width, height, data }` images
 * are checked and returned without a copy.
 * @example const img = await toRgbImage(fileFromInput, { maxPixels: 50e6 }); await detect(model, [img]);
 */
export async function toRgbImage(input: ImageInput, opts: ImageInputOptions = {}): Promise<RgbImage> {
  const decode = opts.decodeBytes ?? registeredDecoder;
  if (typeof input === 'string' || input instanceof URL) {
    const local = await localFiles?.(input);
    if (local) {
      const name = opts.name ?? local.name;
      return named(await decode(local.bytes, name, opts), name);
    }
    const url = String(input),
      name = opts.name ?? short(url);
    return named(await decode(await fetchBytes(url, name), name, opts), name);
  }
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const name = opts.name ?? 'image bytes';
    return named(await decode(input instanceof Uint8Array ? input : new Uint8Array(input), name, opts), name);
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    const name = opts.name ?? ((input as File).name || `${input.type || 'untyped'} blob`);
    return named(await decode(new Uint8Array(await input.arrayBuffer()), name, opts), name);
  }
  const drawable = drawableSize(input);
  if (drawable) {
    const name = opts.name ?? drawable.kind;
    if (drawable.width === 0 || drawable.height === 0)
      throw new Error(`${name}: ${drawable.kind} has size ${drawable.width}×${drawable.height} (not loaded, or empty)`);
    return named(readPixels(input as CanvasImageSource, drawable.width, drawable.height, name, opts.maxPixels), name);
  }
  if (typeof input === 'object' && input !== null && 'data' in input) {
    const img = input as RgbImage;
    const channels = checkRgbImage(img, opts.name ?? 'raw image');
    const name = opts.name ?? img.name;
    // fields by name, not a spread: ImageData's are getters on its prototype
    return { width: img.width, height: img.height, data: img.data, channels, ...(name ? { name } : {}) };
  }
  const kind = input === null ? 'null' : typeof input === 'object' ? ((input as object).constructor?.name ?? 'object') : typeof input;
  throw new Error(
    `${opts.name ?? 'image'}: cannot read a ${kind} as an image; expected a URL, encoded bytes, a Blob, an ImageBitmap, ImageData, an image/canvas element, an OffscreenCanvas, a VideoFrame or { width, height, data }`,
  );
}

/**
 * The browser decoder: header size check, then `createImageBitmap` with EXIF orientation and no
 * colour conversion, then a canvas readback. Formats whose header `readImageHeader` does not read
 * are checked after decoding, before the readback.
 */
export async function decodeBytesInBrowser(bytes: Uint8Array, name: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = checkMaxPixels(opts.maxPixels, name);
  if (bytes.length === 0) throw new Error(`${name}: empty file; expected an encoded image (PNG, JPEG, WebP…)`);
  const header = readImageHeader(bytes);
  if (header) capPixels(header.width, header.height, maxPixels, name);
  if (typeof createImageBitmap === 'undefined') {
    throw new Error(
      `${name}: no image decoder here (createImageBitmap is missing); in Node import yolos/image-input-node.ts, which decodes with sharp`,
    );
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch (e) {
    throw new Error(
      `${name}: cannot decode ${header ? `this ${header.format.toUpperCase()} file` : 'an image of unknown format'} (${(e as Error).message})`,
    );
  }
  try {
    return readPixels(bitmap, bitmap.width, bitmap.height, name, maxPixels);
  } finally {
    bitmap.close();
  }
}

/** Throws unless width·height ≤ maxPixels (before any pixel buffer is made). */
export function capPixels(width: number, height: number, maxPixels: number, name: string): void {
  if (width * height > maxPixels) {
    throw new Error(
      `${name}: image is ${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels} (a decompression bomb? raise maxPixels to accept it)`,
    );
  }
}

/** The maxPixels option, checked: a positive integer or Infinity (default `DEFAULT_MAX_PIXELS`). */
export function checkMaxPixels(maxPixels: number | undefined, name: string): number {
  if (maxPixels === undefined) return DEFAULT_MAX_PIXELS;
  if (!(maxPixels === Infinity || (Number.isInteger(maxPixels) && maxPixels > 0))) {
    throw new Error(`${name}: maxPixels is ${maxPixels}; expected a positive integer or Infinity`);
  }
  return maxPixels;
}

/** A URL short enough for an error message (data: URLs can be megabytes). */
function short(url: string): string {
  return url.length > 120 ? `${url.slice(0, 100)}…` : url;
}

function named(img: DecodedImage | RgbImage, name: string): RgbImage {
  return { ...img, name };
}

async function fetchBytes(url: string, name: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(
      `${name}: cannot fetch (${(e as Error).message}${(e as { cause?: Error }).cause ? `: ${(e as { cause: Error }).cause.message}` : ''})`,
    );
  }
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${res.statusText}; expected an image`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The size of a drawable input (what drawImage would draw), or null if it is not one. */
function drawableSize(x: unknown): { kind: string; width: number; height: number } | null {
  const is = (ctor: string) =>
    typeof (globalThis as Record<string, unknown>)[ctor] === 'function' &&
    x instanceof ((globalThis as Record<string, unknown>)[ctor] as new () => object);
  if (is('ImageBitmap')) {
    const b = x as ImageBitmap;
    return { kind: 'ImageBitmap', width: b.width, height: b.height };
  }
  if (is('HTMLImageElement')) {
    const el = x as HTMLImageElement;
    const kind = `image element ${short(el.currentSrc || el.src)}`;
    if (!el.complete) throw new Error(`${kind}: not loaded yet; await img.decode() first`);
    return { kind, width: el.naturalWidth, height: el.naturalHeight };
  }
  if (is('HTMLCanvasElement')) {
    const c = x as HTMLCanvasElement;
    return { kind: 'canvas', width: c.width, height: c.height };
  }
  if (is('OffscreenCanvas')) {
    const c = x as OffscreenCanvas;
    return { kind: 'OffscreenCanvas', width: c.width, height: c.height };
  }
  if (is('VideoFrame')) {
    const f = x as VideoFrame;
    return { kind: 'VideoFrame', width: f.displayWidth, height: f.displayHeight };
  }
  if (is('HTMLVideoElement')) {
    const v = x as HTMLVideoElement;
    return { kind: 'video element', width: v.videoWidth, height: v.videoHeight };
  }
  return null;
}

/** Draws a source into a fresh 2D canvas and reads its RGBA back. */
function readPixels(source: CanvasImageSource, width: number, height: number, name: string, maxPixels?: number): DecodedImage {
  capPixels(width, height, checkMaxPixels(maxPixels, name), name);
  const canvas: OffscreenCanvas | HTMLCanvasElement =
    typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(width, height)
      : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (!ctx) throw new Error(`${name}: no 2D canvas context to read pixels with`);
  ctx.drawImage(source, 0, 0, width, height);
  const { data } = ctx.getImageData(0, 0, width, height);
  return { width, height, data, channels: 4 };
}
