/** What the pages share: starting the engine (or saying why WebGPU is missing), images, downloads. */
import { init, describeAdapterOf, type Engine } from '../../engine/index.ts';
import { drawDetections, drawRect, type Detection, type RgbImage } from '../../yolos/index.ts';
import { toRgbImage } from '../../yolos/image-input.ts';

/** The element with this id (throws if the page lacks it: a typo, not a runtime condition). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no element #${id}`);
  return el as T;
}

/**
 * Starts the engine on navigator.gpu; shows the adapter in the header. Without WebGPU it shows what
 * is missing and how to enable it, and returns null.
 */
export async function startEngine(): Promise<Engine | null> {
  const status = byId('gpu-status');
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    showNoWebGPU(
      window.isSecureContext
        ? 'This browser has no WebGPU: <code>navigator.gpu</code> is undefined.'
        : `This page is not a secure context (${location.protocol}//${location.host}), and browsers only offer WebGPU to secure contexts.`,
    );
    return null;
  }
  try {
    const engine = await init();
    status.textContent = describeAdapterOf(engine);
    status.title = status.textContent;
    byId('app').hidden = false;
    return engine;
  } catch (e) {
    showNoWebGPU(`WebGPU is present but gave no usable device: ${escapeHtml((e as Error).message)}`);
    return null;
  }
}

function showNoWebGPU(reason: string): void {
  byId('gpu-status').textContent = 'no WebGPU';
  const box = byId('no-webgpu');
  box.hidden = false;
  box.innerHTML = `
    <h1>WebGPU is not available</h1>
    <p>${reason}</p>
    <p>These pages run a deep-learning engine on WebGPU (WGSL compute shaders); there is no CPU fallback. To use them:</p>
    <ul>
      <li><b>Chrome or Edge 113+</b> on Windows, macOS and ChromeOS have WebGPU on by default.
        On <b>Linux</b>, enable <code>chrome://flags/#enable-unsafe-webgpu</code> and <code>chrome://flags/#enable-vulkan</code>
        (or start Chrome with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>), then restart it.</li>
      <li><b>Firefox</b> 141+ on Windows has WebGPU; elsewhere use Firefox Nightly or set <code>dom.webgpu.enabled</code> in <code>about:config</code>.</li>
      <li><b>Safari</b> 26 has WebGPU; on Safari 18 enable Develop → Feature Flags → WebGPU.</li>
      <li>Open the page from <code>https://</code> or <code>http://localhost</code> (WebGPU needs a secure context; <code>file://</code> cannot load the modules).</li>
      <li>No GPU? Chromium runs WebGPU on its software renderer:
        <code>chromium --enable-unsafe-webgpu --enable-features=Vulkan --use-vulkan=swiftshader --use-webgpu-adapter=swiftshader</code> (slow, but it works).</li>
    </ul>
    <p>Check what your browser offers at <code>chrome://gpu</code> (Chrome) or <code>about:support</code> (Firefox).</p>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** Offers `bytes` as a file download. */
export function download(bytes: Uint8Array, name: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Decodes an image file (PNG, JPEG, WebP…) to 8-bit RGBA the way the library and CLI do
 * (yolos/image-input.ts: EXIF orientation applied, colour profiles ignored, PIL's pixel cap).
 */
export async function decodeImage(file: Blob): Promise<RgbImage> {
  return toRgbImage(file);
}

/** A [3, H, W] float image in [0, 1] as RGBA, each pixel repeated `up`×`up` times. */
export function chwToRgba(image: Float32Array, h: number, w: number, up = 1): RgbImage {
  const W = w * up,
    H = h * up;
  const data = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const s = Math.floor(y / up) * w + Math.floor(x / up),
        d = (y * W + x) * 4;
      data[d] = image[s] * 255;
      data[d + 1] = image[h * w + s] * 255;
      data[d + 2] = image[2 * h * w + s] * 255;
      data[d + 3] = 255;
    }
  }
  return { width: W, height: H, data, channels: 4 };
}

/** RGBA nearest-neighbour upscale by an integer factor (small images get legible labels). */
export function upscale(img: RgbImage, up: number): RgbImage {
  if (up === 1 && (img.channels ?? 4) === 4) return { ...img, data: new Uint8ClampedArray(img.data) };
  const c = img.channels ?? (img.data.length === img.width * img.height * 3 ? 3 : 4);
  const W = img.width * up,
    H = img.height * up;
  const data = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const s = (Math.floor(y / up) * img.width + Math.floor(x / up)) * c,
        d = (y * W + x) * 4;
      data[d] = img.data[s];
      data[d + 1] = img.data[s + 1];
      data[d + 2] = img.data[s + 2];
      data[d + 3] = 255;
    }
  }
  return { width: W, height: H, data, channels: 4 };
}

/** Detections with boxes multiplied by `k`. */
export function scaleDetections(dets: Detection[], k: number): Detection[] {
  return dets.map((d) => ({ ...d, box: d.box.map((v) => v * k) as Detection['box'] }));
}

/**
 * Paints `img` on `canvas` with `dets` (boxes in the image's pixels) and optional ground-truth
 * boxes in white; images smaller than `minSide` are enlarged first so the labels stay legible.
 */
export function paint(
  canvas: HTMLCanvasElement,
  img: RgbImage,
  dets: Detection[],
  opts: { minSide?: number; truth?: [number, number, number, number][] } = {},
): void {
  const up = Math.max(1, Math.ceil((opts.minSide ?? 0) / Math.max(img.width, img.height)));
  const big = upscale(img, up);
  for (const b of opts.truth ?? []) drawRect(big, [b[0] * up, b[1] * up, b[2] * up, b[3] * up], [255, 255, 255], 1);
  drawDetections(big, scaleDetections(dets, up));
  canvas.width = big.width;
  canvas.height = big.height;
  canvas.getContext('2d')!.putImageData(new ImageData(big.data as Uint8ClampedArray<ArrayBuffer>, big.width, big.height), 0, 0);
}

export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(digits);
}

export function fmtMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`;
}
