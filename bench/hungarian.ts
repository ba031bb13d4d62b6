/**
 * Benchmark: linear sum assignment, ours (`AssignmentSolver`, reused) vs `munkres-js`, with
 * SciPy 1.10 `linear_sum_assignment` figures (measured earlier on the project machine) for
 * reference.
 *
 *   npx tsx bench/hungarian.ts
 *
 * Prints a markdown table and writes `bench/results/hungarian-<hostname>.json`. Costs are
 * seeded uniform [0, 1). Times are the median µs per solve after warm-up; small problems are
 * timed in batches so that timer resolution does not matter.
 *
 * Set HUNGARIAN_BENCH_SCIPY=1 to also time the local SciPy (python3 + scipy) on the same
 * shapes and add a column; off by default so the bench needs nothing but Node.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AssignmentSolver } from '../hungarian/index.ts';
import { mulberry32 } from '../engine/prng.ts';

/** munkres-js is CommonJS without types: `module.exports = (matrix: number[][]) => [row, col][]`. */
type MunkresFn = (matrix: number[][]) => [number, number][];
const munkres = createRequire(import.meta.url)('munkres-js') as MunkresFn;

export interface Row {
  shape: string;
  nRows: number;
  nCols: number;
  /** Median µs per solve, `AssignmentSolver.solve` reused across the batch. */
  oursUs: number;
  /** 10th and 90th percentile of the per-sample µs: the spread (this VM is noisy). */
  oursP10Us: number;
  oursP90Us: number;
  oursSolves: number;
  /** Median µs per solve of munkres-js, or null when skipped. */
  munkresUs: number | null;
  munkresNote: string;
  /** SciPy 1.10 reference figure(s), µs, as measured on the project machine. */
  scipy110Us: string;
  /** ours / SciPy 1.10 (midpoint of the range). */
  oursOverScipy110: number;
  /** Local SciPy median µs when HUNGARIAN_BENCH_SCIPY=1, else null. */
  scipyLocalUs: number | null;
  /** Our total cost equals munkres-js's (when it ran). */
  sameOptimum: boolean | null;
}

interface Case {
  nRows: number;
  nCols: number;
  scipy110: [number, number];
}

const CASES: Case[] = [
  { nRows: 100, nCols: 5, scipy110: [3.8, 3.8] },
  { nRows: 100, nCols: 20, scipy110: [14, 16] },
  { nRows: 100, nCols: 100, scipy110: [310, 330] },
  { nRows: 300, nCols: 50, scipy110: [103, 109] },
  { nRows: 1000, nCols: 1000, scipy110: [55_000, 99_000] },
];

/** munkres-js runs longer than this (estimated) are skipped. */
const MUNKRES_BUDGET_S = 20;
const POOL = 8; // distinct matrices per shape, cycled

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

function fmt(us: number): string {
  if (us >= 1000) return Math.round(us).toLocaleString('en-US').replace(/,/g, ' ');
  if (us >= 100) return us.toFixed(0);
  if (us >= 10) return us.toFixed(1);
  return us.toFixed(2);
}

function timeOurs(pool: Float64Array[], nRows: number, nCols: number): { us: number; p10: number; p90: number; solves: number } {
  const solver = new AssignmentSolver();
  // Warm-up: ≥ 0.5 s and ≥ 3 solves, so that V8 has tiered up to optimised code (and the
  // workspaces have grown) before anything is measured.
  let t0 = performance.now();
  let warm = 0;
  while (warm < 3 || performance.now() - t0 < 500) solver.solve(pool[warm++ % POOL], nRows, nCols);
  // Per-solve estimate from a short steady-state run, to size the batches.
  t0 = performance.now();
  let n = 0;
  while (n < 2 || performance.now() - t0 < 50) solver.solve(pool[n++ % POOL], nRows, nCols);
  const estUs = ((performance.now() - t0) * 1000) / n;
  // Batches of ≥ ~2 ms each; ~25 samples, at most ~3 s in all.
  const batch = Math.max(1, Math.round(2000 / estUs));
  const samples = Math.max(7, Math.min(25, Math.floor(3e6 / (estUs * batch))));
  const perSolve: number[] = [];
  let k = 0;
  for (let s = 0; s < samples; s++) {
    const t = performance.now();
    for (let b = 0; b < batch; b++) solver.solve(pool[k++ % POOL], nRows, nCols);
    perSolve.push(((performance.now() - t) * 1000) / batch);
  }
  return { us: median(perSolve), p10: percentile(perSolve, 0.1), p90: percentile(perSolve, 0.9), solves: samples * batch };
}

/**
 * Median µs of munkres-js after one warm-up run: ≥ 3 runs, more while under ~2 s (max 15).
 * `single`: one cold run only (for multi-second problems).
 */
function timeMunkres(nested: number[][][], single: boolean): { us: number; runs: number; first: [number, number][] } {
  if (single) {
    const t = performance.now();
    const first = munkres(nested[0]);
    return { us: (performance.now() - t) * 1000, runs: 1, first };
  }
  const first = munkres(nested[0]);
  const times: number[] = [];
  const t0 = performance.now();
  for (let k = 0; k < 15 && (k < 3 || performance.now() - t0 < 2000); k++) {
    const t = performance.now();
    munkres(nested[k % nested.length]);
    times.push((performance.now() - t) * 1000);
  }
  return { us: median(times), runs: times.length, first };
}

function toNested(m: Float64Array, nRows: number, nCols: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < nRows; r++) out.push(Array.from(m.subarray(r * nCols, (r + 1) * nCols)));
  return out;
}

/** Optional: local SciPy timings (median µs) per case, or null if python3/scipy is missing. */
function timeLocalScipy(cases: Case[]): (number | null)[] {
  const shapes = JSON.stringify(cases.map((c) => [c.nRows, c.nCols]));
  const code = `
import json, time, numpy as np
from scipy.optimize import linear_sum_assignment as lsa
rng = np.random.default_rng(0); out = []
for n, m in json.loads('${shapes}'):
    pool = [rng.random((n, m)) for _ in range(${POOL})]
    for M in pool: lsa(M)
    ts = []; t0 = time.perf_counter(); k = 0
    while k < 20 or (time.perf_counter() - t0 < 1.5 and k < 5000):
        M = pool[k % ${POOL}]; t = time.perf_counter(); lsa(M); ts.append(time.perf_counter() - t); k += 1
    out.append(float(np.median(ts)) * 1e6)
print(json.dumps(out))
`;
  const res = spawnSync('python3', ['-c', code], { encoding: 'utf8', timeout: 180_000 });
  if (res.status !== 0) {
    console.warn(`local SciPy timing unavailable: ${(res.stderr || String(res.error)).trim().split('\n').pop()}`);
    return cases.map(() => null);
  }
  return JSON.parse(res.stdout.trim().split('\n').pop() ?? '[]') as number[];
}

function costOf(m: Float64Array, nCols: number, pairs: Iterable<[number, number]>): number {
  let s = 0;
  for (const [r, c] of pairs) s += m[r * nCols + c];
  return s;
}

/** Runs the benchmark, prints the table, writes the JSON, and returns the rows. */
export async function runHungarianBench(): Promise<Row[]> {
  const rows: Row[] = [];
  const scipyLocal = process.env.HUNGARIAN_BENCH_SCIPY === '1' ? timeLocalScipy(CASES) : CASES.map(() => null);
  // Last measured munkres-js run: padded size and µs, for extrapolating the next one.
  let lastMunkres: { n: number; us: number } | null = null;

  for (const [ci, c] of CASES.entries()) {
    const { nRows, nCols } = c;
    const rnd = mulberry32(1000 + ci);
    const pool = Array.from({ length: POOL }, () => {
      const m = new Float64Array(nRows * nCols);
      for (let k = 0; k < m.length; k++) m[k] = rnd();
      return m;
    });
    const ours = timeOurs(pool, nRows, nCols);

    // munkres-js pads to a square of side max(nRows, nCols); its cost grows at least cubically.
    const n = Math.max(nRows, nCols);
    let munkresUs: number | null = null;
    let munkresNote = '';
    let sameOptimum: boolean | null = null;
    const estS = lastMunkres ? (lastMunkres.us * (n / lastMunkres.n) ** 3) / 1e6 : 0;
    if (estS > MUNKRES_BUDGET_S) {
      munkresNote = `skipped (est. > ${Math.floor(estS)} s, n³ extrapolation from ${lastMunkres!.n}×${lastMunkres!.n} padded)`;
    } else {
      const nested = pool.slice(0, 3).map((m) => toNested(m, nRows, nCols));
      const m = timeMunkres(nested, estS > 2);
      munkresUs = m.us;
      if (m.runs === 1) munkresNote = 'single run';
      else if (m.runs < 15) munkresNote = `median of ${m.runs} runs`;
      lastMunkres = { n, us: munkresUs };
      const theirs = costOf(pool[0], nCols, m.first);
      const r = new AssignmentSolver().solve(pool[0], nRows, nCols);
      const mine = costOf(
        pool[0],
        nCols,
        Array.from(r.rowInd, (row, k): [number, number] => [row, r.colInd[k]]),
      );
      sameOptimum = Math.abs(mine - theirs) <= 1e-9 * Math.max(1, Math.abs(theirs));
    }

    const mid = (c.scipy110[0] + c.scipy110[1]) / 2;
    rows.push({
      shape: `${nRows}×${nCols}`,
      nRows,
      nCols,
      oursUs: ours.us,
      oursP10Us: ours.p10,
      oursP90Us: ours.p90,
      oursSolves: ours.solves,
      munkresUs,
      munkresNote,
      scipy110Us: c.scipy110[0] === c.scipy110[1] ? fmt(c.scipy110[0]) : `${fmt(c.scipy110[0])}–${fmt(c.scipy110[1])}`,
      oursOverScipy110: ours.us / mid,
      scipyLocalUs: scipyLocal[ci] ?? null,
      sameOptimum,
    });
  }

  printTable(rows);
  const file = writeResults(rows);
  console.log(`\nwrote ${file}`);
  return rows;
}

function printTable(rows: Row[]): void {
  const withLocal = rows.some((r) => r.scipyLocalUs !== null);
  const head = [
    'shape',
    'ours µs (median)',
    'ours p10–p90',
    'munkres-js µs',
    'SciPy 1.10 µs',
    'ours / SciPy 1.10',
    ...(withLocal ? ['SciPy local µs'] : []),
    'munkres-js / ours',
  ];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const mk =
      r.munkresUs === null
        ? r.munkresNote
        : `${fmt(r.munkresUs)}${r.munkresNote ? ` (${r.munkresNote})` : ''}${r.sameOptimum === false ? ' ⚠ different optimum' : ''}`;
    const cells = [
      r.shape,
      fmt(r.oursUs),
      `${fmt(r.oursP10Us)}–${fmt(r.oursP90Us)}`,
      mk,
      r.scipy110Us,
      `${r.oursOverScipy110.toFixed(2)}×`,
      ...(withLocal ? [r.scipyLocalUs === null ? 'n/a' : fmt(r.scipyLocalUs)] : []),
      r.munkresUs === null ? '—' : `${(r.munkresUs / r.oursUs).toFixed(0)}×`,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log(
    '\nSeeded uniform [0, 1) costs; µs per solve, median over batches after ≥ 0.5 s warm-up. ' +
      'SciPy 1.10 = reference figures measured on the project machine (not re-run here). ' +
      'munkres-js pads to a max(n, m)² square, hence its cost on tall shapes.',
  );
}

function writeResults(rows: Row[]): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const host = (hostname() || 'cpu').replace(/[^A-Za-z0-9._-]/g, '_') || 'cpu';
  const file = join(dir, `hungarian-${host}.json`);
  const payload = {
    bench: 'hungarian',
    host: hostname() || 'cpu',
    node: process.version,
    date: new Date().toISOString(),
    unit: 'µs per solve (median)',
    rows,
  };
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}

// Run when executed directly (`npx tsx bench/hungarian.ts`), not when imported by a runner.
const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(realpathSync(invokedPath)).href) {
  await runHungarianBench();
}
