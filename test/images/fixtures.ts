/**
 * The decoding fixtures (tools/image_decode_reference.py): tiny JPEG/PNG/WebP variants and the RGB
 * (and alpha) bytes Pillow decodes them to, as transformers' `load_image` does. Node and browser.
 */
import type { RgbImage } from '../../yolos/preprocess.ts';

export interface PilImage {
  file: string;
  mode: string;
  width: number;
  height: number;
  rgb: Uint8Array;
  alpha?: Uint8Array;
}

const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

const here = import.meta.url; // a variable, so Vite leaves the URL below alone (it drops the trailing slash)
/** The fixture folder: a file: URL in Node, an http: URL (served by Vite) in the browser. */
export const FIXTURES = new URL('../fixtures/images/', here);

/** pil-decoded.json's text → what PIL decoded each fixture to, and which PIL did. */
export function parsePilImages(json: string): { version: string; images: PilImage[] } {
  const d = JSON.parse(json) as {
    pil: string;
    libjpeg: string;
    webp: string;
    images: { file: string; mode: string; width: number; height: number; rgb: string; alpha?: string }[];
  };
  return {
    version: `Pillow ${d.pil}, libjpeg ${d.libjpeg}, libwebp ${d.webp}`,
    images: d.images.map((im) => ({ ...im, rgb: fromBase64(im.rgb), alpha: im.alpha ? fromBase64(im.alpha) : undefined })),
  };
}

/** Largest |Δ| over RGB (and alpha where PIL has it), and where, between a decoded RGBA image and PIL's. */
export function maxDiff(got: RgbImage, ref: PilImage, where: (alpha: number) => boolean = () => true): { max: number; at: string } {
  if (got.width !== ref.width || got.height !== ref.height)
    return { max: Infinity, at: `size ${got.width}×${got.height}, PIL ${ref.width}×${ref.height}` };
  let max = 0,
    at = '';
  for (let i = 0; i < ref.width * ref.height; i++) {
    if (!where(ref.alpha ? ref.alpha[i] : 255)) continue;
    for (let c = 0; c < 4; c++) {
      const want = c < 3 ? ref.rgb[i * 3 + c] : ref.alpha ? ref.alpha[i] : 255;
      const d = Math.abs(got.data[i * 4 + c] - want);
      if (d > max) {
        max = d;
        at = `pixel (${i % ref.width}, ${Math.floor(i / ref.width)}) channel ${c}: ${got.data[i * 4 + c]} vs PIL ${want}`;
      }
    }
  }
  return { max, at };
}
