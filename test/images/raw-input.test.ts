// Raw { width, height, data } images that cannot be what they claim throw, naming the image; before
// this check, short data resized to garbage and detect returned [[]] without a word.
import { describe, it, expect } from 'vitest';
import { checkRgbImage, type RgbImage } from '../../yolos/preprocess.ts';
import { preprocess } from '../../yolos/preprocess-tensor.ts';
import { detect } from '../../yolos/detect.ts';
import type { Yolos } from '../../yolos/model.ts';

const ok: RgbImage = { width: 32, height: 32, data: new Uint8Array(32 * 32 * 4) };
const bad: [string, RgbImage, RegExp][] = [
  [
    'short data',
    { width: 32, height: 32, data: new Uint8Array(100) },
    /data has 100 values; expected 32×32×3 = 3072 \(RGB\) or 32×32×4 = 4096 \(RGBA\)/,
  ],
  [
    'long data for its channels',
    { width: 32, height: 32, data: new Uint8Array(5000), channels: 4 },
    /data has 5000 values; expected 32×32×4 = 4096/,
  ],
  ['width 0', { ...ok, width: 0 }, /width is 0; expected a positive integer/],
  ['width 1.5', { ...ok, width: 1.5 }, /width is 1\.5; expected a positive integer/],
  ['height NaN', { ...ok, height: NaN }, /height is NaN; expected a positive integer/],
  ['height −4', { ...ok, height: -4 }, /height is -4; expected a positive integer/],
  ['width a string', { ...ok, width: '32' as unknown as number }, /width is string; expected a positive integer/],
  [
    'Float32Array data',
    { ...ok, data: new Float32Array(32 * 32 * 4) as unknown as Uint8Array },
    /data is Float32Array; expected 8-bit RGB\(A\) values in a Uint8Array or Uint8ClampedArray/,
  ],
  ['a plain array', { ...ok, data: [1, 2, 3] as unknown as Uint8Array }, /data is Array; expected 8-bit/],
  ['no data', { ...ok, data: undefined as unknown as Uint8Array }, /data is undefined; expected 8-bit/],
  ['channels 2', { ...ok, channels: 2 as 3 }, /channels is 2; expected 3 \(RGB\) or 4 \(RGBA\)/],
];

describe('checkRgbImage', () => {
  it('accepts RGB, RGBA, Uint8ClampedArray and gives the channel count', () => {
    expect(checkRgbImage(ok, 'x')).toBe(4);
    expect(checkRgbImage({ width: 3, height: 2, data: new Uint8ClampedArray(18) }, 'x')).toBe(3);
  });
  it('rejects null', () =>
    expect(() => checkRgbImage(null as unknown as RgbImage, 'detect: image 0')).toThrow(
      /detect: image 0: expected \{ width, height, data \}, got null/,
    ));
});

const ops: [string, (images: RgbImage[]) => Promise<unknown>][] = [
  ['preprocess', async (images) => preprocess(images, { shortestEdge: 32, longestEdge: 32 })],
  // detect checks every image before it touches the model, so no model (and no GPU) is needed here
  ['detect', (images) => detect(null as unknown as Yolos, images)],
];
describe.each(ops)('%s', (op, run) => {
  it.each(bad)('throws for %s, naming the image by its batch index', async (_, img, message) => {
    await expect(Promise.resolve().then(() => run([ok, img]))).rejects.toThrow(new RegExp(`^${op}: image 1: ${message.source}`));
  });
  it('names the image by its name when it has one', async () => {
    await expect(Promise.resolve().then(() => run([{ ...ok, width: 7, name: 'cam-3.jpg' }]))).rejects.toThrow(
      `${op}: image 0 (cam-3.jpg): data has 4096 values; expected 7×32×3 = 672 (RGB) or 7×32×4 = 896 (RGBA)`,
    );
  });
  it('throws for a single image passed without its array', async () => {
    await expect(Promise.resolve().then(() => run(ok as unknown as RgbImage[]))).rejects.toThrow(
      `${op}: expected an array of images, got object`,
    );
  });
});
