// toRgbImage in Node: every input form gives the same pixels as decoding the file (sharp, PIL-exact).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { toRgbImage } from '../../yolos/image-input-node.ts';
import { toRgbImage as toRgbImageAnywhere } from '../../yolos/image-input.ts';
import { FIXTURES, maxDiff, parsePilImages } from './fixtures.ts';

const pil = parsePilImages(readFileSync(new URL('pil-decoded.json', FIXTURES), 'utf8'));
const ref = pil.images.find((im) => im.file === 'jpeg-exif6.jpg')!; // EXIF-rotated: every path must rotate it
const fileUrl = new URL(ref.file, FIXTURES);
const path = fileURLToPath(fileUrl);
const bytes = readFileSync(path);

let server: Server,
  base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === `/${ref.file}`) {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(bytes);
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('toRgbImage (Node)', () => {
  const forms: [string, () => Parameters<typeof toRgbImage>[0], string][] = [
    ['a file path', () => path, path],
    ['a file: URL', () => fileUrl, path],
    ['a file: URL string', () => fileUrl.href, path],
    ['a Buffer', () => bytes, 'image bytes'],
    ['a Uint8Array', () => new Uint8Array(bytes), 'image bytes'],
    ['an ArrayBuffer', () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), 'image bytes'],
    ['a Blob', () => new Blob([bytes], { type: 'image/jpeg' }), 'image/jpeg blob'],
    ['an http URL', () => `${base}/${ref.file}`, 'URL'],
  ];
  it.each(forms)('reads %s, EXIF-rotated, like PIL', async (_, input, name) => {
    const img = await toRgbImage(input());
    expect(maxDiff(img, ref).max).toBe(0);
    expect(img.name).toBe(name === 'URL' ? `${base}/${ref.file}` : name);
  });
  it('passes a raw image through (checked, not copied) and names it', async () => {
    const data = new Uint8Array(2 * 3 * 3);
    const img = await toRgbImage({ width: 2, height: 3, data }, { name: 'mine' });
    expect(img.data).toBe(data);
    expect([img.channels, img.name]).toEqual([3, 'mine']);
  });
  it('the neutral toRgbImage decodes bytes with sharp once the Node module is imported', async () => {
    expect(maxDiff(await toRgbImageAnywhere(new Uint8Array(bytes)), ref).max).toBe(0);
  });
  it('passes maxPixels on to the decoder', async () => {
    await expect(toRgbImage(path, { maxPixels: 100 })).rejects.toThrow(
      /jpeg-exif6\.jpg: image is 33×23 = 759 pixels, over the limit of 100/,
    );
  });
  it('names the path, URL or input in errors', async () => {
    await expect(toRgbImage('no/such/image.jpg')).rejects.toThrow(/^no\/such\/image\.jpg: cannot read image file \(ENOENT\)/);
    await expect(toRgbImage(`${base}/missing.png`)).rejects.toThrow(new RegExp(`${base}/missing\\.png: HTTP 404`));
    await expect(toRgbImage('http://127.0.0.1:1/x.png')).rejects.toThrow(/127\.0\.0\.1:1\/x\.png: cannot fetch/);
    await expect(toRgbImage(42 as unknown as string)).rejects.toThrow(
      /image: cannot read a number as an image; expected a URL, encoded bytes/,
    );
    await expect(toRgbImage({ width: 2, height: 2, data: new Uint8Array(3) }, { name: 'frame 7' })).rejects.toThrow(
      /frame 7: data has 3 values; expected 2×2×3 = 12 \(RGB\) or 2×2×4 = 16 \(RGBA\)/,
    );
  });
});
