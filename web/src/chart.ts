/** A small loss chart on a canvas: each step's loss (light) and its moving average (dark). */

export function drawLossChart(canvas: HTMLCanvasElement, points: { step: number; loss: number }[], avgOver = 20): void {
  const losses = points.map((p) => p.loss);
  const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  const cssW = canvas.clientWidth || canvas.width, cssH = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(cssW * dpr)) { canvas.width = Math.round(cssW * dpr); canvas.height = Math.round(cssH * dpr); }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  const L = 52, R = 12, T = 10, B = 26;
  const w = cssW - L - R, h = cssH - T - B;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#667085';
  ctx.strokeStyle = '#e3e6ec';
  if (losses.length === 0) {
    ctx.fillText('the loss of each step appears here', L + 8, T + h / 2);
    return;
  }
  const finite = losses.filter(Number.isFinite);
  const lo = Math.min(0, ...finite), hi = Math.max(...finite) * 1.05 || 1;
  const s0 = points[0].step, s1 = Math.max(points[points.length - 1].step, s0 + 1);
  const X = (i: number) => L + ((points[i].step - s0) / (s1 - s0)) * w;
  const XS = (step: number) => L + ((step - s0) / (s1 - s0)) * w;
  const Y = (v: number) => T + h - ((v - lo) / (hi - lo)) * h;
  // grid and labels
  ctx.lineWidth = 1;
  for (const v of ticks(lo, hi, 5)) {
    ctx.beginPath(); ctx.moveTo(L, Y(v)); ctx.lineTo(L + w, Y(v)); ctx.stroke();
    ctx.fillText(v.toFixed(v < 10 ? 1 : 0), 8, Y(v) + 4);
  }
  for (const s of ticks(s0, s1, 6)) {
    if (XS(s) < L + w - 40) ctx.fillText(String(Math.round(s)), XS(s) - 8, T + h + 16);
  }
  ctx.fillText('step', L + w - 26, T + h + 16);
  // raw losses
  ctx.strokeStyle = '#a9c2f0';
  ctx.beginPath();
  losses.forEach((v, i) => (i ? ctx.lineTo(X(i), Y(v)) : ctx.moveTo(X(i), Y(v))));
  ctx.stroke();
  // moving average
  ctx.strokeStyle = '#1d4fb3';
  ctx.lineWidth = 2;
  ctx.beginPath();
  let sum = 0;
  losses.forEach((v, i) => {
    sum += v;
    if (i >= avgOver) sum -= losses[i - avgOver];
    const avg = sum / Math.min(i + 1, avgOver);
    if (i) ctx.lineTo(X(i), Y(avg)); else ctx.moveTo(X(i), Y(avg));
  });
  ctx.stroke();
}

/** About `count` round tick values between lo and hi. */
function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(v);
  return out;
}
