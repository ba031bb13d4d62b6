/** The transfer experiment's numbers (models/transfer.json): per-run results and their per-arm summary. */

export interface TransferRun {
  arm: 'pretrained' | 'scratch';
  seed: number;
  AP: number;
  AP50: number;
  AP75: number;
  /** Mean training loss over the last 50 steps. */
  finalLoss: number;
  trainSeconds: number;
}

/** Mean, sample standard deviation (n − 1; 0 for one run), min and max. */
export interface Spread {
  mean: number;
  std: number;
  min: number;
  max: number;
}

export function spread(xs: number[]): Spread {
  if (!xs.length) throw new Error('spread: no values');
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * Per arm: the seeds run and AP / AP50 as mean ± spread.
 * @example summarizeArms(runs).pretrained.AP50.mean
 */
export function summarizeArms(runs: TransferRun[]): Record<string, { seeds: number[]; AP: Spread; AP50: Spread }> {
  const out: Record<string, { seeds: number[]; AP: Spread; AP50: Spread }> = {};
  for (const arm of [...new Set(runs.map((r) => r.arm))]) {
    const mine = runs.filter((r) => r.arm === arm);
    out[arm] = { seeds: mine.map((r) => r.seed), AP: spread(mine.map((r) => r.AP)), AP50: spread(mine.map((r) => r.AP50)) };
  }
  return out;
}
