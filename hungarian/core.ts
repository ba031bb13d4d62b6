/**
 * The shortest-augmenting-path core (Crouse 2016, as in SciPy's `rectangular_lsap.cpp`).
 *
 * Works on an nr×nc problem with nr ≤ nc whose state lives in two flat typed arrays. One
 * Float64Array and one Int32Array instead of nine separate arrays is purely for speed: V8
 * re-checks the map and re-loads the backing store of every typed array on every access in
 * the hot loop, so fewer distinct arrays means a shorter loop (≈15–25% faster measured).
 *
 * Fidelity to SciPy: the column scan order (`remaining` starts reversed and is compacted by
 * moving the last entry into the hole), the tie rule (among equal shortest-path costs prefer a
 * column that is still unassigned) and the order of floating-point operations in the reduced
 * cost (`minVal + c - u - v`) all match, so the very same optimum is returned when several
 * exist (checked against SciPy 1.17.1 on thousands of tie-heavy matrices). Structural
 * differences that do not change any result: the dual update walks the list of scanned columns
 * instead of sweeping SciPy's SR/SC flag arrays (same additions), the per-row reset is fused
 * into the first scan, and NaN / -Infinity are detected during that scan.
 */

/** Float64 workspace size; layout `[v: nc | spc: nc | u: nr | cost: nr*nc]`. */
export function floatLayoutSize(nr: number, nc: number): number {
  return costOffset(nr, nc) + nr * nc;
}

/** Offset of the nr·nc cost entries inside the Float64 workspace. */
export function costOffset(nr: number, nc: number): number {
  return 2 * nc + nr;
}

/** Int32 workspace size; layout `[remaining: nc | path: nc | row4col: nc | scanned: nc | col4row: nr]`. */
export function intLayoutSize(nr: number, nc: number): number {
  return 4 * nc + nr;
}

/** Offset of `row4col` (length nc) inside the Int32 workspace. */
export function row4colOffset(nc: number): number {
  return 2 * nc;
}

/** Offset of `col4row` (length nr) inside the Int32 workspace. */
export function col4rowOffset(nc: number): number {
  return 4 * nc;
}

/** {@link solveCore} results. */
export const CORE_OK = 0;
/** Some row cannot reach a free column through finite costs. */
export const CORE_INFEASIBLE = 1;
/** A cost is NaN or -Infinity (found while scanning; the caller locates it). */
export const CORE_INVALID = 2;

/**
 * Solves in place. Expects the cost matrix in `w` from {@link costOffset} on, with
 * cost(i, j) = w[costOffset + i*rs + j*cs]: (rs, cs) = (nc, 1) for a row-major nr×nc matrix, or
 * (1, nr) to read a row-major nc×nr matrix transposed without copying it. Initialises
 * everything else itself. On success `iw` holds `row4col` and `col4row` at their offsets.
 *
 * Validation is folded in: every entry is read by the first scan of its row (each row is the
 * start row exactly once) before it can influence anything, so NaN / -Infinity are caught
 * there at the price of one compare. The caller must still check the whole matrix before
 * reporting CORE_INFEASIBLE, since SciPy reports invalid entries first.
 */
export function solveCore(nr: number, nc: number, w: Float64Array, iw: Int32Array, rs: number, cs: number): number {
  // Float64 workspace: v[j] = w[j] (column duals), spc[j] = w[S + j] (shortest path costs of
  // the current Dijkstra), u[i] = w[U + i] (row duals), cost(i, j) = w[C + i*rs + j*cs].
  const S = nc;
  const U = 2 * nc;
  const C = 2 * nc + nr;
  // Int32 workspace: remaining[it] = iw[it] (unscanned columns), path[j] = iw[P + j]
  // (predecessor row), row4col, the list of scanned columns, col4row.
  const P = nc;
  const R4C = 2 * nc;
  const SC = 3 * nc;
  const C4R = 4 * nc;

  w.fill(0, 0, U + nr); // v = 0, u = 0 (spc is set by the first scan of every row)
  iw.fill(-1, R4C, R4C + nc);
  iw.fill(-1, C4R, C4R + nr);

  for (let curRow = 0; curRow < nr; curRow++) {
    // --- Dijkstra from curRow over reduced costs until an unassigned column is reached ---
    let numRemaining = nc;
    let numScanned = 0;
    let minVal = 0;
    let i = curRow;
    let sink = -1;
    let firstScan = true;
    while (sink === -1) {
      let index = -1;
      let lowest = Infinity;
      const base = C + i * rs;
      const ui = w[U + i];
      if (firstScan) {
        // The first scan doubles as the per-row reset: every shortest-path cost starts at +Inf,
        // so each column simply takes its reduced cost from curRow. One pass instead of two.
        firstScan = false;
        let ci = base + (nc - 1) * cs; // index of cost(i, j), walked backwards with j
        for (let it = 0; it < nc; it++) {
          const j = nc - 1 - it; // reversed, like SciPy (a constant matrix gives the identity)
          iw[it] = j;
          const r = minVal + w[ci] - ui - w[j];
          ci -= cs;
          // u[i] = 0 and v[j] are finite here, so r is NaN / -Inf exactly when the cost is.
          if (!(r > -Infinity)) return CORE_INVALID;
          iw[P + j] = i; // harmless when r = +Inf: a column is only chosen once finite
          w[S + j] = r;
          if (r < lowest || (r === lowest && iw[R4C + j] === -1)) {
            lowest = r;
            index = it;
          }
        }
      } else if (cs === 1) {
        // Contiguous rows (the common case), unrolled by two: V8 puts an interrupt check and
        // loop bookkeeping on every back-edge, and halving them is worth ~5–10% on big
        // problems. The visiting order (and so every comparison) is unchanged. The strided twin
        // below is kept separate so this loop carries no multiply.
        let it = 0;
        for (const end = numRemaining - 1; it < end; it += 2) {
          const j = iw[it];
          const r = minVal + w[base + j] - ui - w[j];
          const sj = S + j;
          let d = w[sj];
          if (r < d) {
            iw[P + j] = i;
            w[sj] = r;
            d = r;
          }
          // Among equal costs prefer a free column: it ends the search (matters for ties in
          // small-integer matrices).
          if (d < lowest || (d === lowest && iw[R4C + j] === -1)) {
            lowest = d;
            index = it;
          }
          const j2 = iw[it + 1];
          const r2 = minVal + w[base + j2] - ui - w[j2];
          const sj2 = S + j2;
          let d2 = w[sj2];
          if (r2 < d2) {
            iw[P + j2] = i;
            w[sj2] = r2;
            d2 = r2;
          }
          if (d2 < lowest || (d2 === lowest && iw[R4C + j2] === -1)) {
            lowest = d2;
            index = it + 1;
          }
        }
        if (it < numRemaining) {
          const j = iw[it];
          const r = minVal + w[base + j] - ui - w[j];
          const sj = S + j;
          let d = w[sj];
          if (r < d) {
            iw[P + j] = i;
            w[sj] = r;
            d = r;
          }
          if (d < lowest || (d === lowest && iw[R4C + j] === -1)) {
            lowest = d;
            index = it;
          }
        }
      } else {
        // Same loop reading the caller's layout transposed (see solver.ts for when).
        for (let it = 0; it < numRemaining; it++) {
          const j = iw[it];
          const r = minVal + w[base + j * cs] - ui - w[j];
          const sj = S + j;
          let d = w[sj];
          if (r < d) {
            iw[P + j] = i;
            w[sj] = r;
            d = r;
          }
          if (d < lowest || (d === lowest && iw[R4C + j] === -1)) {
            lowest = d;
            index = it;
          }
        }
      }
      minVal = lowest;
      if (minVal === Infinity) return CORE_INFEASIBLE; // only forbidden pairs left to extend the path
      const j = iw[index];
      const owner = iw[R4C + j];
      if (owner === -1) sink = j;
      else i = owner;
      iw[SC + numScanned++] = j;
      iw[index] = iw[--numRemaining]; // order-changing removal, exactly as SciPy
    }

    // --- Dual update. The scanned rows are curRow plus the owners of the scanned non-sink
    // columns, so the scanned-column list replaces SciPy's O(nr + nc) flag sweeps. ---
    w[U + curRow] += minVal;
    for (let k = 0; k < numScanned; k++) {
      const j = iw[SC + k];
      const delta = minVal - w[S + j];
      const owner = iw[R4C + j];
      if (owner !== -1) w[U + owner] += delta; // never curRow: it is still unassigned here
      w[j] -= delta; // zero for the sink
    }

    // --- Augment: flip the assignments along the predecessor path back to curRow ---
    let j = sink;
    for (;;) {
      const r = iw[P + j];
      iw[R4C + j] = r;
      const prev = iw[C4R + r];
      iw[C4R + r] = j;
      if (r === curRow) break;
      j = prev;
    }
  }
  return CORE_OK;
}
