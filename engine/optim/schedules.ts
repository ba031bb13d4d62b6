/**
 * Learning-rate schedules as pure functions of the step (0-based): call one before each
 * `opt.step()`, e.g. `opt.setLr(warmupCosine(step, { warmup: 500, total: 10_000, base: 1e-3 }))`.
 */

/** base · step / warmup during the warm-up (0 at step 0), then base. */
export function linearWarmup(step: number, { warmup, base }: { warmup: number; base: number }): number {
  if (step < warmup) return (base * step) / warmup;
  return base;
}

/**
 * Cosine decay from base (step 0) to min (step ≥ total):
 * min + (base − min) · ½(1 + cos(π · step / total)).
 */
export function cosine(step: number, { total, base, min = 0 }: { total: number; base: number; min?: number }): number {
  if (total <= 0 || step >= total) return min;
  return min + (base - min) * 0.5 * (1 + Math.cos((Math.PI * Math.max(0, step)) / total));
}

/** base · gamma^⌊step / stepSize⌋ (PyTorch's StepLR). */
export function stepDecay(step: number, { base, stepSize, gamma = 0.1 }: { base: number; stepSize: number; gamma?: number }): number {
  return base * gamma ** Math.floor(Math.max(0, step) / stepSize);
}

/**
 * Linear warm-up to base over `warmup` steps, then cosine decay to `min` at `total` (the schedule of
 * DeiT/YOLOS; with min 0 it is Hugging Face's get_cosine_schedule_with_warmup).
 * @example warmupCosine(0, { warmup: 10, total: 110, base: 1 }) // 0; step 10 → 1; step 60 → 0.5; step 110 → 0
 */
export function warmupCosine(
  step: number,
  { warmup, total, base, min = 0 }: { warmup: number; total: number; base: number; min?: number },
): number {
  if (step < warmup) return linearWarmup(step, { warmup, base });
  return cosine(step - warmup, { total: total - warmup, base, min });
}
