/**
 * Batched matmul C[b] = epilogue(op(A[b]) · op(B[b])), either operand read transposed through its
 * strides (no copy), batch dimensions broadcast through per-operand batch strides (rank ≤ 4 after
 * collapsing). The fused epilogue is act(A·B + bias) + residual, optionally also writing the
 * pre-activation Z = A·B + bias (what the backward of the activation needs).
 *
 * Variants (chosen per adapter and shape in ops/matmul.ts; `{ variant }` or YOLOS_MATMUL forces one;
 * all sum each output over K in the same order, so they agree bit for bit where the driver does not
 * contract multiply-adds differently):
 * - `register` (TM×TN outputs per invocation, no workgroup memory, no barriers): per step along K
 *   each invocation loads its TM values of A and TN of B and does TM·TN FMAs into vec4 accumulators.
 *   vec4 loads where the operand's contiguous axis allows it — A along K (row-major A, K % 4 = 0) or
 *   along M (Aᵀ stored [K, M], M % 4 = 0), B along N (N % 4 = 0) or along K (Bᵀ stored [N, K],
 *   K % 4 = 0; a load along K makes the loop step 4 at a time) — and vec4 stores, bias and residual
 *   when N % 4 = 0. Tails: loads clamp their index into the matrix (rows/columns past the edge
 *   compute values that are never stored, so an Inf there cannot leak through a 0·Inf mask); stores
 *   are guarded; the epilogue runs once per output in a loop over the accumulators.
 * - `shared` (workgroups of 16×16 invocations, each 4×4 outputs — a 64×64 tile, K in slices of 16 —
 *   or 8×8 — a 128×128 tile, K in slices of 8 — staged in workgroup memory between two barriers):
 *   the classic GPU kernel; every global element is read once per tile instead of once per
 *   invocation. Loads are coalesced for either layout (consecutive invocations read consecutive
 *   addresses) and zero-filled past the edges. An invocation's rows and columns are groups of 4
 *   consecutive ones, so it reads them from workgroup memory as vec4s: per step of K, 2 (4×4) or 4
 *   (8×8) vec4 loads for 16 or 64 FMAs. A GPU's workgroup memory delivers about one word per FMA
 *   lane every 4 FMAs, so 4×4 tops out near half the FMA peak; 8×8 does not.
 *
 * Measured (2 vCPUs shared with other jobs: load average ≈ 10, so wall times are inflated ~3× and
 * noisy; the process CPU time is the steadier figure). Wall-clock median of 7 runs (5 on SwiftShader)
 * around `await engine().flush()` after 2 warm-ups, variants interleaved round-robin, results
 * validated first; GFLOP/s = 2n³ / median:
 *
 *   GFLOP/s (CPU ms)     lavapipe 512³   lavapipe 1024³   lavapipe 512³ a·bᵀ  1024³ a·bᵀ    SwiftShader 512³  1024³
 *   plain 4×4 (before)   1.14 (85)       1.45 (505)       1.43 (80)           0.65 (1017)   0.40 (352)        0.26 (2585)
 *   register4x4          1.61 (58)       2.03 (432)       2.25 (45)           1.63 (430)    0.38 (296)        0.36 (1787)
 *   register8x4          3.52 (36)       2.30 (371)       2.34 (39)           1.77 (355)    0.63 (201)        0.43 (1548)
 *   shared               0.75 (143)      0.72 (1184)      0.72 (138)          0.63 (1187)   0.23 (605)        0.21 (3244)
 *
 * register8x4 wins on both software adapters: per 4 steps of K an invocation issues 8 + 4 vec4 loads
 * (each a gather across SIMD lanes on a CPU) for 128 FMAs, against 8 for 64 at 4×4 and 32 scalar
 * loads for 64 in the plain kernel; the shared kernel pays for its barriers (a CPU runs a
 * workgroup's invocations as coroutines that switch at each barrier) and for scalar workgroup-memory
 * gathers. Tried and dropped: 8×8 tiles (64 accumulators per lane spill: 50 vs 38 CPU ms at 512³ on
 * lavapipe, equal on SwiftShader); workgroups of 8×8, 16×8, 32×1, 64×1 for 8×4 (within noise; 16×8
 * kept); one column per lane with 8–32 rows per invocation so A's loads are uniform across the lanes
 * (3–6× slower); scalar loads instead of vec4 (+25 % CPU); an epilogue unrolled per output (a GELU
 * kernel took 20 s to compile on lavapipe; now one loop over the accumulators, ≤ 3 s). On a hardware
 * GPU `shared` is the textbook choice (each element read from memory once per 64-wide tile, not once
 * per invocation); no hardware GPU was available to measure it here. Later, with the vec4 layout of
 * workgroup memory and a quieter machine (lavapipe, 512³, mean of 5 after a warm-up): register8x4
 * 11.3 GFLOP/s, shared (64×64) 3.9, shared128 7.2.
 *
 * - `broadcast` (CPU adapters whose subgroups have one fixed size S; workgroup = one subgroup): each
 *   invocation owns 4 rows of C and the subgroup shares max(32, S) columns. Per step of 4 along K
 *   the columns' block of B (32 vec4 chunks) is loaded once per subgroup — invocation l loads chunks
 *   l, l + S, … — and handed to every invocation by subgroupBroadcast; each invocation loads only
 *   its own rows of A. K % 4 ≠ 0 ends with a partial step whose extra products are skipped.
 *
 * Why broadcast wins on lavapipe (Mesa 25.0.7, LLVM 15, 8-lane AVX2 code): an invocation is a SIMD
 * lane, and every storage-buffer (or workgroup, private-array, uniform-array or texture) load that
 * is not a compile-time constant becomes a loop over the 8 lanes — per lane a bounds check, a
 * branch, a scalar load and an insert, ≈ 2.5 cycles per element per lane (GALLIVM_DEBUG=asm shows
 * it; a micro-benchmark of one vec4 load per iteration: 2.3 ns per lane against 0.8 for an ALU-only
 * loop) — and Dawn's SPIR-V gives it no address it can prove uniform, so even loads every lane makes
 * at the same address pay per lane. A subgroupBroadcast is an extract and a splat (0.05 ns per lane
 * per vec4). The register kernels spend ≈ 5× more cycles in loads than in FMAs; broadcast divides
 * the loads of B by S. Measured in one process, interleaved, median of 5 (GFLOP/s, the YOLOS-Ti
 * products at 421 tokens, a·bᵀ, load ≈ 1): M, K, N = 421, 192, 768: register8x4 7.0, register8x8
 * 8.6, broadcast 4×32 23.5 (4×16 13.1, 2×32 19.1, 4×48 16.6, 8×32 8.0, 4×64 7.9: larger tiles
 * spill); 421, 768, 192: register8x8 7.8, broadcast 4×32 17.0; 421, 192, 576: 7.4 vs 16.7. A YOLOS-Ti
 * forward at 256×320 went from 925 to 354 ms of GPU time (with the broadcast attention forward).
 *
 * Accuracy: every variant accumulates each output as a serial f32 sum over K (FMA or not), so
 * |C − C_exact| ≤ γ_K · Σ_k |A_ik·B_kj| with γ_K ≈ K·2⁻²⁴ — the tolerance the tests use. f16 operands
 * are converted exactly to f32 on load; accumulation stays f32.
 */
import type { KernelSpec } from '../../runtime.ts';
import { MATH } from './elementwise.wgsl.ts';

export type MatmulVariant = 'register' | 'shared' | 'broadcast';
export type MatmulActivation = 'none' | 'gelu' | 'relu';
import type { StoreType } from '../../dtype.ts';
export type { StoreType };

export interface MatmulKernelConfig {
  variant: MatmulVariant;
  /** register: rows and columns of C per invocation (multiples of 4). */
  tm: number;
  tn: number;
  /** broadcast: the subgroup size the kernel is compiled for (its workgroup is one subgroup). */
  sg?: number;
  /** register: workgroup size (x along N, y along M). */
  wx: number;
  wy: number;
  tA: boolean;
  tB: boolean;
  /** vec4 loads of A (along K when !tA: K % 4 = 0; along M when tA: M % 4 = 0). */
  vecA: boolean;
  /** vec4 loads of B (along N when !tB: N % 4 = 0; along K when tB: K % 4 = 0). */
  vecB: boolean;
  /** N % 4 = 0: vec4 stores of C/Z and vec4 reads of bias and residual (register variant). */
  vecC: boolean;
  typeA: StoreType;
  typeB: StoreType;
  typeC: StoreType;
  bias: StoreType | null;
  residual: StoreType | null;
  act: MatmulActivation;
  /** Also write Z = A·B + bias (f32), the pre-activation, as a second output. */
  savePre: boolean;
  /**
   * Also write RowSum[m] = Σ_k op(A)[m, k] (f32, one batch only) as the last output: with
   * op(A) = dzᵀ, a linear layer's bias gradient beside its weight gradient (no reduction launch).
   */
  rowSumA?: boolean;
}

/** Rows (and columns) of C per workgroup of the shared variant: 16 invocations × tm. */
export const sharedTile = (tm: number) => 16 * tm;
/** Slice of K staged per step: 16 for 64×64 tiles, 8 for 128×128 (8 KiB of workgroup memory each). */
const sharedDepth = (c: Pick<MatmulKernelConfig, 'tm'>) => (c.tm === 8 ? 8 : 16);
/** Workgroup storage of the shared variant: the A and B tiles, sharedTile(tm) × depth floats each. */
export const sharedWorkgroupBytes = (tm: number) => 2 * sharedTile(tm) * sharedDepth({ tm }) * 4;

export function matmulKey(c: MatmulKernelConfig): string {
  const shape =
    c.variant === 'register'
      ? `register${c.tm}x${c.tn}@${c.wx}x${c.wy}`
      : c.variant === 'broadcast'
        ? `broadcast${c.tm}x${c.tn}@s${c.sg}`
        : `shared${sharedTile(c.tm)}`;
  return (
    `matmul/${shape}/${c.tA ? 't' : 'n'}${c.tB ? 't' : 'n'}/v${+c.vecA}${+c.vecB}${+c.vecC}/${c.typeA}${c.typeB}>${c.typeC}` +
    `/${c.bias ? `b${c.bias}` : '-'}${c.residual ? `r${c.residual}` : '-'}/${c.act}${c.savePre ? '+z' : ''}${c.rowSumA ? '+rs' : ''}`
  );
}

export function matmulKernel(c: MatmulKernelConfig): KernelSpec {
  const inputs = 2 + (c.bias ? 1 : 0) + (c.residual ? 1 : 0);
  return {
    key: matmulKey(c),
    inputs,
    outputs: 1 + (c.savePre ? 1 : 0) + (c.rowSumA ? 1 : 0),
    code: () => (c.variant === 'register' ? registerKernel(c) : c.variant === 'broadcast' ? broadcastKernel(c) : sharedKernel(c)),
  };
}

const XYZW = ['x', 'y', 'z', 'w'];

const PARAMS = /* wgsl */ `
struct Params {
  M: u32, N: u32, K: u32, batches: u32,
  sam: u32, sak: u32, sbk: u32, sbn: u32,
  bshape: vec4u, bsa: vec4u, bsb: vec4u,
}
@group(0) @binding(0) var<uniform> p: Params;`;

/** Bindings (vec: element type vec4<T>) in the order the op passes buffers. */
function bindings(c: MatmulKernelConfig, vecC: boolean): string {
  const arr = (t: StoreType, vec: boolean) => `array<${vec ? `vec4<${t}>` : t}>`;
  const lines = [
    `@group(0) @binding(1) var<storage, read> A: ${arr(c.typeA, c.vecA)};`,
    `@group(0) @binding(2) var<storage, read> B: ${arr(c.typeB, c.vecB)};`,
  ];
  let b = 3;
  if (c.bias) lines.push(`@group(0) @binding(${b++}) var<storage, read> Bias: ${arr(c.bias, vecC)};`);
  if (c.residual) lines.push(`@group(0) @binding(${b++}) var<storage, read> Res: ${arr(c.residual, vecC)};`);
  lines.push(`@group(0) @binding(${b++}) var<storage, read_write> C: ${arr(c.typeC, vecC)};`);
  if (c.savePre) lines.push(`@group(0) @binding(${b++}) var<storage, read_write> Z: ${arr('f32', vecC)};`);
  if (c.rowSumA) lines.push(`@group(0) @binding(${b++}) var<storage, read_write> RowSum: array<f32>;`);
  return lines.join('\n');
}

function header(c: MatmulKernelConfig): string {
  const f16 = [c.typeA, c.typeB, c.typeC, c.bias, c.residual].includes('f16');
  return `${f16 ? 'enable f16;\n' : ''}${c.act === 'gelu' ? MATH : ''}`;
}

/** WGSL computing the batch offsets offA, offB (in elements) of batch `z`. */
const BATCH_OFFSETS = (z: string) => /* wgsl */ `
  var rem = ${z};
  var offA = 0u; var offB = 0u;
  for (var d = 3; d >= 0; d--) {
    let c = rem % p.bshape[d]; rem = rem / p.bshape[d];
    offA += c * p.bsa[d]; offB += c * p.bsb[d];
  }`;

function actExpr(act: MatmulActivation, v: string): string {
  if (act === 'gelu') return `gelu_f(${v})`;
  if (act === 'relu') return `select(0.0, ${v}, !(${v} <= 0.0))`; // NaN passes, like relu()
  return v;
}

/**
 * The epilogue of one output element (column `col`, flat index `o`, accumulator `v` in scope) or,
 * with `vec`, of four consecutive columns (o and col multiples of 4, v a vec4f).
 */
function epilogue(c: MatmulKernelConfig, vec: boolean, col = 'col'): string {
  const ld = (name: string, idx: string) => (vec ? `vec4f(${name}[${idx}])` : `f32(${name}[${idx}])`);
  const oi = vec ? 'o / 4u' : 'o';
  const lines: string[] = [`var z = v;`];
  if (c.bias) lines.push(`z += ${ld('Bias', vec ? `${col} / 4u` : col)};`);
  if (c.savePre) lines.push(`Z[${oi}] = z;`);
  const a = vec ? (c.act === 'none' ? 'z' : `vec4f(${XYZW.map((x) => actExpr(c.act, `z.${x}`)).join(', ')})`) : actExpr(c.act, 'z');
  lines.push(`var y = ${a};`);
  if (c.residual) lines.push(`y += ${ld('Res', oi)};`);
  lines.push(`C[${oi}] = ${vec ? `vec4<${c.typeC}>(y)` : `${c.typeC}(y)`};`);
  return lines.join(' ');
}

// ---------------------------------------------------------------------------------------------------
// pieces of the register and broadcast variants (each invocation: tm rows × tn columns of C)

/** Per-invocation base indices of its rows of A (`row0` the first), clamped inside the matrix. */
function rowBasesA(c: MatmulKernelConfig): string[] {
  const { tm } = c;
  if (c.vecA && !c.tA) return Array.from({ length: tm }, (_, r) => `let ar${r} = (offA + min(row0 + ${r}u, p.M - 1u) * p.K) / 4u;`);
  if (c.vecA && c.tA) return Array.from({ length: tm / 4 }, (_, g) => `let ag${g} = offA + min(row0 + ${4 * g}u, p.M - 4u);`);
  return Array.from({ length: tm }, (_, r) => `let ar${r} = offA + min(row0 + ${r}u, p.M - 1u) * p.sam;`);
}

/** The accumulators acc{r}_{q} (vec4 of 4 columns) and, with rowSumA, the row sums rs{r}. */
function tileAccumulators(c: MatmulKernelConfig): string {
  const accs: string[] = [];
  for (let r = 0; r < c.tm; r++) for (let q = 0; q < c.tn / 4; q++) accs.push(`var acc${r}_${q} = vec4f(0.0);`);
  if (c.rowSumA) for (let r = 0; r < c.tm; r++) accs.push(`var rs${r} = 0.0;`);
  return accs.join('\n  ');
}

/**
 * Stores the tile at (row0, col0) of batch `${ids}.z` (ids: the builtin whose x is the column block):
 * the row sums from the first column of invocations (every invocation of a row computes the same),
 * then one copy of the epilogue in a loop over the accumulators (copied to an array once, so the main
 * loop's accumulators stay in registers): an unrolled epilogue per output made GELU kernels huge.
 */
function storeTile(c: MatmulKernelConfig, ids: 'gid' | 'wid'): string {
  const { tm } = c;
  const CQ = c.tn / 4;
  const rowSums = !c.rowSumA
    ? ''
    : `if (${ids}.x == 0u && ${ids}.z == 0u) {
    ${Array.from({ length: tm }, (_, r) => `if (row0 + ${r}u < p.M) { RowSum[row0 + ${r}u] = rs${r}; }`).join('\n    ')}
  }`;
  const gather: string[] = [];
  for (let r = 0; r < tm; r++) for (let q = 0; q < CQ; q++) gather.push(`accs[${r * CQ + q}] = acc${r}_${q};`);
  const store = c.vecC
    ? `if (row < p.M && col < p.N) { let o = outBase + row * p.N + col; let v = accs[i]; ${epilogue(c, true)} }`
    : `for (var j = 0u; j < 4u; j++) {
      if (row < p.M && col + j < p.N) { let o = outBase + row * p.N + col + j; let v = accs[i][j]; ${epilogue(c, false, 'col + j')} }
    }`;
  return `${rowSums}
  let outBase = ${ids}.z * p.M * p.N;
  var accs: array<vec4f, ${tm * CQ}>;
  ${gather.join(' ')}
  for (var i = 0u; i < ${tm * CQ}u; i++) {
    let row = row0 + i / ${CQ}u;
    let col = col0 + (i % ${CQ}u) * 4u;
    ${store}
  }`;
}

// ---------------------------------------------------------------------------------------------------
// register variant

function registerKernel(c: MatmulKernelConfig): string {
  const { tm, tn } = c;
  const RG = tm / 4,
    CQ = tn / 4;
  const ldA = (idx: string) => (c.vecA ? `vec4f(A[${idx}])` : `f32(A[${idx}])`);
  const ldB = (idx: string) => (c.vecB ? `vec4f(B[${idx}])` : `f32(B[${idx}])`);
  const pre: string[] = [];
  // Per-invocation base indices of its rows of A and columns of B, clamped inside the matrix.
  pre.push(...rowBasesA(c));
  if (c.vecB && c.tB) for (let j = 0; j < tn; j++) pre.push(`let bc${j} = (offB + min(col0 + ${j}u, p.N - 1u) * p.K) / 4u;`);
  else if (c.vecB && !c.tB) for (let q = 0; q < CQ; q++) pre.push(`let bq${q} = offB + min(col0 + ${4 * q}u, p.N - 4u);`);
  else for (let j = 0; j < tn; j++) pre.push(`let bc${j} = offB + min(col0 + ${j}u, p.N - 1u) * p.sbn;`);

  /** Loads of step k (+kk for kk < steps) and the scalar `a(r, kk)` / vec4 `b(kk, q)` expressions. */
  const step = (steps: number) => {
    const loads: string[] = [];
    let a: (r: number, kk: number) => string;
    let b: (kk: number, q: number) => string;
    if (c.vecA && !c.tA) {
      // A[m, k..k+3] in one load: steps is 4 here (K % 4 = 0)
      for (let r = 0; r < tm; r++) loads.push(`let a${r} = ${ldA(`ar${r} + k / 4u`)};`);
      a = (r, kk) => `a${r}.${XYZW[kk]}`;
    } else if (c.vecA && c.tA) {
      // A[k, m..m+3] in one load
      for (let kk = 0; kk < steps; kk++)
        for (let g = 0; g < RG; g++) loads.push(`let a${kk}_${g} = ${ldA(`(ag${g} + (k + ${kk}u) * p.M) / 4u`)};`);
      a = (r, kk) => `a${kk}_${r >> 2}.${XYZW[r & 3]}`;
    } else {
      for (let kk = 0; kk < steps; kk++)
        for (let r = 0; r < tm; r++) loads.push(`let a${kk}_${r} = ${ldA(`ar${r} + (k + ${kk}u) * p.sak`)};`);
      a = (r, kk) => `a${kk}_${r}`;
    }
    if (c.vecB && c.tB) {
      // B[n, k..k+3] in one load: steps is 4 here
      for (let j = 0; j < tn; j++) loads.push(`let b${j} = ${ldB(`bc${j} + k / 4u`)};`);
      b = (kk, q) => `vec4f(${[0, 1, 2, 3].map((i) => `b${4 * q + i}.${XYZW[kk]}`).join(', ')})`;
    } else if (c.vecB && !c.tB) {
      // B[k, n..n+3] in one load
      for (let kk = 0; kk < steps; kk++)
        for (let q = 0; q < CQ; q++) loads.push(`let b${kk}_${q} = ${ldB(`(bq${q} + (k + ${kk}u) * p.N) / 4u`)};`);
      b = (kk, q) => `b${kk}_${q}`;
    } else {
      for (let kk = 0; kk < steps; kk++)
        for (let j = 0; j < tn; j++) loads.push(`let b${kk}_${j} = ${ldB(`bc${j} + (k + ${kk}u) * p.sbk`)};`);
      b = (kk, q) => `vec4f(${[0, 1, 2, 3].map((i) => `b${kk}_${4 * q + i}`).join(', ')})`;
    }
    const fma: string[] = [];
    // Row sums of A (bias gradients): tm adds per step of K beside tm·tn FMAs.
    if (c.rowSumA) for (let kk = 0; kk < steps; kk++) for (let r = 0; r < tm; r++) fma.push(`rs${r} += ${a(r, kk)};`);
    for (let kk = 0; kk < steps; kk++) {
      for (let q = 0; q < CQ; q++) {
        const bv = `bv${kk}_${q}`;
        fma.push(`let ${bv} = ${b(kk, q)};`);
        for (let r = 0; r < tm; r++) fma.push(`acc${r}_${q} += ${a(r, kk)} * ${bv};`);
      }
    }
    return [...loads, ...fma].join('\n    ');
  };
  // A vec4 load along K (K % 4 = 0) needs steps of 4; otherwise one step per k keeps the code 4×
  // smaller (lavapipe's compile time is seconds per kernel).
  const alongK = (c.vecA && !c.tA) || (c.vecB && c.tB);
  return /* wgsl */ `${header(c)}
${PARAMS}
${bindings(c, c.vecC)}
@compute @workgroup_size(${c.wx}, ${c.wy})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * ${tm}u;
  let col0 = gid.x * ${tn}u;
  if (row0 >= p.M || col0 >= p.N || gid.z >= p.batches) { return; }
  ${BATCH_OFFSETS('gid.z')}
  ${pre.join('\n  ')}
  ${tileAccumulators(c)}
  ${alongK ? `for (var k = 0u; k < p.K; k += 4u) {\n    ${step(4)}\n  }` : `for (var k = 0u; k < p.K; k++) {\n    ${step(1)}\n  }`}
  ${storeTile(c, 'gid')}
}`;
}

// ---------------------------------------------------------------------------------------------------
// shared variant

function sharedKernel(c: MatmulKernelConfig): string {
  const { tm, tn } = c; // 4×4 (64×64 tiles) or 8×8 (128×128 tiles) outputs per invocation
  const TM = tm * 16,
    TN = tn * 16,
    BK = sharedDepth(c),
    GM = tm / 4,
    GN = tn / 4;
  const ldA = (idx: string) => `f32(A[${idx}])`;
  const ldB = (idx: string) => `f32(B[${idx}])`;
  // Element e of a tile → (tile row/col, k): consecutive invocations read consecutive addresses.
  const mapA = c.tA ? `let kk = e / ${TM}u; let mm = e % ${TM}u;` : `let mm = e / ${BK}u; let kk = e % ${BK}u;`;
  const mapB = c.tB ? `let nn = e / ${BK}u; let kk = e % ${BK}u;` : `let kk = e / ${TN}u; let nn = e % ${TN}u;`;
  const accs: string[] = [];
  for (let r = 0; r < tm; r++) for (let q = 0; q < GN; q++) accs.push(`acc${r}_${q}`);
  const fma: string[] = [];
  for (let g = 0; g < GM; g++)
    for (let i = 0; i < 4; i++) for (let q = 0; q < GN; q++) fma.push(`acc${4 * g + i}_${q} += a${g}.${XYZW[i]} * b${q};`);
  // Row sums of A (bias gradients): the tile's A is zero past the edges, so the sums are exact.
  if (c.rowSumA) for (let g = 0; g < GM; g++) fma.push(`rs${g} += a${g};`);
  const rowSums = !c.rowSumA
    ? ''
    : `if (wid.x == 0u && lx == 0u && wid.z == 0u) {
    for (var i = 0u; i < 4u; i++) {
      ${Array.from({ length: GM }, (_, g) => `{ let row = tileRow + 4u * (ly + ${16 * g}u) + i; if (row < p.M) { RowSum[row] = rs${g}[i]; } }`).join('\n      ')}
    }
  }`;
  return /* wgsl */ `${header(c)}
${PARAMS}
${bindings({ ...c, vecA: false, vecB: false }, false)}
var<workgroup> As: array<vec4f, ${(BK * TM) / 4}>; // As[k·${TM / 4} + m/4][m%4]: the tile's A, K-major
var<workgroup> Bs: array<vec4f, ${(BK * TN) / 4}>; // Bs[k·${TN / 4} + n/4][n%4]
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tileRow = wid.y * ${TM}u;
  let tileCol = wid.x * ${TN}u;
  let lx = lid3.x; let ly = lid3.y;
  ${BATCH_OFFSETS('wid.z')}
  ${accs.map((x) => `var ${x} = vec4f(0.0);`).join(' ')}
  ${c.rowSumA ? Array.from({ length: GM }, (_, g) => `var rs${g} = vec4f(0.0);`).join(' ') : ''}
  for (var k0 = 0u; k0 < p.K; k0 += ${BK}u) {
    for (var i = 0u; i < ${(TM * BK) / 256}u; i++) {
      let e = lid + i * 256u; ${mapA}
      let m = tileRow + mm; let k = k0 + kk;
      let v = ${ldA('offA + min(m, p.M - 1u) * p.sam + min(k, p.K - 1u) * p.sak')};
      As[kk * ${TM / 4}u + mm / 4u][mm % 4u] = select(0.0, v, m < p.M && k < p.K);
    }
    for (var i = 0u; i < ${(TN * BK) / 256}u; i++) {
      let e = lid + i * 256u; ${mapB}
      let n = tileCol + nn; let k = k0 + kk;
      let v = ${ldB('offB + min(n, p.N - 1u) * p.sbn + min(k, p.K - 1u) * p.sbk')};
      Bs[kk * ${TN / 4}u + nn / 4u][nn % 4u] = select(0.0, v, n < p.N && k < p.K);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      ${Array.from({ length: GM }, (_, g) => `let a${g} = As[kk * ${TM / 4}u + ly + ${16 * g}u];`).join(' ')}
      ${Array.from({ length: GN }, (_, q) => `let b${q} = Bs[kk * ${TN / 4}u + lx + ${16 * q}u];`).join(' ')}
      ${fma.join('\n      ')}
    }
    workgroupBarrier();
  }
  ${rowSums}
  let outBase = wid.z * p.M * p.N;
  let accs = array<vec4f, ${accs.length}>(${accs.join(', ')});
  // accs[r·${GN} + q][j]: row 4·(ly + 16·(r / 4)) + r % 4, column 4·(lx + 16·q) + j of the tile
  for (var i = 0u; i < ${tm * tn}u; i++) {
    let r = i / ${tn}u; let q = (i % ${tn}u) / 4u; let j = i % 4u;
    let row = tileRow + 4u * (ly + 16u * (r / 4u)) + r % 4u;
    let col = tileCol + 4u * (lx + 16u * q) + j;
    if (row < p.M && col < p.N) { let o = outBase + row * p.N + col; let v = accs[r * ${GN}u + q][j]; ${epilogue(c, false)} }
  }
}`;
}

// ---------------------------------------------------------------------------------------------------
// broadcast variant

/**
 * One subgroup of S invocations per workgroup; invocation i owns TM rows of C, and all S share the
 * same TN columns. Per step of 4 along K the block of B the columns need (TN vec4 chunks) is loaded
 * once per subgroup — invocation l loads chunks l, l + S, … — and handed to every invocation by
 * subgroupBroadcast; each invocation loads only its own rows of A. TN is a multiple of S.
 */
function broadcastKernel(c: MatmulKernelConfig): string {
  const { tm, tn } = c;
  const S = c.sg ?? 0;
  const CQ = tn / 4,
    RG = tm / 4;
  const NB = tn / S; // chunks of B each invocation loads per step
  const ldA = (idx: string) => (c.vecA ? `vec4f(A[${idx}])` : `f32(A[${idx}])`);
  const ldB = (idx: string) => (c.vecB ? `vec4f(B[${idx}])` : `f32(B[${idx}])`);
  const pre: string[] = [];
  pre.push(...rowBasesA(c));
  // Chunk e of a step: along K (Bᵀ stored [N, K], K % 4 = 0) it is column e's B[n, k..k+3];
  // otherwise chunk kk·CQ + q holds the 4 columns q of row k + kk.
  const alongK = c.vecB && c.tB;
  for (let t = 0; t < NB; t++) {
    const e = `(lane + ${S * t}u)`;
    if (alongK) pre.push(`let bb${t} = (offB + min(col0 + ${e}, p.N - 1u) * p.K) / 4u;`);
    else {
      pre.push(`let bk${t} = ${e} / ${CQ}u; let bn${t} = col0 + (${e} % ${CQ}u) * 4u;`);
      if (c.vecB) pre.push(`let bb${t} = offB + min(bn${t}, p.N - 4u);`);
      else pre.push(...[0, 1, 2, 3].map((i) => `let bb${t}_${i} = offB + min(bn${t} + ${i}u, p.N - 1u) * p.sbn;`));
    }
  }
  /** One step along K at k (k..k+3); `tail`: the last, partial step (K % 4 ≠ 0: scalar loads only). */
  const step = (tail: boolean) => {
    const kIdx = (kk: string) => (tail ? `min(k + ${kk}, p.K - 1u)` : `k + ${kk}`);
    const loads: string[] = [];
    for (let t = 0; t < NB; t++) {
      if (alongK) loads.push(`let bc${t} = ${ldB(`bb${t} + k / 4u`)};`);
      else if (c.vecB) loads.push(`let bc${t} = ${ldB(`(bb${t} + (${kIdx(`bk${t}`)}) * p.N) / 4u`)};`);
      else loads.push(`let bc${t} = vec4f(${[0, 1, 2, 3].map((i) => ldB(`bb${t}_${i} + (${kIdx(`bk${t}`)}) * p.sbk`)).join(', ')});`);
    }
    let a: (r: number, kk: number) => string;
    if (c.vecA && !c.tA) {
      for (let r = 0; r < tm; r++) loads.push(`let a${r} = ${ldA(`ar${r} + k / 4u`)};`);
      a = (r, kk) => `a${r}.${XYZW[kk]}`;
    } else if (c.vecA && c.tA) {
      for (let kk = 0; kk < 4; kk++)
        for (let g = 0; g < RG; g++) loads.push(`let a${kk}_${g} = ${ldA(`(ag${g} + (${kIdx(`${kk}u`)}) * p.M) / 4u`)};`);
      a = (r, kk) => `a${kk}_${r >> 2}.${XYZW[r & 3]}`;
    } else {
      for (let kk = 0; kk < 4; kk++)
        for (let r = 0; r < tm; r++) loads.push(`let a${kk}_${r} = ${ldA(`ar${r} + (${kIdx(`${kk}u`)}) * p.sak`)};`);
      a = (r, kk) => `a${kk}_${r}`;
    }
    const bcast = (e: number) => `subgroupBroadcast(bc${Math.floor(e / S)}, ${e % S}u)`;
    // Every lane broadcasts every chunk (subgroup operations in uniform control flow), then the
    // products of the steps past K are skipped in the tail.
    const body: string[] = [];
    if (alongK) for (let j = 0; j < tn; j++) body.push(`let b${j} = ${bcast(j)};`);
    for (let kk = 0; kk < 4; kk++) {
      const fma: string[] = [];
      if (c.rowSumA) for (let r = 0; r < tm; r++) fma.push(`rs${r} += ${a(r, kk)};`);
      for (let q = 0; q < CQ; q++) {
        const bv = `bv${kk}_${q}`;
        body.push(
          alongK
            ? `let ${bv} = vec4f(${[0, 1, 2, 3].map((i) => `b${4 * q + i}.${XYZW[kk]}`).join(', ')});`
            : `let ${bv} = ${bcast(kk * CQ + q)};`,
        );
        for (let r = 0; r < tm; r++) fma.push(`acc${r}_${q} += ${a(r, kk)} * ${bv};`);
      }
      body.push(tail && kk > 0 ? `if (k + ${kk}u < p.K) { ${fma.join(' ')} }` : fma.join('\n    '));
    }
    return [...loads, ...body].join('\n    ');
  };
  return /* wgsl */ `enable subgroups;
${header(c)}
${PARAMS}
${bindings(c, c.vecC)}
@compute @workgroup_size(${S})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  // Invocations past the last row stay (clamped loads, no stores): the broadcasts need every lane.
  let row0 = (wid.y * ${S}u + lid) * ${tm}u;
  let col0 = wid.x * ${tn}u;
  if (col0 >= p.N || wid.z >= p.batches) { return; }
  ${BATCH_OFFSETS('wid.z')}
  ${pre.join('\n  ')}
  ${tileAccumulators(c)}
  for (var k = 0u; k + 4u <= p.K; k += 4u) {
    ${step(false)}
  }
  if (p.K % 4u != 0u) {
    let k = p.K & ~3u;
    ${step(true)}
  }
  ${storeTile(c, 'wid')}
}`;
}
