/**
 * An encoded image's format and stored size, read from its header without decoding (so a
 * decompression bomb is refused before any pixel buffer exists). PNG, JPEG, WebP, GIF, BMP and
 * AVIF/HEIF; null for anything else or a header cut short. The size is as stored: EXIF rotation
 * swaps width and height but not the pixel count.
 */

export interface ImageHeader {
  format: 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp' | 'avif';
  width: number;
  height: number;
}

/** @example readImageHeader(pngBytes) // { format: 'png', width: 33, height: 23 } */
export function readImageHeader(b: Uint8Array): ImageHeader | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ascii = (at: number, s: string) => b.length >= at + s.length && [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
  if (b.length >= 24 && b[0] === 0x89 && ascii(1, 'PNG') && ascii(12, 'IHDR')) {
    return { format: 'png', width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpegSize(b, dv);
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return webpSize(b, dv, ascii);
  if ((ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) && b.length >= 10) {
    return { format: 'gif', width: dv.getUint16(6, true), height: dv.getUint16(8, true) };
  }
  if (ascii(0, 'BM') && b.length >= 26) {
    return { format: 'bmp', width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) };
  }
  if (ascii(4, 'ftyp')) return ispeSize(b, dv);
  return null;
}

/** The first start-of-frame marker's size (SOF0–SOF15 but DHT, JPG and DAC). */
function jpegSize(b: Uint8Array, dv: DataView): ImageHeader | null {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = dv.getUint8(i + 1);
    if (marker === 0xff) {
      i++;
      continue;
    } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    } // no length
    const length = dv.getUint16(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return i + 9 <= b.length ? { format: 'jpeg', height: dv.getUint16(i + 5), width: dv.getUint16(i + 7) } : null;
    }
    i += 2 + length;
  }
  return null;
}

/** VP8 (lossy), VP8L (lossless) or VP8X (extended: the canvas size). */
function webpSize(b: Uint8Array, dv: DataView, ascii: (at: number, s: string) => boolean): ImageHeader | null {
  if (ascii(12, 'VP8 ') && b.length >= 30)
    return { format: 'webp', width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff };
  if (ascii(12, 'VP8L') && b.length >= 25) {
    const bits = dv.getUint32(21, true);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (ascii(12, 'VP8X') && b.length >= 30) {
    const u24 = (at: number) => dv.getUint16(at, true) | (dv.getUint8(at + 2) << 16);
    return { format: 'webp', width: u24(24) + 1, height: u24(27) + 1 };
  }
  return null;
}

/** AVIF/HEIF: the first `ispe` (image spatial extent) property in the first 64 kB. */
function ispeSize(b: Uint8Array, dv: DataView): ImageHeader | null {
  const end = Math.min(b.length, 1 << 16) - 16;
  for (let i = 4; i <= end; i++) {
    if (b[i] === 0x69 && b[i + 1] === 0x73 && b[i + 2] === 0x70 && b[i + 3] === 0x65) {
      // 'ispe', then version/flags
      return { format: 'avif', width: dv.getUint32(i + 8), height: dv.getUint32(i + 12) };
    }
  }
  return null;
}
