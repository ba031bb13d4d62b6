/** A small loss chart on a canvas: each step's loss (light) and its moving average (dark). */
import { niceTicks } from './ticks.ts';

export function drawLossChart(canvas: HTMLCanvasElement, points: { step: number; loss: number }[], avgOver = 20): void {
  const losses = points.map((p) => p.loss);
  const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  const cssW = canvas.clientWidth || canvas.width,
    cssH = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(cssW * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  const L = 52,
    R = 12,
    T = 10,
    B = 26;
  const w = cssW - L - R,
    h = cssH - T - B;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#667085';
  ctx.strokeStyle = '#e3e6ec';
  if (losses.length === 0) {
    ctx.fillText('the loss of each step appears here', L + 8, T + h / 2);
    return;
  }
  const finite = losses.filter(Number.isFinite);
  const yAxis = niceTicks(Math.min(0, ...finite), Math.max(0, ...finite), 5);
  const lo = yAxis.lo,
    hi = yAxis.hi;
  const s0 = points[0].step,
    s1 = Math.max(points[points.length - 1].step, s0 + 1);
  const X = (i: number) => L + ((points[i].step - s0) / (s1 - s0)) * w;
  const XS = (step: number) => L + ((step - s0) / (s1 - s0)) * w;
  const Y = (v: number) => T + h - ((v - lo) / (hi - lo)) * h;
  // grid and labels (ticks of the step axis that fall outside the data are not drawn)
  ctx.lineWidth = 1;
  yAxis.values.forEach((v, i) => {
    ctx.beginPath();
    ctx.moveTo(L, Y(v));
    ctx.lineTo(L + w, Y(v));
    ctx.stroke();
    ctx.fillText(yAxis.labels[i], 8, Y(v) + 4);
  });
  const xAxis = niceTicks(s0, s1, 6, { integer: true });
  xAxis.values.forEach((s, i) => {
    if (s >= s0 && XS(s) < L + w - 40) ctx.fillText(xAxis.labels[i], XS(s) - 8, T + h + 16);
  });
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
    if (i) ctx.lineTo(X(i), Y(avg));
    else ctx.moveTo(X(i), Y(avg));
  });
  ctx.stroke();
}
