// Node decoding (sharp) against PIL's, on the fixture set; the pixel cap; bad bytes.
// Tolerance: exact. sharp 0.35 bundles libvips 8.18 with mozjpeg's libjpeg-turbo decoder (islow IDCT,
// fancy upsampling, as PIL's libjpeg-turbo 2.1) and libwebp 1.6 (PIL: 1.2.4), and both give the same
// bytes on every fixture; CMYK uses PIL's own formula, 16-bit PNG keeps the high byte as PIL does.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { crc32, createDeflate } from 'node:zlib';
import { decodeImage } from '../../yolos/image-io.ts';
import { readImageHeader } from '../../yolos/image-header.ts';
import { decodeBytesInBrowser, DEFAULT_MAX_PIXELS } from '../../yolos/image-input.ts';
import { FIXTURES, maxDiff, parsePilImages } from './fixtures.ts';

const pil = parsePilImages(readFileSync(new URL('pil-decoded.json', FIXTURES), 'utf8'));
const bytesOf = (file: string) => new Uint8Array(readFileSync(new URL(file, FIXTURES)));

/** A PNG chunk: length, type, data, CRC. */
function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}
/** A real decompression bomb: an all-black 8-bit grey PNG of width×height, zlib-compressed to ~1000:1. */
async function pngBomb(width: number, height: number): Promise<Uint8Array> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const deflate = createDeflate({ level: 9 }),
    parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  const rows = 250,
    block = Buffer.alloc((width + 1) * rows); // filter byte 0 + black pixels, per row
  for (let y = 0; y < height; y += rows) deflate.write(block.subarray(0, (width + 1) * Math.min(rows, height - y)));
  deflate.end();
  await ended;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(
    Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', Buffer.concat(parts)), chunk('IEND', new Uint8Array(0))]),
  );
}

describe(`decodeImage (sharp) matches PIL (${pil.version}) exactly`, () => {
  it.each(pil.images.map((im) => [im.file, im] as const))('%s', async (file, ref) => {
    const img = await decodeImage(bytesOf(file), file);
    expect(img.channels).toBe(4);
    const { max, at } = maxDiff(img, ref);
    expect(max, at).toBe(0);
  });
  it('applies EXIF orientation (6: 90° clockwise, so the red top-left mark lands at the top-right)', async () => {
    const img = await decodeImage(bytesOf('jpeg-exif6.jpg'), 'jpeg-exif6.jpg');
    expect([img.width, img.height]).toEqual([23, 33]);
    const px = (x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
    expect(px(21, 1)[0]).toBeGreaterThan(200);
    expect(px(1, 1)[0]).toBeLessThan(100);
  });
});

describe('readImageHeader', () => {
  it.each(pil.images.map((im) => [im.file, im] as const))('reads the size of %s', (file, ref) => {
    const h = readImageHeader(bytesOf(file));
    expect(h).not.toBeNull();
    expect(h!.width * h!.height).toBe(ref.width * ref.height); // EXIF 6 swaps the sides, not the count
    expect(file.startsWith(h!.format === 'jpeg' ? 'jpeg' : h!.format)).toBe(true);
  });
  it.each(['avif', 'gif', 'webp'] as const)(
    'reads the size of a %s with alpha that sharp writes (AVIF ispe, GIF, WebP VP8X)',
    async (format) => {
      const bytes = new Uint8Array(await sharp(bytesOf('png-rgba.png')).toFormat(format).toBuffer());
      expect(readImageHeader(bytes)).toEqual({ format, width: 33, height: 23 });
      expect((await decodeImage(bytes, `x.${format}`)).width).toBe(33);
    },
  );
  it('returns null for unknown or cut-short bytes', () => {
    expect(readImageHeader(new Uint8Array([1, 2, 3]))).toBeNull();
    expect(readImageHeader(bytesOf('jpeg-420.jpg').subarray(0, 20))).toBeNull();
  });
});

describe('pixel cap (decompression bombs)', () => {
  const message = /bomb\.png: image is 16000×16000 = 256000000 pixels, over the limit of 178956970/;
  it('is PIL’s by default', () => expect(DEFAULT_MAX_PIXELS).toBe(178_956_970));
  it('refuses a 250 kB PNG that decodes to 16000×16000, from its header (Node and browser decoders)', async () => {
    const bomb = await pngBomb(16000, 16000);
    expect(bomb.length).toBeLessThan(400_000);
    const t0 = performance.now();
    await expect(decodeImage(bomb, 'bomb.png')).rejects.toThrow(message);
    await expect(decodeBytesInBrowser(bomb, 'bomb.png')).rejects.toThrow(message);
    expect(performance.now() - t0).toBeLessThan(1000); // no decoding happened (decoding takes seconds and 256 MB)
  });
  it('takes maxPixels: the limit itself passes, one pixel less fails', async () => {
    const bytes = bytesOf('png-rgb.png'); // 33×23 = 759
    expect((await decodeImage(bytes, 'png-rgb.png', { maxPixels: 759 })).width).toBe(33);
    await expect(decodeImage(bytes, 'png-rgb.png', { maxPixels: 758 })).rejects.toThrow(/33×23 = 759 pixels, over the limit of 758/);
  });
  it.each([0, -1, 1.5, NaN])('rejects maxPixels %s', async (maxPixels) => {
    await expect(decodeImage(bytesOf('png-rgb.png'), 'png-rgb.png', { maxPixels })).rejects.toThrow(
      /png-rgb\.png: maxPixels is .*; expected a positive integer or Infinity/,
    );
  });
});

describe('bad bytes get errors naming the file', () => {
  it('empty, garbage, truncated, SVG', async () => {
    await expect(decodeImage(new Uint8Array(0), 'empty.jpg')).rejects.toThrow(/empty\.jpg: empty file/);
    await expect(decodeImage(new TextEncoder().encode('hello, not an image'), 'notes.png')).rejects.toThrow(
      /notes\.png: not a readable image .*expected PNG, JPEG/,
    );
    const jpeg = bytesOf('jpeg-420.jpg');
    await expect(decodeImage(jpeg.subarray(0, jpeg.length - 400), 'cut.jpg')).rejects.toThrow(/cut\.jpg: cannot decode this JPEG file/);
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>');
    await expect(decodeImage(svg, 'drawing.svg')).rejects.toThrow(/drawing\.svg: svg is not a raster image format/);
  });
});
