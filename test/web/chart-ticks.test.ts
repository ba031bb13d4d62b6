import { describe, it, expect } from 'vitest';
import { niceTicks } from '../../web/src/ticks.ts';

const nice = (v: number) => {
  const m = v / 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5].some((f) => Math.abs(m - f) < 1e-9);
};

describe('niceTicks (the loss chart axes)', () => {
  it('a loss axis 0 … 6.75 reads 0 2 4 6 8: round values, the top on a tick', () => {
    const t = niceTicks(0, 6.75, 5);
    expect(t.values).toEqual([0, 2, 4, 6, 8]);
    expect(t.labels).toEqual(['0', '2', '4', '6', '8']);
    expect([t.lo, t.hi]).toEqual([0, 8]);
  });

  it('small steps keep their decimals and add no float noise', () => {
    const t = niceTicks(0, 0.31, 8);
    expect(t.step).toBe(0.05);
    expect(t.labels).toEqual(['0.00', '0.05', '0.10', '0.15', '0.20', '0.25', '0.30', '0.35']);
    expect(t.values).toContain(0.3); // not 0.30000000000000004
  });

  it('an axis of steps has integer ticks, even over 3 steps', () => {
    expect(niceTicks(497, 499, 6, { integer: true }).labels).toEqual(['497', '498', '499']);
    expect(niceTicks(0, 9, 6, { integer: true }).values).toEqual([0, 2, 4, 6, 8, 10]);
  });

  it('every step is 1, 2 or 5 × 10^k over many ranges; the ticks cover the range', () => {
    for (const [lo, hi] of [
      [0, 2.625],
      [1.7, 8.3],
      [0, 12_000],
      [-3, 0.4],
      [0.001, 0.0042],
      [5, 5],
      [2.3, 2.5],
    ]) {
      const t = niceTicks(lo, hi, 5);
      expect(nice(t.step), `step ${t.step} for [${lo}, ${hi}]`).toBe(true);
      expect(t.lo).toBeLessThanOrEqual(lo);
      expect(t.hi).toBeGreaterThanOrEqual(hi);
      expect(t.values.length).toBeGreaterThanOrEqual(2);
      expect(t.values.length).toBeLessThanOrEqual(12);
      for (const v of t.values) expect(Math.abs(v / t.step - Math.round(v / t.step))).toBeLessThan(1e-9); // multiples of the step
    }
  });

  it('bad ranges are an error naming what was expected', () => {
    expect(() => niceTicks(Number.NaN, 1, 5)).toThrow(/finite lo ≤ hi/);
    expect(() => niceTicks(2, 1, 5)).toThrow(/\[2, 1\]/);
  });
});
