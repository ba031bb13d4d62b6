/**
 * Rectangular linear-sum-assignment solver with SciPy's `linear_sum_assignment` semantics:
 * public API, argument checks, and the working copy (negated when maximising) of the matrix.
 * The algorithm itself — shortest augmenting path after Crouse (IEEE TAES 52(4), 2016), the
 * one in SciPy's `rectangular_lsap.cpp`, O(n²m) for n ≤ m — is in `core.ts`.
 */

import { CORE_OK, col4rowOffset, costOffset, floatLayoutSize, intLayoutSize, row4colOffset, solveCore } from './core.ts';

/** A row-major cost matrix. */
export type CostMatrix = Float64Array | Float32Array;

export interface AssignmentOptions {
  /**
   * Maximise the total instead of minimising it. As in SciPy the costs are negated before
   * solving, so with `maximize: true` a forbidden pair is marked with `-Infinity`, and
   * `+Infinity` is rejected.
   */
  maximize?: boolean;
}

export interface AssignmentResult {
  /** Row indices, strictly increasing. Length `min(nRows, nCols)`. */
  rowInd: Int32Array;
  /** `colInd[k]` is the column assigned to row `rowInd[k]`. */
  colInd: Int32Array;
}

const FN = 'linearSumAssignment';

/** Workspaces larger than this (in cost entries) are not kept by the shared default solver. */
const DEFAULT_SOLVER_KEEP = 1 << 16;

/**
 * Tall matrices up to this many entries are read transposed in place (strided) instead of being
 * copied transposed: the copy costs about as much as a whole solve of a 300×50 problem, while
 * strided reads only hurt once the matrix no longer fits in cache (measured: strided wins up to
 * ~2000×200 and 1000×500, loses 1.6× at 1000×999).
 */
const STRIDED_MAX = 1 << 19;

/**
 * Reusable solver: keeps its typed-array workspaces between calls and only grows them, so a
 * batch of solves allocates nothing after the first except the returned result arrays
 * (and not even those with {@link AssignmentSolver.solveInto}).
 *
 * @example
 * const solver = new AssignmentSolver();
 * const { rowInd, colInd } = solver.solve(new Float64Array([4, 1, 3, 2, 0, 5, 3, 2, 2]), 3, 3);
 * // rowInd = [0, 1, 2], colInd = [1, 0, 2]   (total cost 1 + 2 + 2 = 5)
 */
export class AssignmentSolver {
  // Flat workspaces (layouts in core.ts): the Float64 one holds the duals, the shortest path
  // costs and the working copy of the cost matrix (negated when maximising; always Float64 so
  // the hot loop sees one element kind; for big tall matrices stored transposed).
  private w = new Float64Array(0);
  private iw = new Int32Array(0);

  /**
   * Solves one problem. Same contract as {@link linearSumAssignment}.
   *
   * @example
   * const s = new AssignmentSolver();
   * s.solve(new Float64Array([1, 2, 3, 4, 5, 6]), 2, 3).colInd; // Int32Array [0, 1]
   * s.solve(new Float32Array([1, 2, 3, 4, 5, 6]), 3, 2, { maximize: true }).rowInd; // [1, 2]
   */
  solve(cost: CostMatrix, nRows: number, nCols: number, opts?: AssignmentOptions): AssignmentResult {
    checkArgs(cost, nRows, nCols);
    const k = Math.min(nRows, nCols);
    const rowInd = new Int32Array(k);
    const colInd = new Int32Array(k);
    if (k > 0) this.run(cost, nRows, nCols, opts?.maximize === true, rowInd, colInd);
    return { rowInd, colInd };
  }

  /**
   * Like {@link AssignmentSolver.solve} but writes the `min(nRows, nCols)` pairs into
   * caller-provided arrays (which may be longer) and returns that count. Allocation-free once
   * the workspaces are large enough.
   *
   * @example
   * const rows = new Int32Array(3), cols = new Int32Array(3);
   * const n = new AssignmentSolver().solveInto(new Float64Array([4, 1, 3, 2, 0, 5, 3, 2, 2]), 3, 3, rows, cols);
   * // n = 3, rows = [0, 1, 2], cols = [1, 0, 2]
   */
  solveInto(cost: CostMatrix, nRows: number, nCols: number, rowOut: Int32Array, colOut: Int32Array, opts?: AssignmentOptions): number {
    checkArgs(cost, nRows, nCols);
    const k = Math.min(nRows, nCols);
    if (rowOut.length < k || colOut.length < k) {
      throw new Error(`${FN}: output arrays too short: need ${k}, got rowOut.length=${rowOut.length}, colOut.length=${colOut.length}`);
    }
    if (k > 0) this.run(cost, nRows, nCols, opts?.maximize === true, rowOut, colOut);
    return k;
  }

  /** Drops the workspaces (e.g. after a one-off huge problem). The solver stays usable. */
  release(): void {
    this.w = new Float64Array(0);
    this.iw = new Int32Array(0);
  }

  /** Current size of the Float64 workspace, in elements (about nRows * nCols). */
  get capacity(): number {
    return this.w.length;
  }

  private run(src: CostMatrix, nRows: number, nCols: number, maximize: boolean, rowOut: Int32Array, colOut: Int32Array): void {
    // Like SciPy: make the short side the rows, so each Dijkstra runs over the long side and
    // there are only min(nRows, nCols) of them.
    const transpose = nCols < nRows;
    const nr = transpose ? nCols : nRows;
    const nc = transpose ? nRows : nCols;
    // Grow-only workspaces: after the largest problem of a batch, nothing is allocated.
    if (this.w.length < floatLayoutSize(nr, nc)) this.w = new Float64Array(floatLayoutSize(nr, nc));
    if (this.iw.length < intLayoutSize(nr, nc)) this.iw = new Int32Array(intLayoutSize(nr, nc));
    const w = this.w;
    const iw = this.iw;
    const off = costOffset(nr, nc);
    let status: number;
    if (transpose && nRows * nCols > STRIDED_MAX) {
      copyTransposed(src, nRows, nCols, w, off, maximize);
      status = solveCore(nr, nc, w, iw, nc, 1);
    } else {
      // Straight copy: a native memcpy-like `set` (which also widens Float32) unless negating.
      if (maximize) copyNegated(src, w, off);
      else w.set(src, off);
      status = transpose ? solveCore(nr, nc, w, iw, 1, nr) : solveCore(nr, nc, w, iw, nc, 1);
    }
    if (status !== CORE_OK) {
      // SciPy rejects invalid entries before trying to solve, so they take precedence over
      // infeasibility; this also names the first bad entry in row-major order.
      throwIfInvalid(src, nRows, nCols, maximize);
      throw new Error(`${FN}: cost matrix is infeasible`);
    }

    const c4r = col4rowOffset(nc);
    const r4c = row4colOffset(nc);
    if (!transpose) {
      for (let i = 0; i < nr; i++) {
        rowOut[i] = i;
        colOut[i] = iw[c4r + i];
      }
    } else {
      // In the transposed problem a "column" is an original row; walking row4col in order
      // yields the pairs already sorted by original row (SciPy uses an argsort here).
      let k = 0;
      for (let j = 0; j < nc; j++) {
        const i = iw[r4c + j];
        if (i >= 0) {
          rowOut[k] = j;
          colOut[k] = i;
          k++;
        }
      }
    }
  }
}

let defaultSolver: AssignmentSolver | null = null;

/**
 * Solves the linear sum assignment problem with the semantics of SciPy's
 * `scipy.optimize.linear_sum_assignment`: finds a complete assignment of the shorter side
 * minimising (or maximising) the total cost.
 *
 * - `cost` is row-major, `cost.length === nRows * nCols`; it is never modified.
 * - Returns `min(nRows, nCols)` pairs sorted by row index.
 * - `+Infinity` forbids a pair (`-Infinity` when `maximize`); NaN and `-Infinity`
 *   (`+Infinity` when `maximize`) are rejected. Throws if no complete assignment avoids the
 *   forbidden pairs.
 *
 * @example
 * const cost = new Float64Array([4, 1, 3,
 *                                2, 0, 5,
 *                                3, 2, 2]);
 * const { rowInd, colInd } = linearSumAssignment(cost, 3, 3);
 * // rowInd = [0, 1, 2], colInd = [1, 0, 2]   (total 5)
 */
export function linearSumAssignment(cost: CostMatrix, nRows: number, nCols: number, opts?: AssignmentOptions): AssignmentResult {
  // Synchronous and single-threaded, so one shared solver is safe; it does not hold on to
  // the workspaces of big one-off problems.
  const solver = (defaultSolver ??= new AssignmentSolver());
  try {
    return solver.solve(cost, nRows, nCols, opts);
  } finally {
    if (solver.capacity > DEFAULT_SOLVER_KEEP) solver.release();
  }
}

function checkArgs(cost: CostMatrix, nRows: number, nCols: number): void {
  if (!(cost instanceof Float64Array || cost instanceof Float32Array)) {
    throw new TypeError(`${FN}: cost must be a Float64Array or Float32Array`);
  }
  if (!Number.isSafeInteger(nRows) || nRows < 0) {
    throw new Error(`${FN}: nRows must be a non-negative integer, got ${nRows}`);
  }
  if (!Number.isSafeInteger(nCols) || nCols < 0) {
    throw new Error(`${FN}: nCols must be a non-negative integer, got ${nCols}`);
  }
  if (cost.length !== nRows * nCols) {
    throw new Error(`${FN}: cost.length is ${cost.length} but nRows * nCols = ${nRows} * ${nCols} = ${nRows * nCols}`);
  }
}

/** `dst[off + k] = -src[k]`. Negation is exact, so this is SciPy's `-cost`. */
function copyNegated(src: CostMatrix, dst: Float64Array, off: number): void {
  const n = src.length;
  for (let k = 0; k < n; k++) dst[off + k] = -src[k];
}

/**
 * Transposed copy (nRows×nCols → nCols×nRows) into `dst` from `off` on, negating when
 * maximising; used for big tall matrices, where contiguous rows pay off in the solve.
 * Sequential reads, strided writes (measured faster than tiling here).
 */
function copyTransposed(src: CostMatrix, nRows: number, nCols: number, dst: Float64Array, off: number, maximize: boolean): void {
  const sign = maximize ? -1 : 1; // sign * x is exact
  let s = 0;
  for (let r = 0; r < nRows; r++) {
    let d = off + r;
    for (let c = 0; c < nCols; c++) {
      dst[d] = sign * src[s++];
      d += nRows;
    }
  }
}

/**
 * Error path only: throws for the first NaN or -Infinity (+Infinity when maximising) in
 * row-major order; returns if there is none.
 */
function throwIfInvalid(src: CostMatrix, nRows: number, nCols: number, maximize: boolean): void {
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      const x = src[r * nCols + c];
      if (x !== x) throw new Error(`${FN}: cost matrix contains NaN at (${r}, ${c})`);
      if (!maximize && x === -Infinity) {
        throw new Error(`${FN}: cost matrix contains -Infinity at (${r}, ${c})`);
      }
      if (maximize && x === Infinity) {
        throw new Error(`${FN}: cost matrix contains +Infinity at (${r}, ${c}); with maximize, forbidden pairs are marked by -Infinity`);
      }
    }
  }
}
