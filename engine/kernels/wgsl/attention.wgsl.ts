/**
 * Fused scaled-dot-product attention, o = softmax(q·kᵀ·scale)·v, over contiguous q [BH, Tq, D],
 * k and v [BH, Tk, D] (BH = batch·heads; each f32 or f16, see AttentionStorage), without ever
 * writing a Tq×Tk matrix: memory is linear in T.
 *
 * Forward (FlashAttention-2's online softmax): an invocation owns R query rows; it walks the keys in
 * blocks of 4, keeps the running max m, the running sum l and the unnormalised output acc in private
 * arrays, rescales them by α = exp(m_old − m_new) once per block, and finally writes o = acc / l and
 * the log-sum-exp L = m + log l, which is all backward needs besides q, k, v, o.
 *
 * Backward (FlashAttention-2, P = exp(s − L) recomputed from L; deterministic, no atomics):
 *   attention/bwd-dq   one invocation per R query rows: Dᵢ = dOᵢ·oᵢ (written out for the next
 *                      kernel), then over all keys dS = P ∘ (dOᵢ·vⱼ − Dᵢ), dQᵢ = scale·Σⱼ dSᵢⱼ kⱼ.
 *   attention/bwd-dkv  one invocation per R key rows, over all queries: dVⱼ = Σᵢ Pᵢⱼ dOᵢ,
 *                      dKⱼ = scale·Σᵢ dSᵢⱼ qᵢ. Runs after bwd-dq (it reads Dᵢ).
 * Every sum over the other sequence is a serial f32 loop in a fixed order: results are
 * bit-reproducible. The logits are computed as (Σ_c q_c·k_c)·scale in all three kernels, so backward
 * recomputes exactly the forward's P.
 *
 * Layout of the work: workgroup (x, y, z) handles head bh = y + z·ny, invocation x its R rows. With
 * bh uniform over the workgroup, the rows of the other sequence that the inner loop reads (k, v in
 * forward and dQ; q, dO in dK/dV) are the same for every invocation of the workgroup. D (1..256) is
 * compiled in as a constant; rows are read as vec4 chunks (bound as array<vec4f> when D % 4 = 0, else
 * as guarded scalars). Rows past the end of a sequence are clamped for loading and masked (P = 0) or
 * not stored. The blocked and row layouts use no workgroup memory and no workgroupBarrier()
 * (SwiftShader runs barrier kernels ~10× slower); the tiled one does, for GPUs.
 *
 * Variants (AttentionVariant): 'blocked' — R rows per invocation, no workgroup memory, the one
 * measured below for CPU adapters without fixed-size subgroups; 'broadcast' — its own forward for
 * CPU adapters with them (below), the blocked backward; 'row' — the same kernels with R = 1; 'tiled' — R = 1, 64 rows per
 * workgroup, and the other sequence's rows (k, v; or q, dO, L, D) staged through workgroup memory one
 * tile at a time, so a tile is read from global memory once per workgroup instead of once per
 * invocation: FlashAttention's tiling for GPUs (a GPU thread has ≤ 255 registers: R = 8 at D = 64
 * would keep 1 024 floats per thread, spilled; one row keeps 2·D (fwd) to 4·D (dkv)). The arithmetic,
 * and so the results, are the same in all three: every sum runs in the same order (bit for bit on
 * lavapipe, tested; a driver may still contract multiply-adds differently per kernel). Measured on
 * lavapipe, forward [1,3,164,64]: blocked 2.2 ms, row 4.5, tiled 8.4 (barriers), composition 2.7.
 *
 * 'broadcast' (CPU adapters whose subgroups have one fixed size S): the forward with one subgroup per
 * workgroup, R = 2 query rows per invocation, and each block of keys loaded once per subgroup —
 * lane l loads chunks l, l + S, … of the block's K and V rows — and handed to every lane by
 * subgroupBroadcast; the D loops are unrolled so q, the accumulators and the key chunks are named
 * values, not private arrays (on lavapipe a dynamically indexed private array costs a per-lane loop
 * like a storage load; why loads dominate there is in matmul.wgsl.ts). The keys are still taken 4 at
 * a time in the same order, so the results are the blocked kernel's bit for bit (tested). Backward is
 * the blocked one. YOLOS-Ti shapes [1, 3, T, 64] (heads packed, no LSE), lavapipe, median of 5:
 * T = 421: blocked 22.1 ms, broadcast R = 2 8.9, R = 4 8.3; T = 1 445: blocked 185, R = 1 110,
 * R = 2 74, R = 4 85. First compile (LLVM; Mesa caches it on disk): D = 64 R = 2 ≈ 3.5 s (R = 4 ≈ 12 s),
 * D = 128 R = 1 ≈ 6 s, D = 200 R = 1 ≈ 15 s — so 'auto' takes it only for D ≤ 128. A broadcast
 * backward of the same design (dq: K, V shared; dk/dv: Q, dO shared) measured 2.9× the blocked one at
 * [1,3,1445,64] and bit-identical, but its cold compiles took minutes at D = 55…200: not kept.
 *
 * Versions tried, forward at [2,3,164,64] on lavapipe (Mesa 25.0.7, 2-core EPYC VM shared with other
 * jobs, so each figure is a ratio to the composition matmul → scale → softmax → matmul timed in the
 * same process, interleaved, min of 7-9 runs of 10 launches; validated against the reference first):
 *   v1 D-loops with constant bounds (unrolled), nested private arrays [R][DV], a flat 1-D grid:
 *      the first compile of one pipeline took 30-70 s at D = 32..64 (lavapipe's LLVM; 2 s at D = 8,
 *      8 s at 16: ~D²) — unusable. Also: a `var x: T;` declared inside the key loop was not re-zeroed
 *      on each iteration (Dawn's SPIR-V on lavapipe): wrong from the second key block on. Hence the
 *      explicit `= T()` initialisers below.
 *   v2 D-loops to a run-time bound (p.dv), not unrolled: compile 3-8 s; fused/composition
 *      R = 1: 6.7×, R = 2: 3.9×, R = 4: 2.1× (R rows per invocation reuse each k, v chunk loaded).
 *   v3 v2 + the head from the workgroup id, so k, v addresses are uniform over the workgroup:
 *      R = 4: 1.8×, R = 8: 1.35×.
 *   v4 v3 + array<vec4f> bindings (one load per chunk, not four): R = 4: 0.71-0.85×, R = 8: 0.63×,
 *      R = 16: 1.5× (too few invocations at T = 164).
 *   v5 v4 + flat private arrays [R·DV] instead of [R][DV]: R = 8: 0.50×; compile 3.4 s, not 6.7.
 *   Not kept: the accumulator in O in global memory (no private arrays; q re-read from Q): 1.1-1.4×
 *   slower than v2 at equal R. 8 or 16 keys per step instead of 4: no gain in any kernel
 *   (probably as the broadcast k rows then fill the vector registers).
 * Kept: v5. Same machine quiet (min of 9 runs of 10, wall): forward R = 8: 4.2 ms, R = 4: 4.9,
 * R = 16: 6.9, composition 5.4; bwd-dq R = 4: 5.7 ms, R = 8: 6.4; bwd-dkv R = 2: 12.1, R = 4: 12.0,
 * R = 8: 11.8. Whole op at [2,3,164,64]: forward 3.4-4.4 ms vs composition 4.8-5.9; forward +
 * backward 22-25 ms vs 15.6-16.8 — backward recomputes s and dP in both kernels (7·D multiply-adds
 * per (i, j) against the composition's 4·D, which stores P instead: T² memory). At [1,2,1024,64]:
 * forward 49 ms vs 113, forward + backward 245 ms vs 265. A cold first compile of all three
 * kernels for one D takes a few seconds on lavapipe (Mesa caches them on disk).
 */
import type { KernelSpec } from '../../runtime.ts';
import type { StoreType } from '../../dtype.ts';

/**
 * Storage of q, k, v and the forward's output o: f32 or f16 each (f16 needs 'shader-f16'). Rows are
 * converted to f32 as they are loaded, so every product, sum, exp and the log-sum-exp are f32 as on
 * the f32 path; only o is rounded to f16 once, when stored. Backward reads q, k, v as stored and o,
 * dO, writes dQ, dK, dV and the row statistics in f32.
 */
export interface AttentionStorage {
  q: StoreType;
  k: StoreType;
  v: StoreType;
  o: StoreType;
}
export const F32_STORAGE: AttentionStorage = { q: 'f32', k: 'f32', v: 'f32', o: 'f32' };

/** Kernel-key suffix and WGSL prologue for a storage choice ('' and none when all f32). */
function storage(s: AttentionStorage): { key: string; enable: string } {
  const half = [s.q, s.k, s.v, s.o].includes('f16');
  return half
    ? { key: `/${[s.q, s.k, s.v, s.o].map((t) => (t === 'f16' ? 'h' : 'f')).join('')}`, enable: 'enable f16;' }
    : { key: '', enable: '' };
}

/** Keys (forward, dQ) or queries (dK/dV) per step of the inner loop: one vec4 of logits. */
const KB = 4;

/**
 * 'blocked': R rows per invocation, barrier-free (CPU adapters); 'broadcast': key blocks shared over
 * a subgroup by subgroupBroadcast (CPU adapters with fixed-size subgroups; forward only, backward as
 * 'blocked'); 'row': one row per invocation,
 * barrier-free; 'tiled': one row per invocation, tiles of the other sequence in workgroup memory
 * (GPUs). See the header. The two GPU variants are not yet timed on a GPU (bench/gpu.ts compares them).
 */
export type AttentionVariant = 'blocked' | 'broadcast' | 'row' | 'tiled';
export const ATTENTION_VARIANTS: readonly AttentionVariant[] = ['blocked', 'broadcast', 'row', 'tiled'];

/** How one kernel is laid out: rows per invocation, invocations per workgroup, tile rows (0: untiled). */
export interface AttentionPlan {
  r: number;
  wg: number;
  tile: number;
  /** 'broadcast' forward: the subgroup size it is compiled for (its workgroup is one subgroup). */
  sg?: number;
}

/**
 * The layout of kernel `kernel` for head dimension d. Blocked, measured at D = 64 on lavapipe
 * (header): fwd R = 8, dq R = 4, dkv R = 4 (8: same). Tiled: as many rows per tile (a multiple of 4,
 * 4…64) as fit `wgBytes` of workgroup memory (16 KiB is WebGPU's guaranteed minimum).
 */
export function attentionPlan(
  d: number,
  kernel: 'fwd' | 'dq' | 'dkv',
  variant: AttentionVariant = 'blocked',
  wgBytes = 16384,
  subgroupSize: number | null = null,
): AttentionPlan {
  if (variant === 'row') return { r: 1, wg: 32, tile: 0 };
  // 'broadcast' (header): its own forward (2 rows per invocation, measured at D = 64; 1 for D > 64,
  // as LLVM's compile time grows with R·D), the blocked backward.
  if (variant === 'broadcast' && kernel === 'fwd') return { r: d <= 64 ? 2 : 1, wg: subgroupSize!, tile: 0, sg: subgroupSize! };
  if (variant === 'tiled') {
    const perRow = tileRowBytes(d, kernel);
    return { r: 1, wg: 64, tile: Math.max(KB, Math.min(64, Math.floor(wgBytes / perRow / KB) * KB)) };
  }
  const r = d <= 64 ? 8 : d <= 128 ? 4 : 2;
  return { r: kernel === 'fwd' ? r : r / 2, wg: 32, tile: 0 };
}

/** Workgroup storage per tile row: two vec4 arrays of ⌈D/4⌉ chunks (k, v; or q, dO), plus L and D for dK/dV. */
const tileRowBytes = (d: number, kernel: 'fwd' | 'dq' | 'dkv') => 2 * Math.ceil(d / 4) * 16 + (kernel === 'dkv' ? 8 : 0);

/** Bytes of var<workgroup> of a kernel laid out by `plan` (0 untiled). */
export function attentionWorkgroupBytes(d: number, kernel: 'fwd' | 'dq' | 'dkv', plan: AttentionPlan): number {
  return plan.tile * tileRowBytes(d, kernel);
}

/** Workgroups for `blocks` row blocks (of R rows) in each of `bh` heads. */
export function attentionGrid(blocks: number, bh: number, plan: AttentionPlan): [number, number, number] {
  const y = Math.min(bh, 65535);
  return [Math.ceil(blocks / plan.wg), y, Math.ceil(bh / y)];
}

/** Element type of a [.., D] binding: vec4 chunks when D is a multiple of 4. */
const ROW = (d: number, t: StoreType = 'f32') => (d % 4 === 0 ? `vec4<${t}>` : t);

/** Constants shared by the three kernels. */
function prologue(d: number, plan: AttentionPlan): string {
  return /* wgsl */ `
const D: u32 = ${d}u;
const DV: u32 = ${Math.ceil(d / 4)}u;
const R: u32 = ${plan.r}u;
const NEG_BIG: f32 = -3.0e38;`;
}

/** Kernel-key suffix of a plan ('' for untiled: the row count is already in the key). */
const planKey = (plan: AttentionPlan) => (plan.tile ? `/t${plan.tile}w${plan.wg}` : '');

/**
 * Entry point: head bh from the workgroup, first row row0 of this invocation's R rows. Tiled kernels
 * keep invocations past the last row block alive (clamped loads, no stores): every invocation must
 * reach the workgroup barriers. The head test is uniform over the workgroup.
 */
const ENTRY = (blocks: string, plan: AttentionPlan) => /* wgsl */ `
@compute @workgroup_size(${plan.wg})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u${plan.tile ? ', @builtin(local_invocation_index) lid: u32' : ''}) {
  let bh = wid.y + wid.z * nwg.y;
  if (${plan.tile ? '' : `gid.x >= ${blocks} || `}bh >= p.bh) { return; }
  let row0 = gid.x * R;`;

/** vec4f chunk c of the row that starts at element `base` of `a` (stored as t); lanes past D read as 0. */
function load4(a: string, base: string, c: string, d: number, t: StoreType = 'f32'): string {
  if (d % 4 === 0) return t === 'f16' ? `vec4f(${a}[(${base} >> 2u) + ${c}])` : `${a}[(${base} >> 2u) + ${c}]`;
  // Out-of-range indices are safe in WGSL (clamped by the implementation); select drops the value.
  return `vec4f(${[0, 1, 2, 3].map((k) => `select(0.0, f32(${a}[${base} + ${c} * 4u + ${k}u]), ${c} * 4u + ${k}u < D)`).join(', ')})`;
}

/** Stores vec4f `val` as chunk c of the row at element `base` of `a` (stored as t), skipping lanes past D. */
function store4(a: string, base: string, c: string, val: string, d: number, t: StoreType = 'f32'): string {
  if (d % 4 === 0) return `${a}[(${base} >> 2u) + ${c}] = ${t === 'f16' ? `vec4<f16>(${val})` : val};`;
  return [0, 1, 2, 3].map((k) => `if (${c} * 4u + ${k}u < D) { ${a}[${base} + ${c} * 4u + ${k}u] = ${t}(${val}[${k}]); }`).join(' ');
}

/**
 * Chunk c's loads and stores for the kernels' bindings: Q, K, V and O in the storage chosen, the
 * rest (dO, dQ, dK, dV) f32.
 */
function rowAccess(d: number, st: AttentionStorage) {
  const type = (a: string): StoreType => ({ Q: st.q, K: st.k, V: st.v, O: st.o })[a] ?? 'f32';
  return {
    ld: (a: string, base: string, c = 'c') => load4(a, base, c, d, type(a)),
    sto: (a: string, base: string, val: string, c = 'c') => store4(a, base, c, val, d, type(a)),
  };
}

/** WGSL for the first element of row t (of a sequence of len rows) of head bh. */
type RowBase = (t: string, len: string) => string;
/** Rows of [BH, T, D], contiguous per head. */
const packedRows: RowBase = (t, len) => `(bh * ${len} + ${t}) * D`;
/** Rows of [B, T, H, D] (a linear layer's [B, T, H·D] output, heads not split out): head bh = b·H + h. */
const headRows =
  (h: number): RowBase =>
  (t, len) =>
    `((bh / ${h}u) * ${len} + ${t}) * ${h}u * D + (bh % ${h}u) * D`;

/**
 * The walk over the other sequence (keys for fwd and dQ, queries for dK/dV) in blocks of 4 rows
 * n0…n0+3: `open` starts the loop body with `<name>Ok` (which rows exist), `row(X, i)` is chunk c of
 * block row i of binding X, `scalar(X, i)` element i of a per-row binding (L, D), `close` ends it.
 * Untiled: rows straight from global memory (clamped to the last row; masked by Ok). Tiled: each
 * tile of `plan.tile` rows is first copied to workgroup memory by the whole workgroup.
 */
function otherRows(
  plan: AttentionPlan,
  name: string,
  n0: string,
  len: string,
  arrays: string[],
  scalars: string[],
  ld: (a: string, base: string) => string,
  base: RowBase = packedRows,
) {
  const ok = `
    let ${name}Ok = vec4<bool>(${n0} < ${len}, ${n0} + 1u < ${len}, ${n0} + 2u < ${len}, ${n0} + 3u < ${len});`;
  if (!plan.tile) {
    return {
      decls: '',
      open: `for (var ${n0} = 0u; ${n0} < ${len}; ${n0} += ${KB}u) {${ok}
${[0, 1, 2, 3].map((i) => `    let ${name}${i} = ${base(`min(${n0}${i ? ` + ${i}u` : ''}, ${len} - 1u)`, len)};`).join('\n')}`,
      row: (x: string, i: number) => ld(x, `${name}${i}`),
      scalar: (x: string, i: number) => `${x}[bh * ${len} + min(${n0}${i ? ` + ${i}u` : ''}, ${len} - 1u)]`,
      close: '}',
    };
  }
  const T = plan.tile;
  return {
    decls: [
      ...arrays.map((x) => `var<workgroup> ${x}s: array<vec4f, ${T} * DV>;`),
      ...scalars.map((x) => `var<workgroup> ${x}s: array<f32, ${T}>;`),
    ].join('\n'),
    open: `for (var t0 = 0u; t0 < ${len}; t0 += ${T}u) {
    workgroupBarrier(); // the previous tile's readers are done
    for (var e = lid; e < ${T}u * DV; e += ${plan.wg}u) {
      let c = e % DV;
      let b = ${base(`min(t0 + e / DV, ${len} - 1u)`, len)};
${arrays.map((x) => `      ${x}s[e] = ${ld(x, 'b')};`).join('\n')}
    }
${
  scalars.length
    ? `    for (var e = lid; e < ${T}u; e += ${plan.wg}u) {
${scalars.map((x) => `      ${x}s[e] = ${x}[bh * ${len} + min(t0 + e, ${len} - 1u)];`).join('\n')}
    }\n`
    : ''
}    workgroupBarrier();
    for (var ${n0} = t0; ${n0} < min(t0 + ${T}u, ${len}); ${n0} += ${KB}u) {${ok}
${[0, 1, 2, 3].map((i) => `    let ${name}${i} = (${n0} - t0 + ${i}u) * DV;`).join('\n')}`,
    row: (x: string, i: number) => `${x}s[${name}${i} + c]`,
    scalar: (x: string, i: number) => `${x}s[${n0} - t0 + ${i}u]`,
    close: '} }',
  };
}

// In every kernel, D-chunk loops run to the uniform p.dv (= DV) rather than the constant, so the
// driver does not unroll them (see v1 above). Private arrays are flat: element [r·DV + c].

/** The forward kernels' params and bindings: q, k, v, then o and (lse) the log-sum-exp. */
const forwardBindings = (
  d: number,
  st: AttentionStorage,
  lse: boolean,
) => /* wgsl */ `struct Params { bh: u32, tq: u32, tk: u32, scale: f32, qBlocks: u32, dv: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<${ROW(d, st.q)}>;
@group(0) @binding(2) var<storage, read> K: array<${ROW(d, st.k)}>;
@group(0) @binding(3) var<storage, read> V: array<${ROW(d, st.v)}>;
@group(0) @binding(4) var<storage, read_write> O: array<${ROW(d, st.o)}>;
${lse ? '@group(0) @binding(5) var<storage, read_write> LSE: array<f32>;' : ''}`;

/**
 * Where the forward's rows live and what it writes. heads = H > 0: q, k, v and o are [B, T, H·D] (a
 * linear layer's output, no permute to [B, H, T, D] and back: in YOLOS-Ti those four copies cost
 * about as much as a tenth of the forward). lse = false: no log-sum-exp output, for inference.
 */
export interface AttentionForwardLayout {
  heads?: number;
  lse?: boolean;
}

/**
 * Forward. Params { bh, tq, tk, scale, qBlocks = ⌈tq/R⌉, dv = ⌈D/4⌉ }; inputs q, k, v; outputs
 * o [BH,Tq,D] (or [B,Tq,H·D], see AttentionForwardLayout), lse [BH,Tq] unless layout.lse is false.
 * Grid: attentionGrid(qBlocks, bh, plan).
 */
export function attentionForwardKernel(
  d: number,
  st: AttentionStorage = F32_STORAGE,
  plan = attentionPlan(d, 'fwd'),
  layout: AttentionForwardLayout = {},
): KernelSpec {
  if (plan.sg) return attentionForwardBroadcastKernel(d, st, { ...plan, sg: plan.sg }, layout);
  const { key, enable } = storage(st);
  const { ld, sto } = rowAccess(d, st);
  const heads = layout.heads ?? 0,
    lse = layout.lse ?? true;
  const base = heads ? headRows(heads) : packedRows;
  const kv = otherRows(plan, 'kb', 'j0', 'p.tk', ['K', 'V'], [], ld, base);
  return {
    key: `attention/fwd/d${d}/r${plan.r}${planKey(plan)}${key}${heads ? `/h${heads}` : ''}${lse ? '' : '/nolse'}`,
    inputs: 3,
    outputs: lse ? 2 : 1,
    code: () => /* wgsl */ `${enable}
${prologue(d, plan)}
${forwardBindings(d, st, lse)}
${kv.decls}
${ENTRY('p.qBlocks', plan)}
  var q = array<vec4f, R * DV>();
  var acc = array<vec4f, R * DV>();   // Σⱼ exp(sᵢⱼ − mᵢ)·vⱼ
  var m = array<f32, R>();
  var l = array<f32, R>();
  for (var r = 0u; r < R; r++) {
    let qb = ${base('min(row0 + r, p.tq - 1u)', 'p.tq')};
    for (var c = 0u; c < p.dv; c++) { q[r * DV + c] = ${ld('Q', 'qb')}; }
    m[r] = NEG_BIG;
  }
  ${kv.open}
    var s = array<vec4f, R>();   // q·k of R rows × 4 keys
    for (var c = 0u; c < p.dv; c++) {
      let k0 = ${kv.row('K', 0)}; let k1 = ${kv.row('K', 1)};
      let k2 = ${kv.row('K', 2)}; let k3 = ${kv.row('K', 3)};
      for (var r = 0u; r < R; r++) {
        let qc = q[r * DV + c];
        s[r] += vec4f(dot(qc, k0), dot(qc, k1), dot(qc, k2), dot(qc, k3));
      }
    }
    var pr = array<vec4f, R>();
    var alpha = array<f32, R>();
    for (var r = 0u; r < R; r++) {
      let sr = select(vec4f(NEG_BIG), s[r] * p.scale, kbOk);
      let mNew = max(m[r], max(max(sr.x, sr.y), max(sr.z, sr.w)));
      alpha[r] = exp(m[r] - mNew);
      pr[r] = select(vec4f(0.0), exp(sr - mNew), kbOk);
      l[r] = l[r] * alpha[r] + ((pr[r].x + pr[r].y) + (pr[r].z + pr[r].w));
      m[r] = mNew;
    }
    for (var c = 0u; c < p.dv; c++) {
      let v0 = ${kv.row('V', 0)}; let v1 = ${kv.row('V', 1)};
      let v2 = ${kv.row('V', 2)}; let v3 = ${kv.row('V', 3)};
      for (var r = 0u; r < R; r++) {
        let w = pr[r];
        acc[r * DV + c] = acc[r * DV + c] * alpha[r] + (w.x * v0 + w.y * v1) + (w.z * v2 + w.w * v3);
      }
    }
  ${kv.close}
  for (var r = 0u; r < R; r++) {
    if (row0 + r >= p.tq) { break; }
    let ob = ${base('row0 + r', 'p.tq')};
    let inv = 1.0 / l[r];
    for (var c = 0u; c < p.dv; c++) { let val = acc[r * DV + c] * inv; ${sto('O', 'ob', 'val')} }
    ${lse ? 'LSE[bh * p.tq + row0 + r] = m[r] + log(l[r]);' : ''}
  }
}`,
  };
}

/**
 * Backward, part 1: dQ and Dᵢ = dOᵢ·oᵢ. Params as forward; inputs q, k, v, o, lse, dO; outputs
 * dQ [BH,Tq,D], delta [BH,Tq]. Grid: attentionGrid(qBlocks, bh, plan).
 */
export function attentionBackwardDqKernel(d: number, st: AttentionStorage = F32_STORAGE, plan = attentionPlan(d, 'dq')): KernelSpec {
  const { key, enable } = storage(st);
  const { ld, sto } = rowAccess(d, st);
  const kv = otherRows(plan, 'kb', 'j0', 'p.tk', ['K', 'V'], [], ld);
  return {
    key: `attention/bwd-dq/d${d}/r${plan.r}${planKey(plan)}${key}`,
    inputs: 6,
    outputs: 2,
    code: () => /* wgsl */ `${enable}
${prologue(d, plan)}
struct Params { bh: u32, tq: u32, tk: u32, scale: f32, qBlocks: u32, dv: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<${ROW(d, st.q)}>;
@group(0) @binding(2) var<storage, read> K: array<${ROW(d, st.k)}>;
@group(0) @binding(3) var<storage, read> V: array<${ROW(d, st.v)}>;
@group(0) @binding(4) var<storage, read> O: array<${ROW(d, st.o)}>;
@group(0) @binding(5) var<storage, read> LSE: array<f32>;
@group(0) @binding(6) var<storage, read> GO: array<${ROW(d)}>;
@group(0) @binding(7) var<storage, read_write> GQ: array<${ROW(d)}>;
@group(0) @binding(8) var<storage, read_write> DELTA: array<f32>;
${kv.decls}
${ENTRY('p.qBlocks', plan)}
  var q = array<vec4f, R * DV>();
  var g = array<vec4f, R * DV>();    // dOᵢ
  var dq = array<vec4f, R * DV>();   // Σⱼ dSᵢⱼ kⱼ
  var lse = array<f32, R>();
  var delta = array<f32, R>();
  for (var r = 0u; r < R; r++) {
    let row = bh * p.tq + min(row0 + r, p.tq - 1u);
    let b = row * D;
    var dl = 0.0;
    for (var c = 0u; c < p.dv; c++) {
      q[r * DV + c] = ${ld('Q', 'b')};
      g[r * DV + c] = ${ld('GO', 'b')};
      dl += dot(g[r * DV + c], ${ld('O', 'b')});
    }
    lse[r] = LSE[row];
    delta[r] = dl;
  }
  ${kv.open}
    var s = array<vec4f, R>();
    var dp = array<vec4f, R>();   // dOᵢ·vⱼ
    for (var c = 0u; c < p.dv; c++) {
      let k0 = ${kv.row('K', 0)}; let k1 = ${kv.row('K', 1)};
      let k2 = ${kv.row('K', 2)}; let k3 = ${kv.row('K', 3)};
      let v0 = ${kv.row('V', 0)}; let v1 = ${kv.row('V', 1)};
      let v2 = ${kv.row('V', 2)}; let v3 = ${kv.row('V', 3)};
      for (var r = 0u; r < R; r++) {
        let qc = q[r * DV + c]; let gc = g[r * DV + c];
        s[r] += vec4f(dot(qc, k0), dot(qc, k1), dot(qc, k2), dot(qc, k3));
        dp[r] += vec4f(dot(gc, v0), dot(gc, v1), dot(gc, v2), dot(gc, v3));
      }
    }
    var ds = array<vec4f, R>();
    for (var r = 0u; r < R; r++) {
      let pr = select(vec4f(0.0), exp(s[r] * p.scale - lse[r]), kbOk);
      ds[r] = pr * (dp[r] - delta[r]);
    }
    for (var c = 0u; c < p.dv; c++) {
      let k0 = ${kv.row('K', 0)}; let k1 = ${kv.row('K', 1)};
      let k2 = ${kv.row('K', 2)}; let k3 = ${kv.row('K', 3)};
      for (var r = 0u; r < R; r++) {
        let w = ds[r];
        dq[r * DV + c] += (w.x * k0 + w.y * k1) + (w.z * k2 + w.w * k3);
      }
    }
  ${kv.close}
  for (var r = 0u; r < R; r++) {
    if (row0 + r >= p.tq) { break; }
    let row = bh * p.tq + row0 + r;
    let b = row * D;
    for (var c = 0u; c < p.dv; c++) { let val = dq[r * DV + c] * p.scale; ${sto('GQ', 'b', 'val')} }
    DELTA[row] = delta[r];
  }
}`,
  };
}

/**
 * Backward, part 2: dK and dV. Params { bh, tq, tk, scale, kBlocks = ⌈tk/R⌉, dv }; inputs q, k, v,
 * lse, delta (from bwd-dq), dO; outputs dK, dV [BH,Tk,D]. Grid: attentionGrid(kBlocks, bh, plan).
 */
export function attentionBackwardDkvKernel(d: number, st: AttentionStorage = F32_STORAGE, plan = attentionPlan(d, 'dkv')): KernelSpec {
  const { key, enable } = storage(st);
  const { ld, sto } = rowAccess(d, st);
  const qs = otherRows(plan, 'qb', 'i0', 'p.tq', ['Q', 'GO'], ['LSE', 'DELTA'], ld);
  return {
    key: `attention/bwd-dkv/d${d}/r${plan.r}${planKey(plan)}${key}`,
    inputs: 6,
    outputs: 2,
    code: () => /* wgsl */ `${enable}
${prologue(d, plan)}
struct Params { bh: u32, tq: u32, tk: u32, scale: f32, kBlocks: u32, dv: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<${ROW(d, st.q)}>;
@group(0) @binding(2) var<storage, read> K: array<${ROW(d, st.k)}>;
@group(0) @binding(3) var<storage, read> V: array<${ROW(d, st.v)}>;
@group(0) @binding(4) var<storage, read> LSE: array<f32>;
@group(0) @binding(5) var<storage, read> DELTA: array<f32>;
@group(0) @binding(6) var<storage, read> GO: array<${ROW(d)}>;
@group(0) @binding(7) var<storage, read_write> GK: array<${ROW(d)}>;
@group(0) @binding(8) var<storage, read_write> GV: array<${ROW(d)}>;
${qs.decls}
${ENTRY('p.kBlocks', plan)}
  var k = array<vec4f, R * DV>();
  var v = array<vec4f, R * DV>();
  var dk = array<vec4f, R * DV>();   // Σᵢ dSᵢⱼ qᵢ
  var dv = array<vec4f, R * DV>();   // Σᵢ Pᵢⱼ dOᵢ
  for (var r = 0u; r < R; r++) {
    let b = (bh * p.tk + min(row0 + r, p.tk - 1u)) * D;
    for (var c = 0u; c < p.dv; c++) {
      k[r * DV + c] = ${ld('K', 'b')};
      v[r * DV + c] = ${ld('V', 'b')};
    }
  }
  ${qs.open}
    let lse = vec4f(${[0, 1, 2, 3].map((i) => qs.scalar('LSE', i)).join(', ')});
    let delta = vec4f(${[0, 1, 2, 3].map((i) => qs.scalar('DELTA', i)).join(', ')});
    var s = array<vec4f, R>();    // qᵢ·kⱼ for the 4 queries i of this block, per key row r
    var dp = array<vec4f, R>();   // dOᵢ·vⱼ
    for (var c = 0u; c < p.dv; c++) {
      let q0 = ${qs.row('Q', 0)}; let q1 = ${qs.row('Q', 1)};
      let q2 = ${qs.row('Q', 2)}; let q3 = ${qs.row('Q', 3)};
      let g0 = ${qs.row('GO', 0)}; let g1 = ${qs.row('GO', 1)};
      let g2 = ${qs.row('GO', 2)}; let g3 = ${qs.row('GO', 3)};
      for (var r = 0u; r < R; r++) {
        let kc = k[r * DV + c]; let vc = v[r * DV + c];
        s[r] += vec4f(dot(q0, kc), dot(q1, kc), dot(q2, kc), dot(q3, kc));
        dp[r] += vec4f(dot(g0, vc), dot(g1, vc), dot(g2, vc), dot(g3, vc));
      }
    }
    var pr = array<vec4f, R>();
    var ds = array<vec4f, R>();
    for (var r = 0u; r < R; r++) {
      pr[r] = select(vec4f(0.0), exp(s[r] * p.scale - lse), qbOk);
      ds[r] = pr[r] * (dp[r] - delta);
    }
    for (var c = 0u; c < p.dv; c++) {
      let q0 = ${qs.row('Q', 0)}; let q1 = ${qs.row('Q', 1)};
      let q2 = ${qs.row('Q', 2)}; let q3 = ${qs.row('Q', 3)};
      let g0 = ${qs.row('GO', 0)}; let g1 = ${qs.row('GO', 1)};
      let g2 = ${qs.row('GO', 2)}; let g3 = ${qs.row('GO', 3)};
      for (var r = 0u; r < R; r++) {
        let w = pr[r]; let z = ds[r];
        dv[r * DV + c] += (w.x * g0 + w.y * g1) + (w.z * g2 + w.w * g3);
        dk[r * DV + c] += (z.x * q0 + z.y * q1) + (z.z * q2 + z.w * q3);
      }
    }
  ${qs.close}
  for (var r = 0u; r < R; r++) {
    if (row0 + r >= p.tk) { break; }
    let b = (bh * p.tk + row0 + r) * D;
    for (var c = 0u; c < p.dv; c++) {
      let a = dk[r * DV + c] * p.scale; let e = dv[r * DV + c];
      ${sto('GK', 'b', 'a')}
      ${sto('GV', 'b', 'e')}
    }
  }
}`,
  };
}

/**
 * Forward, 'broadcast' layout (see the header): blocks of KL keys, KL a multiple of 4 whose K (and V)
 * chunks split evenly over the S lanes; lanes past the last query row stay (clamped loads, no
 * stores), since every lane takes part in the broadcasts.
 */
function attentionForwardBroadcastKernel(
  d: number,
  st: AttentionStorage,
  plan: AttentionPlan & { sg: number },
  layout: AttentionForwardLayout = {},
): KernelSpec {
  const { key, enable } = storage(st);
  const S = plan.sg,
    R = plan.r,
    DV = Math.ceil(d / 4);
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  const KL = (4 * DV * S) / gcd(4 * DV, S) / DV; // keys per load block: a multiple of 4 whose chunks split evenly over S lanes
  const NL = (KL * DV) / S;
  const heads = layout.heads ?? 0,
    lse = layout.lse ?? true;
  const base = heads ? headRows(heads) : packedRows;
  const { ld, sto } = rowAccess(d, st);
  const L: string[] = [];
  const R_ = [...Array(R).keys()],
    C_ = [...Array(DV).keys()];
  for (const r of R_) {
    L.push(`let qb${r} = ${base(`min(row0 + ${r}u, p.tq - 1u)`, 'p.tq')};`);
    for (const c of C_) L.push(`let q${r}_${c} = ${ld('Q', `qb${r}`, `${c}u`)}; var a${r}_${c} = vec4f(0.0);`);
    L.push(`var m${r} = NEG_BIG; var l${r} = 0.0;`);
  }
  L.push(`for (var j0 = 0u; j0 < p.tk; j0 += ${KL}u) {`);
  for (let t = 0; t < NL; t++) {
    L.push(`  { let e = lane + ${S * t}u; let kb = ${base(`min(j0 + e / DV, p.tk - 1u)`, 'p.tk')}; let c = e % DV;`);
    L.push(`    kr${t} = ${ld('K', 'kb', 'c')}; vr${t} = ${ld('V', 'kb', 'c')}; }`);
  }
  const bc = (x: string, e: number) => `subgroupBroadcast(${x}r${Math.floor(e / S)}, ${e % S}u)`;
  for (let b = 0; b < KL / 4; b++) {
    L.push(`  {`);
    L.push(`  let kbOk = vec4<bool>(${[0, 1, 2, 3].map((i) => `j0 + ${4 * b + i}u < p.tk`).join(', ')});`);
    for (const r of R_) L.push(`  var s${r} = vec4f(0.0);`);
    for (const c of C_) {
      L.push(`  { ${[0, 1, 2, 3].map((i) => `let k${i} = ${bc('k', (4 * b + i) * DV + c)};`).join(' ')}`);
      for (const r of R_) L.push(`    s${r} += vec4f(dot(q${r}_${c}, k0), dot(q${r}_${c}, k1), dot(q${r}_${c}, k2), dot(q${r}_${c}, k3));`);
      L.push(`  }`);
    }
    for (const r of R_) {
      L.push(`  let sr${r} = select(vec4f(NEG_BIG), s${r} * p.scale, kbOk);`);
      L.push(`  let mn${r} = max(m${r}, max(max(sr${r}.x, sr${r}.y), max(sr${r}.z, sr${r}.w)));`);
      L.push(`  let al${r} = exp(m${r} - mn${r}); let w${r} = select(vec4f(0.0), exp(sr${r} - mn${r}), kbOk);`);
      L.push(`  l${r} = l${r} * al${r} + ((w${r}.x + w${r}.y) + (w${r}.z + w${r}.w)); m${r} = mn${r};`);
    }
    for (const c of C_) {
      L.push(`  { ${[0, 1, 2, 3].map((i) => `let v${i} = ${bc('v', (4 * b + i) * DV + c)};`).join(' ')}`);
      for (const r of R_) L.push(`    a${r}_${c} = a${r}_${c} * al${r} + (w${r}.x * v0 + w${r}.y * v1) + (w${r}.z * v2 + w${r}.w * v3);`);
      L.push(`  }`);
    }
    L.push(`  }`);
  }
  L.push(`}`);
  for (const r of R_) {
    L.push(`if (row0 + ${r}u < p.tq) { let ob = ${base(`row0 + ${r}u`, 'p.tq')}; let inv = 1.0 / l${r};`);
    for (const c of C_) L.push(`  { let val = a${r}_${c} * inv; ${sto('O', 'ob', 'val', `${c}u`)} }`);
    if (lse) L.push(`  LSE[bh * p.tq + row0 + ${r}u] = m${r} + log(l${r});`);
    L.push(`}`);
  }
  return {
    key: `attention/fwd-bc/d${d}/r${R}/s${S}${key}${heads ? `/h${heads}` : ''}${lse ? '' : '/nolse'}`,
    inputs: 3,
    outputs: lse ? 2 : 1,
    code: () => /* wgsl */ `enable subgroups;
${enable}
${prologue(d, plan)}
${forwardBindings(d, st, lse)}
@compute @workgroup_size(${S})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let bh = wid.y + wid.z * nwg.y;
  if (bh >= p.bh) { return; }
  let row0 = (wid.x * ${S}u + lid) * R;
  ${Array.from({ length: NL }, (_, t) => `var kr${t} = vec4f(0.0); var vr${t} = vec4f(0.0);`).join(' ')}
  ${L.join('\n  ')}
}`,
  };
}
