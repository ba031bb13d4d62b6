/** Training output: a one-line progress bar, the metrics JSONL log and the loss curve as SVG. */
import { appendFile } from 'node:fs/promises';
import { describeFsError } from './files-node.ts';

export interface StepRecord {
  step: number;
  loss: number;
  lossCe: number;
  lossBbox: number;
  lossGiou: number;
  classError?: number;
  lr: number;
  imagesPerSec: number;
  seconds: number;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** `step 120/8000 [====>      ] loss 1.234 lr 5.0e-4 42.1 img/s ETA 3m12s` on one rewritten line (TTY) or a line per call. */
export class ProgressBar {
  private last = 0;
  constructor(
    private total: number,
    private stream: NodeJS.WriteStream = process.stderr,
    private width = 24,
  ) {}

  setTotal(total: number): void {
    this.total = total;
  }

  update(r: StepRecord, force = false): void {
    const now = Date.now();
    if (!force && this.stream.isTTY && now - this.last < 100) return;
    this.last = now;
    const frac = Math.min(1, (r.step + 1) / this.total);
    const filled = Math.round(frac * this.width);
    const bar = '='.repeat(Math.max(0, filled - 1)) + (filled ? '>' : '') + ' '.repeat(this.width - filled);
    const eta = ((this.total - r.step - 1) * r.seconds) / Math.max(1, r.step + 1);
    const line = `step ${r.step + 1}/${this.total} [${bar}] loss ${r.loss.toFixed(4)} lr ${r.lr.toExponential(1)} ${r.imagesPerSec.toFixed(1)} img/s ETA ${fmtTime(eta)}`;
    if (this.stream.isTTY) this.stream.write(`\r${line}\x1b[K`);
    else this.stream.write(`${line}\n`);
  }

  done(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}

/** Appends one JSON line; an error names the file. (One short write: a crash tears at most this line, which a resume drops.) */
export async function appendJsonl(path: string, record: object): Promise<void> {
  try {
    await appendFile(path, `${JSON.stringify(record)}\n`);
  } catch (e) {
    throw new Error(`cannot append to '${path}': ${describeFsError(e)}`);
  }
}

/** A line chart of loss against step, smoothed by a running mean, as a standalone SVG. */
export function lossCurveSvg(history: { step: number; loss: number }[], title = 'training loss'): string {
  const W = 640,
    H = 360,
    L = 56,
    R = 16,
    T = 32,
    B = 40;
  const pts = history.filter((h) => Number.isFinite(h.loss));
  const smooth: [number, number][] = [];
  const k = Math.max(1, Math.floor(pts.length / 200));
  for (let i = 0; i < pts.length; i += k) {
    const win = pts.slice(Math.max(0, i - 4 * k), i + 1);
    smooth.push([pts[i].step, win.reduce((a, b) => a + b.loss, 0) / win.length]);
  }
  const xs = smooth.map((p) => p[0]),
    ys = smooth.map((p) => p[1]);
  const x0 = Math.min(...xs, 0),
    x1 = Math.max(...xs, 1),
    y0 = Math.min(...ys, 0),
    y1 = Math.max(...ys, 1e-9);
  const sx = (x: number) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const sy = (y: number) => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
  const path = smooth.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => y0 + f * (y1 - y0));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#444"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#444"/>
${ticks.map((t) => `<text x="${L - 6}" y="${sy(t) + 4}" text-anchor="end">${t.toFixed(2)}</text><line x1="${L}" y1="${sy(t)}" x2="${W - R}" y2="${sy(t)}" stroke="#eee"/>`).join('\n')}
<text x="${L}" y="${H - B + 16}">${x0}</text><text x="${W - R}" y="${H - B + 16}" text-anchor="end">${x1}</text>
<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">step</text>
<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="2"/>
</svg>
`;
}
