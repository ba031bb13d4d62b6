// toRgbImage in the browser: every input form gives PIL's pixels (the source is the EXIF-rotated
// JPEG fixture, decoded once to a bitmap and drawn into each form). Browser project only.
import { describe, it, expect, beforeAll } from 'vitest';
import { toRgbImage, type ImageInput } from '../../yolos/image-input.ts';
import { FIXTURES, maxDiff, parsePilImages, type PilImage } from './fixtures.ts';

const inBrowser = typeof document !== 'undefined';
const FILE = 'jpeg-exif6.jpg';
let ref: PilImage, bytes: Uint8Array;

describe.skipIf(!inBrowser)('toRgbImage (browser)', () => {
  beforeAll(async () => {
    ref = parsePilImages(await (await fetch(new URL('pil-decoded.json', FIXTURES))).text()).images.find((im) => im.file === FILE)!;
    bytes = new Uint8Array(await (await fetch(new URL(FILE, FIXTURES))).arrayBuffer());
  });
  const bitmap = () => createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { imageOrientation: 'from-image' });
  const canvas = async () => {
    const b = await bitmap();
    const c = Object.assign(document.createElement('canvas'), { width: b.width, height: b.height });
    c.getContext('2d')!.drawImage(b, 0, 0);
    return c;
  };
  const forms: [string, () => Promise<ImageInput>][] = [
    ['Uint8Array bytes', async () => bytes],
    ['an ArrayBuffer', async () => bytes.slice().buffer],
    ['a Blob', async () => new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' })],
    ['a File', async () => new File([bytes as Uint8Array<ArrayBuffer>], FILE, { type: 'image/jpeg' })],
    ['a URL string', async () => new URL(FILE, FIXTURES).href],
    ['an ImageBitmap', bitmap],
    ['a canvas', canvas],
    [
      'an OffscreenCanvas',
      async () => {
        const b = await bitmap(),
          c = new OffscreenCanvas(b.width, b.height);
        c.getContext('2d')!.drawImage(b, 0, 0);
        return c;
      },
    ],
    [
      'ImageData',
      async () => {
        const c = await canvas();
        return c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
      },
    ],
    [
      'an <img> element',
      async () => {
        const img = new Image();
        img.src = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }));
        await img.decode();
        return img;
      },
    ],
    ['a VideoFrame', async () => new VideoFrame(await canvas(), { timestamp: 0 })],
  ];
  it.each(forms)('reads %s, EXIF-rotated, as PIL does', async (_, make) => {
    const input = await make();
    const img = await toRgbImage(input);
    if (input instanceof VideoFrame) input.close();
    const { max, at } = maxDiff(img, ref);
    expect(max, at).toBe(0);
  });
  it('names the File in errors, and refuses an element that is not loaded', async () => {
    await expect(toRgbImage(new File([new Uint8Array([1, 2, 3])], 'broken.jpg'))).rejects.toThrow(/^broken\.jpg: cannot decode/);
    const img = new Image();
    img.src = 'data:image/png;base64,AAAA';
    await expect(toRgbImage(img)).rejects.toThrow(/not loaded yet|size 0×0/);
    await expect(toRgbImage(new OffscreenCanvas(1, 1), { maxPixels: 0.5 })).rejects.toThrow(/maxPixels is 0\.5/);
  });
});
