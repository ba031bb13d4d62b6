/**
 * Image decoding in Node with sharp (libvips: libjpeg-turbo, libpng, libwebp, libheif/AVIF, GIF,
 * TIFF), to 8-bit RGBA, following the policy in `image-input.ts`: EXIF orientation applied (as
 * transformers' `load_image` does with `PIL.ImageOps.exif_transpose`), embedded colour profiles
 * ignored, CMYK converted with PIL's formula, 16-bit reduced to the high byte, and the pixel count
 * capped from the header before decoding. On the fixture set this matches PIL byte for byte.
 * PNG encoding stays on pngjs (small, synchronous).
 */
import type { Metadata } from 'sharp';

// sharp (a native module) loads on the first decode, so what never decodes (benches, the trainer on
// the shapes data, bundles for a GPU machine without libvips) never needs it.
let sharpModule: Promise<typeof import('sharp')> | null = null;
const loadSharp = async () => (await (sharpModule ??= import('sharp'))).default;
import { PNG } from 'pngjs';
import type { RgbImage } from './preprocess.ts';
import { readImageHeader } from './image-header.ts';
import { capPixels, checkMaxPixels, type DecodeOptions, type DecodedImage } from './image-input.ts';

/** Raster formats accepted (sharp also renders SVG and PDF: not photos, and not what PIL opens). */
const FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'avif', 'heif', 'tiff']);

/**
 * Decodes encoded image bytes to RGBA; throws naming the file and what was expected.
 * @example const img = await decodeImage(await fs.readFile('cat.jpg'), 'cat.jpg', { maxPixels: 50e6 });
 */
export async function decodeImage(
  bytes: Uint8Array,
  name = 'image',
  opts: DecodeOptions = {},
): Promise<DecodedImage & { data: Uint8Array }> {
  const maxPixels = checkMaxPixels(opts.maxPixels, name);
  if (bytes.length === 0) throw new Error(`${name}: empty file; expected an encoded image (PNG, JPEG, WebP…)`);
  const header = readImageHeader(bytes); // our own reading first: a header libvips rejects may still say the size
  if (header) capPixels(header.width, header.height, maxPixels, name);
  // failOn 'error': like PIL, refuse truncated or corrupt data but accept libjpeg's warnings (extraneous bytes…)
  const options = { limitInputPixels: maxPixels === Infinity ? false : maxPixels, ignoreIcc: true, failOn: 'error' } as const;
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { ...options, limitInputPixels: false }).metadata(); // the header only
  } catch (e) {
    throw new Error(`${name}: not a readable image (${(e as Error).message}); expected PNG, JPEG, WebP, GIF, AVIF or TIFF`);
  }
  if (!FORMATS.has(meta.format))
    throw new Error(`${name}: ${meta.format} is not a raster image format accepted here; expected PNG, JPEG, WebP, GIF, AVIF or TIFF`);
  capPixels(meta.width, meta.pageHeight ?? meta.height, maxPixels, name);
  try {
    const pipeline = sharp(bytes, options).autoOrient();
    if (meta.space === 'cmyk') {
      const { data, info } = await pipeline.pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, data: cmykToRgba(data, info.width * info.height), channels: 4 };
    }
    const { data, info } = await pipeline.toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels, expected 4`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), channels: 4 };
  } catch (e) {
    throw new Error(`${name}: cannot decode this ${meta.format.toUpperCase()} file (${(e as Error).message})`);
  }
}

/** PIL's cmyk2rgb (Convert.c): each channel (255 − k)·(255 − c)/255 with its rounding; no profile. */
function cmykToRgba(cmyk: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n * 4);
  const mul255 = (a: number, b: number) => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (let i = 0; i < n; i++) {
    const nk = 255 - cmyk[i * 4 + 3]!;
    for (let c = 0; c < 3; c++) out[i * 4 + c] = nk - mul255(cmyk[i * 4 + c]!, nk);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Encodes RGBA (or RGB) pixels as PNG bytes. */
export function encodePng(img: RgbImage): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  const ch = img.channels ?? (img.data.length === img.width * img.height * 3 ? 3 : 4);
  for (let i = 0; i < img.width * img.height; i++) {
    png.data[i * 4] = img.data[i * ch]!;
    png.data[i * 4 + 1] = img.data[i * ch + 1]!;
    png.data[i * 4 + 2] = img.data[i * ch + 2]!;
    png.data[i * 4 + 3] = ch === 4 ? img.data[i * 4 + 3]! : 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}
