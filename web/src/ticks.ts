/**
 * "Nice" axis ticks: a step of 1, 2 or 5 × 10^k, an axis that starts and ends on a tick, and
 * labels with exactly the decimals the step needs (pure: the chart and its unit test share it).
 */

export interface Ticks {
  /** The axis range, widened to whole steps around the data. */
  lo: number;
  hi: number;
  step: number;
  values: number[];
  /** `values` as text: as many decimals as the step has (0.05 → "0.05", 2 → "2"). */
  labels: string[];
}

/**
 * About `count` ticks covering [lo, hi]. `integer` keeps the step ≥ 1 (an axis of steps has no
 * step 497.5). An empty range (lo = hi) gets one step around it.
 */
export function niceTicks(lo: number, hi: number, count: number, opts: { integer?: boolean } = {}): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) throw new Error(`niceTicks: expected finite lo ≤ hi, got [${lo}, ${hi}]`);
  if (!(count >= 1)) throw new Error(`niceTicks: expected count ≥ 1, got ${count}`);
  const raw = (hi - lo || Math.abs(lo) || 1) / count;
  const k = Math.floor(Math.log10(raw));
  let m = [1, 2, 5, 10].find((f) => f * 10 ** k >= raw * (1 - 1e-9))!;
  let exp = k;
  if (m === 10) {
    m = 1;
    exp = k + 1;
  }
  if (opts.integer && exp < 0) {
    m = 1;
    exp = 0;
  }
  const decimals = Math.max(0, -exp);
  const step = Number((m * 10 ** exp).toFixed(decimals));
  // ticks as integer multiples of the step (no accumulated 0.30000000000000004)
  const first = Math.floor(lo / step + 1e-9),
    last = Math.max(Math.ceil(hi / step - 1e-9), first + 1);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(Number((i * step).toFixed(decimals)));
  return { lo: values[0], hi: values[values.length - 1], step, values, labels: values.map((v) => (v === 0 ? 0 : v).toFixed(decimals)) };
}
