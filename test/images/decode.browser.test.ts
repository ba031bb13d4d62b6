// Chromium's decoding (createImageBitmap with imageOrientation 'from-image' and no colour conversion,
// then a 2D-canvas readback) against PIL's, on the fixture set. Browser project only.
// Tolerance: exact wherever alpha = 255, EXIF rotation, CMYK and 16-bit included (Chromium's
// libjpeg-turbo, libpng and libwebp agree with PIL's). Where alpha < 255 a 2D canvas stores
// premultiplied 8-bit colour, so the colour read back is off by up to 255/(2·alpha): 2 at the
// fixture's lowest alpha, 64 (a fully transparent pixel reads back black).
import { describe, it, expect, beforeAll } from 'vitest';
import { decodeBytesInBrowser } from '../../yolos/image-input.ts';
import { FIXTURES, maxDiff, parsePilImages, type PilImage } from './fixtures.ts';

const inBrowser = typeof document !== 'undefined';
let images: PilImage[] = [];
const bytesOf = async (file: string) => new Uint8Array(await (await fetch(new URL(file, FIXTURES))).arrayBuffer());

describe.skipIf(!inBrowser)('createImageBitmap decoding matches PIL', () => {
  beforeAll(async () => {
    images = parsePilImages(await (await fetch(new URL('pil-decoded.json', FIXTURES))).text()).images;
  });
  it('on every fixture: exact where opaque, ≤ 255/(2·alpha) where translucent', async () => {
    expect(images.length).toBeGreaterThanOrEqual(15);
    for (const ref of images) {
      const img = await decodeBytesInBrowser(await bytesOf(ref.file), ref.file);
      const opaque = maxDiff(img, ref, (a) => a === 255);
      expect(opaque.max, `${ref.file}: ${opaque.at}`).toBe(0);
      const minAlpha = ref.alpha ? Math.min(...ref.alpha) : 255;
      if (minAlpha < 255) {
        const translucent = maxDiff(img, ref, (a) => a < 255);
        expect(translucent.max, `${ref.file}: ${translucent.at}`).toBeLessThanOrEqual(Math.ceil(255 / (2 * minAlpha)));
      }
    }
  });
  it('refuses a bomb from its header and names undecodable bytes', async () => {
    const bomb = new Uint8Array(33);
    bomb.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x3e, 0x80, 0, 0, 0x3e, 0x80, 8]); // 16000×16000
    await expect(decodeBytesInBrowser(bomb, 'bomb.png')).rejects.toThrow(
      'bomb.png: image is 16000×16000 = 256000000 pixels, over the limit of 178956970',
    );
    await expect(decodeBytesInBrowser(new TextEncoder().encode('not an image'), 'notes.png')).rejects.toThrow(
      /^notes\.png: cannot decode an image of unknown format/,
    );
    const jpeg = await bytesOf('jpeg-420.jpg');
    await expect(decodeBytesInBrowser(jpeg, 'x.jpg', { maxPixels: 758 })).rejects.toThrow(
      'x.jpg: image is 33×23 = 759 pixels, over the limit of 758',
    );
  });
});
