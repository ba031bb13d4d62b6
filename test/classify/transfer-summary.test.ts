/** The transfer experiment's summary maths, and that models/transfer.json agrees with its own runs. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { spread, summarizeArms, type TransferRun } from '../../yolos/classify/transfer-summary.ts';

describe('transfer summary', () => {
  it('gives mean and sample standard deviation per arm', () => {
    expect(spread([1, 2, 3])).toEqual({ mean: 2, std: 1, min: 1, max: 3 });
    expect(spread([5])).toEqual({ mean: 5, std: 0, min: 5, max: 5 });
    expect(() => spread([])).toThrow('spread: no values');
    const run = (arm: TransferRun['arm'], seed: number, AP: number): TransferRun => ({
      arm,
      seed,
      AP,
      AP50: 2 * AP,
      AP75: 0,
      finalLoss: 1,
      trainSeconds: 1,
    });
    const s = summarizeArms([run('pretrained', 0, 0.1), run('scratch', 0, 0.3), run('pretrained', 1, 0.3)]);
    expect(s.pretrained.seeds).toEqual([0, 1]);
    expect(s.pretrained.AP.mean).toBeCloseTo(0.2);
    expect(s.scratch.AP50.mean).toBeCloseTo(0.6);
  });

  it('models/transfer.json: ≥ 3 seeds per arm, the same seeds and recipe for both, the summary recomputes from the runs', () => {
    const doc = JSON.parse(readFileSync(new URL('../../models/transfer.json', import.meta.url), 'utf8'));
    const runs = doc.runs as TransferRun[];
    const seeds = (arm: string) =>
      runs
        .filter((r) => r.arm === arm)
        .map((r) => r.seed)
        .sort();
    expect(seeds('pretrained').length).toBeGreaterThanOrEqual(3);
    expect(seeds('scratch')).toEqual(seeds('pretrained'));
    expect(doc.summary).toEqual(JSON.parse(JSON.stringify(summarizeArms(runs))));
  });
});
