/** Image decoding/encoding in Node: PNG (pngjs) and JPEG (jpeg-js), to and from 8-bit RGBA. */
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import type { RgbImage } from './preprocess.ts';

/** Decodes PNG or JPEG bytes (sniffed by signature) to RGBA; throws naming the file. */
export function decodeImage(bytes: Uint8Array, name = 'image'): RgbImage & { channels: 4 } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
      const png = PNG.sync.read(b);
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), channels: 4 };
    }
    if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
      const img = jpeg.decode(b, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
      return { width: img.width, height: img.height, data: img.data, channels: 4 };
    }
  } catch (e) {
    throw new Error(`${name}: cannot decode image (${(e as Error).message})`);
  }
  throw new Error(`${name}: not a PNG or JPEG file`);
}

/** Encodes RGBA (or RGB) pixels as PNG bytes. */
export function encodePng(img: RgbImage): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  const ch = img.channels ?? (img.data.length === img.width * img.height * 3 ? 3 : 4);
  for (let i = 0; i < img.width * img.height; i++) {
    png.data[i * 4] = img.data[i * ch];
    png.data[i * 4 + 1] = img.data[i * ch + 1];
    png.data[i * 4 + 2] = img.data[i * ch + 2];
    png.data[i * 4 + 3] = ch === 4 ? img.data[i * 4 + 3] : 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}
