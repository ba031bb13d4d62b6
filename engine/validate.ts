/**
 * The one comparator (llm.c's `validate_result`): a result against its reference, element by element,
 * with a tolerance per element; it reports the worst element (relative to its tolerance) and the
 * first mismatches with their indices. Used by the tests (test/gpu/util.ts expectClose), the kernel
 * playground and the benchmarks.
 *
 * An element passes when |got − want| ≤ tol(i); a NaN reference needs a NaN, an infinite one the same
 * infinity (a tolerance cannot excuse a wrong infinity).
 */

/** |got − want| ≤ atol + rtol·|want| (+ bound[i], e.g. γ_K·Σ|a·b| for matmul). */
export interface Tolerance {
  atol?: number;
  rtol?: number;
  /** Per-element absolute bound, added to atol. */
  bound?: ArrayLike<number>;
}

/** A per-element tolerance, or atol/rtol/bound. */
export type ToleranceSpec = Tolerance | ((i: number) => number);

export interface Mismatch {
  index: number;
  got: number;
  want: number;
  err: number;
  tol: number;
}

export interface Validation {
  n: number;
  /** Elements outside tolerance, and whether there are none. */
  bad: number;
  pass: boolean;
  /** max |got − want| (Infinity where a NaN or infinity does not match). */
  maxAbs: number;
  /** max |err| / max(|want|, 1e-3·max|want|). */
  maxRel: number;
  /** The element worst against its tolerance: index, values and err/tol there. */
  worst: number;
  got: number;
  want: number;
  worstRatio: number;
  /** The first `maxMismatches` elements outside tolerance, in index order. */
  mismatches: Mismatch[];
}

/** tol(i) from atol/rtol/bound against `want`. */
export function toleranceOf(t: Tolerance, want: ArrayLike<number>): (i: number) => number {
  const atol = t.atol ?? 0,
    rtol = t.rtol ?? 0,
    bound = t.bound;
  return (i) => atol + rtol * Math.abs(want[i]) + (bound ? bound[i] : 0);
}

/** Compares `got` with `want` element by element; throws when their lengths differ. */
export function validate(got: ArrayLike<number>, want: ArrayLike<number>, tol: ToleranceSpec, maxMismatches = 8): Validation {
  if (got.length !== want.length) throw new Error(`validate: the result has ${got.length} elements, the reference ${want.length}`);
  const tolAt = typeof tol === 'function' ? tol : toleranceOf(tol, want);
  let refMax = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i])) refMax = Math.max(refMax, Math.abs(want[i]));
  const floor = Math.max(1e-3 * refMax, 1e-30);
  let maxAbs = 0,
    maxRel = 0,
    worst = -1,
    worstRatio = 0,
    bad = 0;
  const mismatches: Mismatch[] = [];
  for (let i = 0; i < want.length; i++) {
    const w = want[i],
      g = got[i];
    const same = (Number.isNaN(w) && Number.isNaN(g)) || w === g;
    // a NaN result, or a reference that is NaN or infinite, must match exactly
    const exactOnly = !same && (Number.isNaN(g) || !Number.isFinite(w));
    const err = same ? 0 : exactOnly ? Infinity : Math.abs(g - w);
    maxAbs = Math.max(maxAbs, err);
    if (err > 0) maxRel = Math.max(maxRel, err / (Number.isFinite(w) ? Math.max(Math.abs(w), floor) : floor));
    const t = err === 0 ? 0 : tolAt(i);
    const ratio = err === 0 ? 0 : exactOnly ? Infinity : err / t;
    if (err > 0 && (exactOnly || !(err <= t))) {
      bad++;
      if (mismatches.length < maxMismatches) mismatches.push({ index: i, got: g, want: w, err, tol: t });
    }
    if (ratio > worstRatio || worst < 0) {
      worstRatio = ratio;
      worst = i;
    }
  }
  return {
    n: want.length,
    bad,
    pass: bad === 0,
    maxAbs,
    maxRel,
    worst,
    got: got[worst] ?? NaN,
    want: want[worst] ?? NaN,
    worstRatio,
    mismatches,
  };
}

/** A failure report: the label, counts, the worst element and the first mismatches, one per line. */
export function describeValidation(v: Validation, label = ''): string {
  const head =
    `${label ? `${label}: ` : ''}${v.bad} of ${v.n} elements outside tolerance; max abs error ${v.maxAbs}, max rel ${v.maxRel}; ` +
    `worst [${v.worst}] got ${v.got}, want ${v.want} (${v.worstRatio.toExponential(2)}× its tolerance)`;
  return [head, ...v.mismatches.map((m) => `  [${m.index}] got ${m.got}, want ${m.want}, |diff| ${m.err}, tol ${m.tol}`)].join('\n');
}
