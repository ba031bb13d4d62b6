import { describe, it, expect } from 'vitest';
import { AssignmentSolver, linearSumAssignment } from '../../hungarian/index.ts';
import type { AssignmentResult } from '../../hungarian/index.ts';
import { mulberry32 } from '../../engine/prng.ts';

// ---------------------------------------------------------------------------------------------
// Helpers (all independent of the solver under test)
// ---------------------------------------------------------------------------------------------

type Gen = (rnd: () => number) => number;
const uniform: Gen = (rnd) => rnd();
const smallInt: Gen = (rnd) => Math.floor(rnd() * 4); // 0..3: many ties
const negative: Gen = (rnd) => (rnd() < 0.5 ? Math.floor(rnd() * 11) - 5 : rnd() * 2 - 1); // ints and floats in [-5, 5]

function randomMatrix(nRows: number, nCols: number, rnd: () => number, gen: Gen): Float64Array {
  const m = new Float64Array(nRows * nCols);
  for (let k = 0; k < m.length; k++) m[k] = gen(rnd);
  return m;
}

function totalCost(cost: ArrayLike<number>, nCols: number, res: AssignmentResult): number {
  let s = 0;
  for (let k = 0; k < res.rowInd.length; k++) s += cost[res.rowInd[k] * nCols + res.colInd[k]];
  return s;
}

/** Checks the shape of a result: min(r, c) pairs, rows strictly increasing, distinct in-range columns. */
function expectValidAssignment(res: AssignmentResult, nRows: number, nCols: number): void {
  const k = Math.min(nRows, nCols);
  expect(res.rowInd).toBeInstanceOf(Int32Array);
  expect(res.colInd).toBeInstanceOf(Int32Array);
  expect(res.rowInd.length).toBe(k);
  expect(res.colInd.length).toBe(k);
  const usedCols = new Set<number>();
  for (let t = 0; t < k; t++) {
    const r = res.rowInd[t];
    const c = res.colInd[t];
    expect(r >= 0 && r < nRows).toBe(true);
    expect(c >= 0 && c < nCols).toBe(true);
    if (t > 0) expect(r).toBeGreaterThan(res.rowInd[t - 1]); // sorted and distinct
    usedCols.add(c);
  }
  expect(usedCols.size).toBe(k);
}

/**
 * Minimum total over every injection of the short side into the long side, by exhaustive DFS
 * (no pruning, so negative costs are fine). +Infinity if every injection hits a +Infinity.
 */
function bruteForceMin(cost: ArrayLike<number>, nRows: number, nCols: number): number {
  const tall = nRows > nCols;
  const nShort = tall ? nCols : nRows;
  const nLong = tall ? nRows : nCols;
  const at = (s: number, l: number): number => (tall ? cost[l * nCols + s] : cost[s * nCols + l]);
  const used = new Uint8Array(nLong);
  let best = Infinity;
  const dfs = (s: number, acc: number): void => {
    if (s === nShort) {
      if (acc < best) best = acc;
      return;
    }
    for (let l = 0; l < nLong; l++) {
      if (used[l]) continue;
      used[l] = 1;
      dfs(s + 1, acc + at(s, l));
      used[l] = 0;
    }
  };
  dfs(0, 0);
  return best;
}

/** Number of injections of min(r,c) items into max(r,c) slots. */
function injections(nRows: number, nCols: number): number {
  const a = Math.max(nRows, nCols);
  let p = 1;
  for (let k = 0; k < Math.min(nRows, nCols); k++) p *= a - k;
  return p;
}

/**
 * Independent reference: the classic Munkres (Kuhn–Munkres) algorithm with row/column
 * reduction, starred/primed zeros and covering lines — O(n⁴) as written. Rectangular inputs are
 * padded with zeros to a square. Returns the optimal total of the original matrix.
 */
function munkresReferenceCost(cost: ArrayLike<number>, nRows: number, nCols: number): number {
  const n = Math.max(nRows, nCols);
  const C = new Float64Array(n * n);
  for (let r = 0; r < nRows; r++) for (let c = 0; c < nCols; c++) C[r * n + c] = cost[r * nCols + c];
  // Step 1: row and column reduction.
  for (let r = 0; r < n; r++) {
    let m = Infinity;
    for (let c = 0; c < n; c++) m = Math.min(m, C[r * n + c]);
    for (let c = 0; c < n; c++) C[r * n + c] -= m;
  }
  for (let c = 0; c < n; c++) {
    let m = Infinity;
    for (let r = 0; r < n; r++) m = Math.min(m, C[r * n + c]);
    for (let r = 0; r < n; r++) C[r * n + c] -= m;
  }
  const STAR = 1;
  const PRIME = 2;
  const mark = new Uint8Array(n * n);
  const rowCov = new Uint8Array(n);
  const colCov = new Uint8Array(n);
  // Step 2: star independent zeros.
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (C[r * n + c] === 0 && !rowCov[r] && !colCov[c]) {
        mark[r * n + c] = STAR;
        rowCov[r] = 1;
        colCov[c] = 1;
      }
    }
  }
  rowCov.fill(0);
  colCov.fill(0);
  const findInRow = (r: number, kind: number): number => {
    for (let c = 0; c < n; c++) if (mark[r * n + c] === kind) return c;
    return -1;
  };
  const findInCol = (c: number, kind: number): number => {
    for (let r = 0; r < n; r++) if (mark[r * n + c] === kind) return r;
    return -1;
  };
  for (;;) {
    // Step 3: cover every column holding a starred zero; done when all n are covered.
    let covered = 0;
    for (let c = 0; c < n; c++) {
      colCov[c] = findInCol(c, STAR) >= 0 ? 1 : 0;
      covered += colCov[c];
    }
    if (covered === n) break;
    // Step 4: prime uncovered zeros until one has no star in its row.
    let pr = -1;
    let pc = -1;
    while (pr < 0) {
      let zr = -1;
      let zc = -1;
      for (let r = 0; r < n && zr < 0; r++) {
        if (rowCov[r]) continue;
        for (let c = 0; c < n; c++) {
          if (!colCov[c] && C[r * n + c] === 0) {
            zr = r;
            zc = c;
            break;
          }
        }
      }
      if (zr < 0) {
        // Step 6: shift the smallest uncovered value to create a new uncovered zero.
        let m = Infinity;
        for (let r = 0; r < n; r++) {
          if (rowCov[r]) continue;
          for (let c = 0; c < n; c++) if (!colCov[c]) m = Math.min(m, C[r * n + c]);
        }
        for (let r = 0; r < n; r++) {
          for (let c = 0; c < n; c++) {
            if (rowCov[r]) C[r * n + c] += m;
            if (!colCov[c]) C[r * n + c] -= m;
          }
        }
        continue;
      }
      mark[zr * n + zc] = PRIME;
      const sc = findInRow(zr, STAR);
      if (sc >= 0) {
        rowCov[zr] = 1;
        colCov[sc] = 0;
      } else {
        pr = zr;
        pc = zc;
      }
    }
    // Step 5: alternating path prime → star → prime …; flip it, then clear primes and covers.
    const path: [number, number][] = [[pr, pc]];
    for (;;) {
      const sr = findInCol(path[path.length - 1][1], STAR);
      if (sr < 0) break;
      path.push([sr, path[path.length - 1][1]]);
      path.push([sr, findInRow(sr, PRIME)]);
    }
    for (const [r, c] of path) mark[r * n + c] = mark[r * n + c] === STAR ? 0 : STAR;
    for (let k = 0; k < n * n; k++) if (mark[k] === PRIME) mark[k] = 0;
    rowCov.fill(0);
    colCov.fill(0);
  }
  let total = 0;
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) if (mark[r * n + c] === STAR) total += cost[r * nCols + c];
  }
  return total;
}

function expectClose(actual: number, expected: number, rel: number): void {
  const tol = rel * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`expected ${actual} to be within ${tol} of ${expected}`);
  }
}

function toArrays(res: AssignmentResult): { rowInd: number[]; colInd: number[] } {
  return { rowInd: Array.from(res.rowInd), colInd: Array.from(res.colInd) };
}

// Results recorded from SciPy 1.17.1 (`scipy.optimize.linear_sum_assignment`). Ties and
// near-ties decided by rounding, so they pin the scan order, the tie rule and the order of
// floating-point operations — any optimum would pass the cost checks, only SciPy's passes these.
const SCIPY_FIXTURES: {
  note: string;
  nRows: number;
  nCols: number;
  maximize: boolean;
  cost: number[];
  rowInd: number[];
  colInd: number[];
}[] = [
  {
    note: 'constant matrix -> identity (SciPy #11602)',
    nRows: 4,
    nCols: 4,
    maximize: false,
    cost: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    rowInd: [0, 1, 2, 3],
    colInd: [0, 1, 2, 3],
  },
  {
    note: 'constant wide',
    nRows: 3,
    nCols: 5,
    maximize: false,
    cost: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    rowInd: [0, 1, 2],
    colInd: [0, 1, 2],
  },
  {
    note: 'constant tall',
    nRows: 5,
    nCols: 3,
    maximize: false,
    cost: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    rowInd: [0, 1, 2],
    colInd: [0, 1, 2],
  },
  {
    note: 'int ties 5x7',
    nRows: 5,
    nCols: 7,
    maximize: false,
    cost: [0, 2, 0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 2, 0, 0, 0, 2, 1, 0, 0, 1, 1, 2, 1, 2, 0, 1, 1, 2, 0, 0, 1, 0, 2, 1],
    rowInd: [0, 1, 2, 3, 4],
    colInd: [0, 3, 1, 4, 2],
  },
  {
    note: 'int ties 7x5',
    nRows: 7,
    nCols: 5,
    maximize: false,
    cost: [2, 1, 1, 1, 0, 0, 0, 2, 1, 2, 0, 2, 2, 2, 0, 1, 0, 2, 2, 1, 0, 0, 0, 0, 0, 2, 1, 2, 0, 1, 2, 1, 0, 1, 2],
    rowInd: [0, 1, 3, 4, 5],
    colInd: [4, 0, 1, 2, 3],
  },
  {
    note: 'int ties 6x6',
    nRows: 6,
    nCols: 6,
    maximize: false,
    cost: [0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0],
    rowInd: [0, 1, 2, 3, 4, 5],
    colInd: [0, 2, 1, 4, 3, 5],
  },
  {
    note: 'int ties, maximize',
    nRows: 6,
    nCols: 8,
    maximize: true,
    cost: [
      1, -1, 0, -1, 0, 0, 1, -1, -2, -1, 0, -2, 1, 0, -1, 0, 0, -1, 0, -1, 1, 1, 0, -2, -1, -1, 0, 0, -2, 0, -2, -2, -2, -2, 1, -2, 0, -2,
      -2, -1, -2, -1, -2, 1, -1, -2, -2, 0,
    ],
    rowInd: [0, 1, 2, 3, 4, 5],
    colInd: [0, 4, 5, 1, 2, 3],
  },
  {
    note: 'ties with forbidden pairs',
    nRows: 6,
    nCols: 6,
    maximize: false,
    cost: [
      Infinity,
      1,
      2,
      Infinity,
      2,
      Infinity,
      2,
      Infinity,
      Infinity,
      1,
      0,
      Infinity,
      2,
      Infinity,
      0,
      Infinity,
      0,
      1,
      Infinity,
      0,
      1,
      2,
      1,
      0,
      Infinity,
      0,
      1,
      0,
      Infinity,
      Infinity,
      2,
      1,
      Infinity,
      0,
      2,
      Infinity,
    ],
    rowInd: [0, 1, 2, 3, 4, 5],
    colInd: [1, 4, 2, 5, 3, 0],
  },
  {
    note: 'near-ties decided by rounding (order of float ops matters)',
    nRows: 3,
    nCols: 6,
    maximize: false,
    cost: [
      12346.4789, 12346.1789, 12346.4789, 12346.1789, 12346.0789, 12346.1789, 12345.878900000002, 12345.9789, 12346.378900000002,
      12346.4789, 12345.778900000001, 12346.378900000002, 12346.4789, 12346.0789, 12345.778900000001, 12346.378900000002,
      12345.878900000002, 12346.278900000001,
    ],
    rowInd: [0, 1, 2],
    colInd: [4, 0, 2],
  },
  {
    note: 'near-ties decided by rounding (order of float ops matters)',
    nRows: 6,
    nCols: 6,
    maximize: false,
    cost: [
      1000.9, 1001, 1001, 1000.9, 1001.3, 1000.9, 1000.5999999999999, 1000.8, 1000.3, 1001, 1001, 1000.6999999999999, 1001.1999999999999,
      1001.0999999999999, 1000.5999999999999, 1000.4, 1000.4, 1000.5, 1000.5999999999999, 1000.6999999999999, 1001.1999999999999,
      1000.5999999999999, 1001.1999999999999, 1001, 1001.1999999999999, 1000.6999999999999, 1000.3, 1001.0999999999999, 1000.5, 1000.4,
      1001.0999999999999, 1001, 1000.5, 1000.5999999999999, 1001.1999999999999, 1000.5999999999999,
    ],
    rowInd: [0, 1, 2, 3, 4, 5],
    colInd: [1, 2, 4, 0, 5, 3],
  },
  {
    note: 'near-ties decided by rounding (order of float ops matters)',
    nRows: 4,
    nCols: 4,
    maximize: false,
    cost: [
      12345.778900000001, 12346.4789, 12345.778900000001, 12346.6789, 12346.5789, 12345.9789, 12345.778900000001, 12346.5789, 12346.1789,
      12345.778900000001, 12346.1789, 12345.878900000002, 12346.0789, 12346.278900000001, 12346.5789, 12346.4789,
    ],
    rowInd: [0, 1, 2, 3],
    colInd: [0, 2, 3, 1],
  },
  {
    note: 'wide int ties (tie rule in the main scan)',
    nRows: 5,
    nCols: 9,
    maximize: false,
    cost: [
      1, 2, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 2, 0, 0, 0, 0, 2, 1, 0, 2, 0, 1, 2, 0, 2, 1, 2, 2, 2, 1, 0, 1, 2,
    ],
    rowInd: [0, 1, 2, 3, 4],
    colInd: [3, 0, 7, 5, 6],
  },
  {
    note: 'wide int ties (tie rule in the main scan)',
    nRows: 6,
    nCols: 8,
    maximize: false,
    cost: [
      2, 0, 0, 1, 2, 1, 2, 0, 0, 0, 1, 0, 1, 2, 2, 0, 0, 0, 2, 0, 0, 1, 0, 0, 0, 1, 2, 1, 2, 2, 1, 1, 2, 2, 0, 2, 1, 1, 1, 2, 1, 0, 0, 2, 1,
      1, 1, 0,
    ],
    rowInd: [0, 1, 2, 3, 4, 5],
    colInd: [1, 3, 6, 0, 2, 7],
  },
  {
    note: 'tall int ties (tie rule in the transposed scan)',
    nRows: 6,
    nCols: 5,
    maximize: false,
    cost: [2, 0, 1, 2, 0, 2, 1, 0, 0, 2, 2, 2, 1, 0, 0, 0, 0, 0, 2, 0, 2, 2, 1, 1, 1, 1, 2, 1, 2, 2],
    rowInd: [0, 1, 2, 3, 4],
    colInd: [1, 2, 3, 0, 4],
  },
  {
    note: 'tall int ties (tie rule in the transposed scan)',
    nRows: 7,
    nCols: 6,
    maximize: false,
    cost: [2, 0, 1, 2, 1, 1, 0, 1, 2, 0, 2, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 2, 0, 1, 1, 1, 1, 2, 0, 0, 2, 0, 1, 2, 1, 0, 0, 0, 2, 1, 1, 1],
    rowInd: [0, 1, 2, 3, 4, 5],
    colInd: [1, 3, 2, 0, 4, 5],
  },
];

// ---------------------------------------------------------------------------------------------

describe('linearSumAssignment: optimality against brute force', () => {
  it('matches the brute-force optimum for every shape up to 7×9 and 9×7 (uniform, small-int ties, negative)', () => {
    const rnd = mulberry32(12345);
    const gens: [string, Gen][] = [
      ['uniform', uniform],
      ['smallInt', smallInt],
      ['negative', negative],
    ];
    let checked = 0;
    for (let a = 1; a <= 7; a++) {
      for (let b = 1; b <= 9; b++) {
        const shapes: [number, number][] =
          a === b
            ? [[a, b]]
            : [
                [a, b],
                [b, a],
              ];
        for (const [nRows, nCols] of shapes) {
          const p = injections(nRows, nCols);
          const trials = p > 20000 ? 2 : p > 2000 ? 4 : 8;
          for (const [name, gen] of gens) {
            for (let t = 0; t < trials; t++) {
              const cost = randomMatrix(nRows, nCols, rnd, gen);
              const res = linearSumAssignment(cost, nRows, nCols);
              expectValidAssignment(res, nRows, nCols);
              const best = bruteForceMin(cost, nRows, nCols);
              const got = totalCost(cost, nCols, res);
              if (name === 'smallInt')
                expect(got).toBe(best); // integer sums are exact
              else expectClose(got, best, 1e-12);
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('matches brute force (value and feasibility) with randomly forbidden (+Infinity) pairs', () => {
    const rnd = mulberry32(777);
    let infeasible = 0;
    let feasible = 0;
    for (let trial = 0; trial < 600; trial++) {
      const nRows = 1 + Math.floor(rnd() * 6);
      const nCols = 1 + Math.floor(rnd() * 7);
      const pInf = 0.15 + 0.5 * rnd();
      const cost = randomMatrix(nRows, nCols, rnd, (r) => (r() < pInf ? Infinity : Math.floor(r() * 5) - 1));
      const best = bruteForceMin(cost, nRows, nCols);
      if (best === Infinity) {
        expect(() => linearSumAssignment(cost, nRows, nCols)).toThrow('linearSumAssignment: cost matrix is infeasible');
        infeasible++;
      } else {
        const res = linearSumAssignment(cost, nRows, nCols);
        expectValidAssignment(res, nRows, nCols);
        expect(totalCost(cost, nCols, res)).toBe(best); // also proves no +Infinity was used
        feasible++;
      }
    }
    // Both branches must really be exercised.
    expect(infeasible).toBeGreaterThan(50);
    expect(feasible).toBeGreaterThan(50);
  });
});

describe('linearSumAssignment: agreement with an independent O(n⁴) Munkres', () => {
  const cases: [number, number, number, Gen][] = [
    [100, 100, 1, uniform],
    [100, 100, 2, uniform],
    [100, 100, 3, negative],
    [100, 100, 4, smallInt],
    [100, 37, 5, uniform],
    [37, 100, 6, uniform],
    [100, 37, 7, smallInt],
  ];
  for (const [nRows, nCols, seed, gen] of cases) {
    it(`${nRows}×${nCols} (seed ${seed})`, () => {
      const cost = randomMatrix(nRows, nCols, mulberry32(seed), gen);
      const res = linearSumAssignment(cost, nRows, nCols);
      expectValidAssignment(res, nRows, nCols);
      expectClose(totalCost(cost, nCols, res), munkresReferenceCost(cost, nRows, nCols), 1e-9);
    });
  }

  it('the reference itself is right on a small brute-forceable case', () => {
    const rnd = mulberry32(99);
    for (let t = 0; t < 30; t++) {
      const cost = randomMatrix(5, 7, rnd, t % 2 ? smallInt : uniform);
      expectClose(munkresReferenceCost(cost, 5, 7), bruteForceMin(cost, 5, 7), 1e-12);
      const tall = randomMatrix(6, 4, rnd, negative);
      expectClose(munkresReferenceCost(tall, 6, 4), bruteForceMin(tall, 6, 4), 1e-12);
    }
  });
});

describe('linearSumAssignment: tall matrices (solved transposed internally)', () => {
  function transpose(m: Float64Array, nRows: number, nCols: number): Float64Array {
    const t = new Float64Array(m.length);
    for (let r = 0; r < nRows; r++) for (let c = 0; c < nCols; c++) t[c * nRows + r] = m[r * nCols + c];
    return t;
  }
  function pairs(res: AssignmentResult, swap: boolean): string[] {
    return Array.from(res.rowInd, (r, k) => (swap ? `${res.colInd[k]},${r}` : `${r},${res.colInd[k]}`)).sort();
  }
  // 300×50 is read strided in place; 1100×480 (> 2^19 entries) is copied transposed first.
  // Both must give exactly the pairs of the explicitly transposed wide problem, ties included.
  for (const [nRows, nCols] of [
    [300, 50],
    [1100, 480],
  ] as const) {
    it(`${nRows}×${nCols} gives exactly the transposed ${nCols}×${nRows} solution`, () => {
      const rnd = mulberry32(nRows + nCols);
      const tall = randomMatrix(nRows, nCols, rnd, (r) => Math.floor(r() * 6));
      const wide = transpose(tall, nRows, nCols);
      for (const maximize of [false, true]) {
        const a = linearSumAssignment(tall, nRows, nCols, { maximize });
        expectValidAssignment(a, nRows, nCols);
        expect(pairs(a, false)).toEqual(pairs(linearSumAssignment(wide, nCols, nRows, { maximize }), true));
      }
      const bad = tall.slice();
      bad[7 * nCols + 3] = NaN;
      expect(() => linearSumAssignment(bad, nRows, nCols)).toThrow('NaN at (7, 3)');
    });
  }
});

describe('linearSumAssignment: large and tiny magnitudes', () => {
  const shapes: [number, number][] = [
    [20, 20],
    [15, 40],
    [40, 15],
  ];
  for (const [nRows, nCols] of shapes) {
    it(`scaling by 1e-12 and 1e12 keeps the assignment (${nRows}×${nCols})`, () => {
      const rnd = mulberry32(nRows * 1000 + nCols);
      for (let t = 0; t < 5; t++) {
        // Continuous costs, so the optimum is unique: 1e±12 scaling is not exact in binary and
        // may legitimately flip exact ties (those are covered by the power-of-two test below).
        const cost = randomMatrix(nRows, nCols, rnd, (r) => r() * 10 - 5);
        const base = toArrays(linearSumAssignment(cost, nRows, nCols));
        for (const s of [1e-12, 1e12, 1e-300, 1e300]) {
          const scaled = cost.map((x) => x * s);
          expect(toArrays(linearSumAssignment(scaled, nRows, nCols))).toEqual(base);
        }
      }
    });
  }

  it('scaling by powers of two is exactly equivariant, ties included', () => {
    const rnd = mulberry32(4242);
    for (let t = 0; t < 40; t++) {
      const nRows = 2 + Math.floor(rnd() * 9);
      const nCols = 2 + Math.floor(rnd() * 9);
      const cost = randomMatrix(nRows, nCols, rnd, t % 2 ? smallInt : negative);
      const base = toArrays(linearSumAssignment(cost, nRows, nCols));
      for (const s of [2 ** -40, 2 ** 40]) {
        expect(
          toArrays(
            linearSumAssignment(
              cost.map((x) => x * s),
              nRows,
              nCols,
            ),
          ),
        ).toEqual(base);
      }
    }
  });

  it('matrices mixing magnitudes from 1e-12 to 1e12 are still solved optimally', () => {
    const rnd = mulberry32(31337);
    const logUniform: Gen = (r) => (r() < 0.5 ? -1 : 1) * 10 ** (24 * r() - 12);
    for (let t = 0; t < 60; t++) {
      const nRows = 1 + Math.floor(rnd() * 6);
      const nCols = 1 + Math.floor(rnd() * 7);
      const cost = randomMatrix(nRows, nCols, rnd, logUniform);
      const res = linearSumAssignment(cost, nRows, nCols);
      expectValidAssignment(res, nRows, nCols);
      const maxAbs = cost.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      const diff = Math.abs(totalCost(cost, nCols, res) - bruteForceMin(cost, nRows, nCols));
      expect(diff).toBeLessThanOrEqual(1e-13 * maxAbs * (nRows + nCols));
    }
    // Rows living on very different scales: each row's choice still has to be right.
    const cost = new Float64Array([1e12, 2e12, 3e12, 3e-12, 1e-12, 2e-12, 5, 6, 4]);
    expect(toArrays(linearSumAssignment(cost, 3, 3))).toEqual({ rowInd: [0, 1, 2], colInd: [0, 1, 2] });
    // 1e12 + 1 + 1 (diagonal) vs 1e12 + 0.5 + 1e-12 (anti-diagonal): needs the small parts resolved next to 1e12.
    const cost2 = new Float64Array([1e12, 1e12 + 0.5, 1e-12, 1]);
    expect(toArrays(linearSumAssignment(cost2, 2, 2))).toEqual({ rowInd: [0, 1], colInd: [1, 0] });
  });
});

describe('linearSumAssignment: forbidden pairs', () => {
  it('avoids +Infinity entries when a finite assignment exists', () => {
    const I = Infinity;
    // Only the anti-diagonal is allowed in rows 0..2; row 3 is free everywhere.
    const cost = new Float64Array([I, I, I, 9, I, I, 1, I, I, 1, I, I, 0, 0, 0, 0]);
    const res = linearSumAssignment(cost, 4, 4);
    expect(toArrays(res)).toEqual({ rowInd: [0, 1, 2, 3], colInd: [3, 2, 1, 0] });
    expect(totalCost(cost, 4, res)).toBe(11);
    // Tall: column 1 must take row 3 (its only finite entry besides 7). Rows 0 and 1 tie for
    // column 0; SciPy picks row 0 (checked against SciPy 1.17.1).
    const tall = new Float64Array([0, I, 0, I, 5, 7, I, 1]);
    const r2 = linearSumAssignment(tall, 4, 2);
    expect(toArrays(r2)).toEqual({ rowInd: [0, 3], colInd: [0, 1] });
  });

  it('throws on infeasible matrices (square, wide, tall, Hall violation)', () => {
    const I = Infinity;
    const msg = 'linearSumAssignment: cost matrix is infeasible';
    expect(() => linearSumAssignment(new Float64Array([1, 2, I, I]), 2, 2)).toThrow(msg); // empty row
    expect(() => linearSumAssignment(new Float64Array([1, I, 2, I, 3, I]), 3, 2)).toThrow(msg); // tall, empty column
    // Rows 0..2 may only use columns 0 and 1 (Hall's condition fails), though every row is non-empty.
    const wide = new Float64Array([1, 1, I, I, I, 2, 2, I, I, I, 3, 3, I, I, I]);
    expect(() => linearSumAssignment(wide, 3, 5)).toThrow(msg);
    expect(() => linearSumAssignment(new Float64Array([I]), 1, 1)).toThrow(msg);
    // The same solver keeps working after an infeasible problem.
    const solver = new AssignmentSolver();
    expect(() => solver.solve(wide, 3, 5)).toThrow(msg);
    expect(toArrays(solver.solve(new Float64Array([4, 1, 3, 2, 0, 5, 3, 2, 2]), 3, 3)).colInd).toEqual([1, 0, 2]);
  });
});

describe('linearSumAssignment: maximize and Float32Array', () => {
  it('maximize equals minimizing the negated matrix, and does not mutate the input', () => {
    const rnd = mulberry32(2718);
    for (let t = 0; t < 200; t++) {
      const nRows = 1 + Math.floor(rnd() * 8);
      const nCols = 1 + Math.floor(rnd() * 8);
      const cost = randomMatrix(nRows, nCols, rnd, t % 2 ? smallInt : negative);
      const copy = cost.slice();
      const max = linearSumAssignment(cost, nRows, nCols, { maximize: true });
      expect(cost).toEqual(copy);
      expect(toArrays(max)).toEqual(
        toArrays(
          linearSumAssignment(
            cost.map((x) => -x),
            nRows,
            nCols,
          ),
        ),
      );
      if (t < 60)
        expectClose(
          -totalCost(cost, nCols, max),
          bruteForceMin(
            cost.map((x) => -x),
            nRows,
            nCols,
          ),
          1e-12,
        );
    }
  });

  it('with maximize, -Infinity forbids a pair and +Infinity is rejected (SciPy semantics)', () => {
    const cost = new Float64Array([-Infinity, 1, 1, 2]);
    expect(toArrays(linearSumAssignment(cost, 2, 2, { maximize: true }))).toEqual({ rowInd: [0, 1], colInd: [1, 0] });
    expect(() => linearSumAssignment(new Float64Array([Infinity, 1, 1, 2]), 2, 2, { maximize: true })).toThrow(
      'linearSumAssignment: cost matrix contains +Infinity at (0, 0)',
    );
  });

  it('accepts Float32Array input and gives the same result as its Float64 widening', () => {
    const rnd = mulberry32(161803);
    for (const [nRows, nCols] of [
      [6, 6],
      [5, 9],
      [9, 4],
      [30, 30],
    ] as const) {
      const f32 = new Float32Array(nRows * nCols);
      for (let k = 0; k < f32.length; k++) f32[k] = rnd() * 10 - 3;
      const f64 = Float64Array.from(f32);
      const a = linearSumAssignment(f32, nRows, nCols);
      expectValidAssignment(a, nRows, nCols);
      expect(toArrays(a)).toEqual(toArrays(linearSumAssignment(f64, nRows, nCols)));
      expect(toArrays(linearSumAssignment(f32, nRows, nCols, { maximize: true }))).toEqual(
        toArrays(
          linearSumAssignment(
            f64.map((x) => -x),
            nRows,
            nCols,
          ),
        ),
      );
      if (nRows * nCols < 60) expectClose(totalCost(f32, nCols, a), bruteForceMin(f64, nRows, nCols), 1e-12);
    }
  });
});

describe('linearSumAssignment: errors and degenerate shapes', () => {
  it('rejects NaN and -Infinity, naming the entry', () => {
    const m = new Float64Array([1, 2, 3, 4, 5, NaN]);
    expect(() => linearSumAssignment(m, 2, 3)).toThrow('linearSumAssignment: cost matrix contains NaN at (1, 2)');
    expect(() => linearSumAssignment(m, 3, 2)).toThrow('linearSumAssignment: cost matrix contains NaN at (2, 1)'); // transposed path
    const n = new Float64Array([1, -Infinity, 3, NaN]);
    expect(() => linearSumAssignment(n, 2, 2)).toThrow('linearSumAssignment: cost matrix contains -Infinity at (0, 1)');
    expect(() => linearSumAssignment(new Float32Array([0, 0, 0, -Infinity, 0, 0]), 3, 2)).toThrow('contains -Infinity at (1, 1)');
    expect(() => linearSumAssignment(new Float64Array([NaN]), 1, 1, { maximize: true })).toThrow('NaN at (0, 0)');
  });

  it('reports invalid entries before infeasibility, like SciPy', () => {
    const I = Infinity;
    // Row 0 is all forbidden (infeasible) and the NaN sits in a row the solver never reaches.
    expect(() => linearSumAssignment(new Float64Array([I, I, I, 1, 2, 3, 4, NaN, 6]), 3, 3)).toThrow('NaN at (2, 1)');
    expect(() => linearSumAssignment(new Float64Array([I, I, 1, -Infinity, 2, 3]), 3, 2)).toThrow('-Infinity at (1, 1)');
  });

  it('rejects a wrong length, naming both numbers', () => {
    expect(() => linearSumAssignment(new Float64Array(5), 2, 3)).toThrow(/cost\.length is 5 .*2 \* 3 = 6/);
    expect(() => linearSumAssignment(new Float64Array(7), 2, 3)).toThrow(/7.*6/);
    expect(() => linearSumAssignment(new Float64Array(1), 0, 3)).toThrow(/1.*0/);
  });

  it('rejects non-integer, negative or non-finite dimensions and non-typed-array input', () => {
    expect(() => linearSumAssignment(new Float64Array(6), 2.5, 2)).toThrow('nRows must be a non-negative integer');
    expect(() => linearSumAssignment(new Float64Array(6), -2, -3)).toThrow('nRows must be a non-negative integer');
    expect(() => linearSumAssignment(new Float64Array(6), 2, NaN)).toThrow('nCols must be a non-negative integer');
    expect(() => linearSumAssignment(new Float64Array(6), 6, Infinity)).toThrow('nCols');
    expect(() => linearSumAssignment([1, 2, 3, 4] as unknown as Float64Array, 2, 2)).toThrow(TypeError);
  });

  it('returns empty Int32Arrays when there are no rows or no columns', () => {
    for (const [r, c] of [
      [0, 0],
      [0, 5],
      [5, 0],
    ] as const) {
      const res = linearSumAssignment(new Float64Array(0), r, c);
      expect(res.rowInd).toBeInstanceOf(Int32Array);
      expect(res.colInd).toBeInstanceOf(Int32Array);
      expect(res.rowInd.length).toBe(0);
      expect(res.colInd.length).toBe(0);
    }
  });

  it('does not mutate the caller matrix on any path', () => {
    const m = new Float64Array([3, 1, 2, 5, 4, 0]);
    const copy = m.slice();
    linearSumAssignment(m, 2, 3);
    linearSumAssignment(m, 3, 2);
    linearSumAssignment(m, 3, 2, { maximize: true });
    expect(m).toEqual(copy);
  });
});

describe('linearSumAssignment: SciPy reference results', () => {
  it('SciPy documentation example: total 5', () => {
    const cost = new Float64Array([4, 1, 3, 2, 0, 5, 3, 2, 2]);
    const res = linearSumAssignment(cost, 3, 3);
    expect(toArrays(res)).toEqual({ rowInd: [0, 1, 2], colInd: [1, 0, 2] });
    expect(totalCost(cost, 3, res)).toBe(5);
  });

  for (const fx of SCIPY_FIXTURES) {
    it(`same assignment as SciPy 1.17.1: ${fx.note} (${fx.nRows}×${fx.nCols}${fx.maximize ? ', maximize' : ''})`, () => {
      const res = linearSumAssignment(new Float64Array(fx.cost), fx.nRows, fx.nCols, { maximize: fx.maximize });
      expect(toArrays(res)).toEqual({ rowInd: fx.rowInd, colInd: fx.colInd });
    });
  }
});

describe('AssignmentSolver', () => {
  it('reused across differently-sized problems gives the same results as fresh calls', () => {
    const rnd = mulberry32(55);
    const solver = new AssignmentSolver();
    const shapes: [number, number][] = [
      [3, 3],
      [50, 50],
      [2, 9],
      [40, 7],
      [1, 1],
      [7, 40],
      [64, 63],
      [5, 5],
      [100, 3],
      [9, 2],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [nRows, nCols] of shapes) {
        const cost = randomMatrix(nRows, nCols, rnd, round === 1 ? smallInt : negative);
        const maximize = round === 2;
        const reused = solver.solve(cost, nRows, nCols, { maximize });
        const fresh = new AssignmentSolver().solve(cost, nRows, nCols, { maximize });
        expect(toArrays(reused)).toEqual(toArrays(fresh));
        expect(toArrays(reused)).toEqual(toArrays(linearSumAssignment(cost, nRows, nCols, { maximize })));
        expectValidAssignment(reused, nRows, nCols);
      }
    }
  });

  it('does not grow its workspace once it has seen the largest problem', () => {
    const solver = new AssignmentSolver();
    const rnd = mulberry32(8);
    solver.solve(randomMatrix(60, 60, rnd, uniform), 60, 60);
    const cap = solver.capacity;
    for (const [r, c] of [
      [10, 60],
      [60, 10],
      [59, 60],
      [3, 3],
    ] as const) {
      solver.solve(randomMatrix(r, c, rnd, uniform), r, c);
      expect(solver.capacity).toBe(cap);
    }
    solver.release();
    expect(solver.capacity).toBe(0);
    expect(toArrays(solver.solve(new Float64Array([4, 1, 3, 2, 0, 5, 3, 2, 2]), 3, 3)).colInd).toEqual([1, 0, 2]);
  });

  it('recovers from invalid input in the middle of a batch', () => {
    const solver = new AssignmentSolver();
    const rnd = mulberry32(9);
    const a = randomMatrix(8, 12, rnd, smallInt);
    const expected = toArrays(linearSumAssignment(a, 8, 12));
    expect(toArrays(solver.solve(a, 8, 12))).toEqual(expected);
    const bad = a.slice();
    bad[40] = NaN;
    expect(() => solver.solve(bad, 8, 12)).toThrow('NaN at (3, 4)');
    expect(() => solver.solve(a, 8, 11)).toThrow('cost.length');
    expect(toArrays(solver.solve(a, 8, 12))).toEqual(expected);
  });

  it("linearSumAssignment's shared solver handles a big one-off problem followed by small ones", () => {
    const rnd = mulberry32(10);
    const big = randomMatrix(300, 260, rnd, uniform); // beyond what the shared solver keeps
    const small = randomMatrix(6, 9, rnd, smallInt);
    const expectedSmall = toArrays(new AssignmentSolver().solve(small, 6, 9));
    expect(toArrays(linearSumAssignment(small, 6, 9))).toEqual(expectedSmall);
    expect(toArrays(linearSumAssignment(big, 300, 260))).toEqual(toArrays(new AssignmentSolver().solve(big, 300, 260)));
    expect(toArrays(linearSumAssignment(small, 6, 9))).toEqual(expectedSmall);
  });

  it('solveInto writes into caller arrays and returns the pair count', () => {
    const solver = new AssignmentSolver();
    const rows = new Int32Array(5).fill(-7);
    const cols = new Int32Array(5).fill(-7);
    const tall = new Float64Array([4, 1, 3, 2, 0, 5, 3, 2, 2, 9, 9, 9]);
    expect(solver.solveInto(tall, 4, 3, rows, cols)).toBe(3);
    const ref = linearSumAssignment(tall, 4, 3);
    expect(Array.from(rows.subarray(0, 3))).toEqual(Array.from(ref.rowInd));
    expect(Array.from(cols.subarray(0, 3))).toEqual(Array.from(ref.colInd));
    expect(rows[3]).toBe(-7); // untouched beyond the count
    expect(() => solver.solveInto(tall, 4, 3, new Int32Array(2), cols)).toThrow('output arrays too short');
  });
});
