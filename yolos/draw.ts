/**
 * Drawing detections onto RGBA pixels (Node and browser alike): box outlines and labels in a built-in
 * 5×7 bitmap font (upper-case letters, digits and . : - % space), on a filled tag for legibility.
 */
import type { Detection } from './postprocess.ts';

// Each glyph: 7 rows of 5 bits (MSB = leftmost column).
const FONT: Record<string, number[]> = {
  A: [14, 17, 17, 31, 17, 17, 17],
  B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14],
  D: [30, 17, 17, 17, 17, 17, 30],
  E: [31, 16, 16, 30, 16, 16, 31],
  F: [31, 16, 16, 30, 16, 16, 16],
  G: [14, 17, 16, 23, 17, 17, 15],
  H: [17, 17, 17, 31, 17, 17, 17],
  I: [14, 4, 4, 4, 4, 4, 14],
  J: [7, 2, 2, 2, 2, 18, 12],
  K: [17, 18, 20, 24, 20, 18, 17],
  L: [16, 16, 16, 16, 16, 16, 31],
  M: [17, 27, 21, 21, 17, 17, 17],
  N: [17, 17, 25, 21, 19, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16],
  Q: [14, 17, 17, 17, 21, 18, 13],
  R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30],
  T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14],
  V: [17, 17, 17, 17, 17, 10, 4],
  W: [17, 17, 17, 21, 21, 21, 10],
  X: [17, 17, 10, 4, 10, 17, 17],
  Y: [17, 17, 10, 4, 4, 4, 4],
  Z: [31, 1, 2, 4, 8, 16, 31],
  0: [14, 17, 19, 21, 25, 17, 14],
  1: [4, 12, 4, 4, 4, 4, 14],
  2: [14, 17, 1, 2, 4, 8, 31],
  3: [31, 2, 4, 2, 1, 17, 14],
  4: [2, 6, 10, 18, 31, 2, 2],
  5: [31, 16, 30, 1, 1, 17, 14],
  6: [6, 8, 16, 30, 17, 17, 14],
  7: [31, 1, 2, 4, 8, 8, 8],
  8: [14, 17, 17, 14, 17, 17, 14],
  9: [14, 17, 17, 15, 1, 2, 12],
  '.': [0, 0, 0, 0, 0, 12, 12],
  ':': [0, 12, 12, 0, 12, 12, 0],
  '-': [0, 0, 0, 31, 0, 0, 0],
  '%': [24, 25, 2, 4, 8, 19, 3],
  ' ': [0, 0, 0, 0, 0, 0, 0],
  '/': [0, 1, 2, 4, 8, 16, 0],
  _: [0, 0, 0, 0, 0, 0, 31],
};

/** A distinct colour per class id. */
export function classColor(label: number): [number, number, number] {
  const h = (label * 137.508) % 360,
    s = 0.85,
    v = 0.95;
  const c = v * s,
    x = c * (1 - Math.abs(((h / 60) % 2) - 1)),
    m = v - c;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

export interface Canvas {
  width: number;
  height: number;
  /** RGBA */
  data: Uint8Array | Uint8ClampedArray;
}

function put(img: Canvas, x: number, y: number, [r, g, b]: [number, number, number]): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const i = (Math.floor(y) * img.width + Math.floor(x)) * 4;
  img.data[i] = r;
  img.data[i + 1] = g;
  img.data[i + 2] = b;
  img.data[i + 3] = 255;
}

export function drawRect(
  img: Canvas,
  [x0, y0, x1, y1]: [number, number, number, number],
  color: [number, number, number],
  thickness = 2,
): void {
  const [a, b, c, d] = [Math.round(x0), Math.round(y0), Math.round(x1), Math.round(y1)];
  for (let t = 0; t < thickness; t++) {
    for (let x = a; x <= c; x++) {
      put(img, x, b + t, color);
      put(img, x, d - t, color);
    }
    for (let y = b; y <= d; y++) {
      put(img, a + t, y, color);
      put(img, c - t, y, color);
    }
  }
}

/** Text in the bitmap font at (x, y) top-left, scaled by `scale`, on a filled background. */
export function drawText(
  img: Canvas,
  text: string,
  x: number,
  y: number,
  color: [number, number, number],
  background: [number, number, number] | null,
  scale = 1,
): void {
  const chars = text.toUpperCase().split('');
  const w = chars.length * 6 * scale + scale,
    h = 9 * scale;
  if (background) for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) put(img, x + xx, y + yy, background);
  chars.forEach((ch, k) => {
    const rows = FONT[ch] ?? FONT[' '];
    for (let r = 0; r < 7; r++)
      for (let col = 0; col < 5; col++) {
        if (!((rows[r] >> (4 - col)) & 1)) continue;
        for (let sy = 0; sy < scale; sy++)
          for (let sx = 0; sx < scale; sx++) put(img, x + scale + (k * 6 + col) * scale + sx, y + scale + r * scale + sy, color);
      }
  });
}

/** Draws each detection's box and "label score" tag. */
export function drawDetections(img: Canvas, detections: Detection[], opts: { scale?: number } = {}): void {
  const scale = opts.scale ?? Math.max(1, Math.round(Math.min(img.width, img.height) / 300));
  for (const d of detections) {
    const color = classColor(d.label);
    drawRect(img, d.box, color, Math.max(1, scale));
    const tag = `${d.labelName} ${(d.score * 100).toFixed(0)}%`;
    const ty = d.box[1] - 9 * scale >= 0 ? d.box[1] - 9 * scale : d.box[1];
    drawText(img, tag, Math.max(0, d.box[0]), Math.max(0, ty), [255, 255, 255], color, scale);
  }
}
