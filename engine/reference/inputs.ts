/**
 * The one seeded input generator (mulberry32): test, playground and benchmark inputs are drawn here,
 * per operand, from a named domain. Values come back in f64; `roundTo` gives what a tensor of that
 * dtype holds, so the reference runs on exactly the GPU's inputs.
 */
import { mulberry32 } from '../prng.ts';
import { roundToF16 } from '../dtype.ts';

/** Where an operand's values come from. */
export type Domain =
  | { kind: 'uniform'; lo: number; hi: number }
  /** Standard normal (Box–Muller, one draw pair per value) times `std`. */
  | { kind: 'normal'; std?: number }
  /** |x| ∈ [lo, hi) with a random sign: away from the kink at 0. */
  | { kind: 'away'; lo: number; hi: number }
  /** Pairwise distinct (gaps ≥ half the grid step), shuffled: no ties for max/min. */
  | { kind: 'distinct'; lo: number; hi: number }
  /** offset + 0.2·k (k integer in [−8, 8]) + jitter ≤ 0.02: two offsets 0.1 apart never come within 0.06. */
  | { kind: 'grid'; offset: number }
  /** Integers in [lo, hi). */
  | { kind: 'integer'; lo: number; hi: number }
  | { kind: 'values'; values: readonly number[] }
  /** Valid boxes [..., 4], positions in [0, 1), sides in [0.3, 1): xyxy or cxcywh. */
  | { kind: 'boxes'; format: 'xyxy' | 'cxcywh' };

export const uniform = (lo: number, hi: number): Domain => ({ kind: 'uniform', lo, hi });
export const normal = (std = 1): Domain => ({ kind: 'normal', std });

/** n values of `domain` drawn from `next` (a mulberry32 stream, or a seed for a fresh one). */
export function drawValues(n: number, domain: Domain, next: (() => number) | number): Float64Array {
  const rnd = typeof next === 'number' ? mulberry32(next) : next;
  const g = domain;
  const out = new Float64Array(n);
  switch (g.kind) {
    case 'values':
      if (g.values.length !== n) throw new Error(`drawValues: ${g.values.length} values for ${n} elements`);
      out.set(g.values);
      break;
    case 'uniform':
      for (let i = 0; i < n; i++) out[i] = g.lo + (g.hi - g.lo) * rnd();
      break;
    case 'integer':
      for (let i = 0; i < n; i++) out[i] = g.lo + Math.floor((g.hi - g.lo) * rnd());
      break;
    case 'normal': {
      const std = g.std ?? 1;
      for (let i = 0; i < n; i++) {
        const u = Math.max(rnd(), 1e-12),
          v = rnd();
        out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      }
      break;
    }
    case 'away':
      for (let i = 0; i < n; i++) out[i] = (rnd() < 0.5 ? -1 : 1) * (g.lo + (g.hi - g.lo) * rnd());
      break;
    case 'distinct': {
      const step = (g.hi - g.lo) / n;
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let i = 0; i < n; i++) out[i] = g.lo + step * (order[i] + 0.5 + 0.5 * (rnd() - 0.5));
      break;
    }
    case 'boxes':
      for (let i = 0; i < n; i += 4) {
        const [x, y, w, h] = [rnd(), rnd(), 0.3 + 0.7 * rnd(), 0.3 + 0.7 * rnd()];
        out.set(g.format === 'xyxy' ? [x, y, x + w, y + h] : [x + w / 2, y + h / 2, w, h], i);
      }
      break;
    case 'grid':
      for (let i = 0; i < n; i++) out[i] = g.offset + 0.2 * (Math.floor(rnd() * 17) - 8) + 0.04 * (rnd() - 0.5);
      break;
  }
  return out;
}

/** The values a tensor of `dtype` stores (f32/f16 rounding; integers unchanged). */
export function roundTo(values: Float64Array, dtype: 'f32' | 'f16' | 'i32' | 'u32'): Float32Array | Int32Array | Uint32Array {
  if (dtype === 'i32') return Int32Array.from(values);
  if (dtype === 'u32') return Uint32Array.from(values);
  const f = Float32Array.from(values);
  return dtype === 'f16' ? roundToF16(f) : f;
}
