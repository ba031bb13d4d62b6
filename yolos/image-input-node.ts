/**
 * `toRgbImage` in Node: importing this module registers sharp (`image-io.ts`) as the decoder of encoded
 * bytes and a reader of file paths and `file:` URLs, so the one `toRgbImage` of `image-input.ts` (and the
 * detector, which calls it) takes every input form there plus paths and `Buffer`s, decoded as in the CLI.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeImage } from './image-io.ts';
import { setBytesDecoder, setLocalFileReader, toRgbImage } from './image-input.ts';

setBytesDecoder(decodeImage);

/** A string that is a URL to fetch rather than a file path. */
const FETCHED_URL = /^(https?|data|blob):/i;

/**
 * Strings that are not http(s)/data/blob URLs are file paths; `file:` URLs too.
 * @example const img = await toRgbImage('photos/cat.jpg'); // or a Buffer, an http(s) URL, { width, height, data }…
 */
setLocalFileReader(async (input) => {
  const path =
    input instanceof URL
      ? input.protocol === 'file:'
        ? fileURLToPath(input)
        : null
      : /^file:/i.test(input)
        ? fileURLToPath(input)
        : FETCHED_URL.test(input)
          ? null
          : input;
  if (path === null) return null;
  try {
    return { bytes: await readFile(path), name: path };
  } catch (e) {
    throw new Error(`${path}: cannot read image file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
});

export { toRgbImage };
