/**
 * `toRgbImage` for Node: every input form of `image-input.ts`, plus file paths, `file:` URLs and
 * `Buffer`s, with encoded bytes decoded by sharp (`image-io.ts`). Importing this module registers
 * sharp as the default bytes decoder, so the neutral `toRgbImage` (and what calls it) decodes the
 * same way in Node.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeImage } from './image-io.ts';
import { setBytesDecoder, toRgbImage as toRgbImageAnywhere, type ImageInput, type ImageInputOptions } from './image-input.ts';
import type { RgbImage } from './preprocess.ts';

setBytesDecoder(decodeImage);

/** A string that is a URL to fetch rather than a file path. */
const FETCHED_URL = /^(https?|data|blob):/i;

/**
 * Any image input, a file path included, → an 8-bit RGB(A) image (see `image-input.ts`).
 * @example const img = await toRgbImage('photos/cat.jpg'); // or a Buffer, an http(s) URL, { width, height, data }…
 */
export async function toRgbImage(input: ImageInput, opts: ImageInputOptions = {}): Promise<RgbImage> {
  const path =
    typeof input === 'string'
      ? /^file:/i.test(input)
        ? fileURLToPath(input)
        : FETCHED_URL.test(input)
          ? null
          : input
      : input instanceof URL && input.protocol === 'file:'
        ? fileURLToPath(input)
        : null;
  if (path === null) return toRgbImageAnywhere(input, { decodeBytes: decodeImage, ...opts });
  const name = opts.name ?? path;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${name}: cannot read image file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { ...(await (opts.decodeBytes ?? decodeImage)(bytes, name, opts)), name };
}
