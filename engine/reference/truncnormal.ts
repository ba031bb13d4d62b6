/** CPU twin of ops/truncnormal.ts: the same Philox uniforms pushed through erfinv in f64. */
import { refErf } from '../ops/elementwise.table.ts';
import { refRand } from './random.ts';

export interface TruncatedNormalOptions {
  mean?: number;
  std?: number;
  /** Lower bound (absolute, not in units of std); default mean − 2·std. May be −Infinity. */
  a?: number;
  /** Upper bound (absolute); default mean + 2·std. May be +Infinity. */
  b?: number;
  seed?: number;
}

/**
 * The resolved options and the uniform range [lo, hi) = [erf(α/√2), erf(β/√2)) (α, β the
 * standardised bounds) that truncatedNormal pushes through erfinv. Shared by the op and this twin.
 */
export function truncatedNormalRange(opts: TruncatedNormalOptions): {
  mean: number;
  std: number;
  a: number;
  b: number;
  lo: number;
  hi: number;
} {
  const mean = opts.mean ?? 0,
    std = opts.std ?? 1;
  const a = opts.a ?? mean - 2 * std,
    b = opts.b ?? mean + 2 * std;
  if (!(std > 0) || !Number.isFinite(std) || !Number.isFinite(mean))
    throw new RangeError(`truncatedNormal: std must be positive and finite and mean finite, got mean ${mean}, std ${std}`);
  if (!(a < b)) throw new RangeError(`truncatedNormal: need a < b, got a = ${a}, b = ${b}`);
  const cdf2 = (x: number) => (x === Infinity ? 1 : x === -Infinity ? -1 : refErf((x - mean) / std / Math.SQRT2)); // 2Φ − 1
  const lo = cdf2(a),
    hi = cdf2(b);
  if (!(hi > lo))
    throw new RangeError(`truncatedNormal: [${a}, ${b}] holds no probability mass of N(${mean}, ${std}²) in double precision`);
  return { mean, std, a, b, lo, hi };
}

/** erfinv in f64: an initial guess refined by Newton steps on erf (quadratic convergence). */
export function refErfinv(y: number): number {
  if (y <= -1) return -Infinity;
  if (y >= 1) return Infinity;
  // Winitzki's closed-form guess (relative error < 2e-3), with w = −ln(1 − y²).
  const w = -Math.log((1 - y) * (1 + y));
  const t = 2 / (Math.PI * 0.147) - w / 2;
  let x = Math.sign(y) * Math.sqrt(Math.max(0, Math.sqrt(t * t + w / 0.147) - t));
  for (let k = 0; k < 50; k++) {
    const dx = (refErf(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
    x -= dx;
    if (Math.abs(dx) <= 1e-16 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

/**
 * What truncatedNormal(shape, opts) computes for `n` elements with an explicit seed, in f64. The
 * uniform range [lo, hi) is rounded to f32 as the GPU receives it (scale hi − lo and shift lo).
 */
export function refTruncatedNormal(n: number, opts: TruncatedNormalOptions & { seed: number }): Float64Array {
  const { mean, std, a, b, lo, hi } = truncatedNormalRange(opts);
  const scale = Math.fround(hi - lo),
    shift = Math.fround(lo);
  const lim = 1 - 2 ** -24;
  return refRand(n, opts.seed).map((u) => {
    const v = Math.min(lim, Math.max(-lim, u * scale + shift));
    return Math.min(b, Math.max(a, mean + std * Math.SQRT2 * refErfinv(v)));
  });
}
