/**
 * The kernel playground's logic, browser-safe (the web page web/src/playground.ts and the CLI
 * bench/kernel-cli.ts use it): the ops you can try, seeded inputs, the kernels an op dispatches,
 * swapping its main kernel for your WGSL (the runtime's `kernelOverride` hook keeps the op's
 * validation, params, buffers and workgroup grid), the comparison with the CPU reference and timing.
 *
 * @example
 * await init();
 * const r = await runKernel({ op: 'gelu', shapes: [[1000]] });           // the built-in kernel
 * r.check.pass; r.check.maxAbs; r.timing.ms;
 * const mine = r.main!.spec.code().replace('ys[i] = f(xs[i]);', 'ys[i] = f(xs[i]) * 1.0;');
 * await runKernel({ op: 'gelu', shapes: [[1000]], wgsl: mine });         // yours, same bindings and grid
 */
import * as E from './index.ts';
import { engine, tensor, scope, noGrad, type Tensor, type KernelSpec, type DType } from './index.ts';
import * as R from './reference/index.ts';
import { unary, binary } from './ops/elementwise.ts';
import { UNARY, BINARY, type UnaryOp, type BinaryOp } from './ops/elementwise.table.ts';
import { mulberry32 } from './prng.ts';
import { roundToF16 } from './dtype.ts';

export type RefOut = R.RefTensor & { absProd?: Float64Array };

export interface KernelOptions {
  /** Reduction / softmax axis (default: all axes for reductions, −1 for softmax). */
  axis?: number;
  transposeA?: boolean;
  transposeB?: boolean;
}

export interface PlaygroundOp {
  family: string;
  /** Key prefix (or pattern) of the op's main kernel, the one a user WGSL replaces. */
  kernel: string | RegExp;
  /** How many shapes it takes: [min, max]. */
  shapes: [number, number];
  defaultShapes: number[][];
  dtypes: DType[];
  /** Which options the op reads. */
  options: ('axis' | 'transpose')[];
  /** Input data per operand: 'normal', 'positive' (0.1…3), 'nonzero' (±0.5…2). */
  domain?: ('normal' | 'positive' | 'nonzero')[];
  run: (xs: Tensor[], o: KernelOptions) => Tensor;
  ref: (xs: R.RefTensor[], o: KernelOptions) => RefOut;
  /** Per-element tolerance: |got − ref| ≤ tol(i). */
  tol: (ref: RefOut, xs: R.RefTensor[], o: KernelOptions, dtype: DType) => (i: number) => number;
}

// Tolerances. A correct f32 kernel is within a few ulp (2⁻²³ ≈ 1.2e-7 relative) of the f64 reference
// for elementwise ops; 1e-5 relative (≈ 80 ulp) leaves room for the drivers' fast-math exp/log/erf,
// while a wrong formula or index is off by O(1). Sums of n terms (matmul, reductions) are bounded by
// n·2⁻²⁴·Σ|terms| (serial f32 summation), doubled to allow any summation order.
const ELEMENTWISE = (r: RefOut, _x: R.RefTensor[], _o: KernelOptions, dtype: DType) => (dtype === 'f32' ? (i: number) => 1e-6 + 1e-5 * Math.abs(r.data[i]) : () => 0);
const U = 2 ** -24;

const unaryOps = Object.fromEntries((Object.keys(UNARY) as UnaryOp[]).map((op): [string, PlaygroundOp] => [op, {
  family: 'unary', kernel: `unary/${op}/`, shapes: [1, 1], defaultShapes: [[1000]], options: [],
  dtypes: UNARY[op].floatOnly ? ['f32'] : op === 'sign' || op === 'neg' || op === 'abs' || op === 'square' ? ['f32', 'i32'] : ['f32'],
  domain: op === 'log' || op === 'sqrt' || op === 'rsqrt' ? ['positive'] : ['normal'],
  run: ([x]) => unary(op, x),
  ref: ([x]) => R.unary(op, x),
  tol: ELEMENTWISE,
}]));

const binaryOps = Object.fromEntries((Object.keys(BINARY) as BinaryOp[]).map((op): [string, PlaygroundOp] => [op, {
  family: 'binary', kernel: `binary/${op}/`, shapes: [1, 2], defaultShapes: [[8, 100], [100]], options: [],
  dtypes: BINARY[op].floatOnly || op === 'div' ? ['f32'] : ['f32', 'i32'],
  domain: op === 'pow' ? ['positive', 'normal'] : op === 'div' ? ['normal', 'nonzero'] : ['normal', 'normal'],
  run: ([a, b]) => binary(op, a, b ?? a),
  ref: ([a, b]) => R.binary(op, a, b ?? a),
  tol: ELEMENTWISE,
}]));

const reduceOps = Object.fromEntries((['sum', 'mean', 'max', 'min'] as const).map((op): [string, PlaygroundOp] => [op, {
  family: 'reduce', kernel: `reduce/${op}/`, shapes: [1, 1], defaultShapes: [[64, 300]], dtypes: ['f32'], options: ['axis'],
  run: ([x], o) => (E[op] as (x: Tensor, axis?: number) => Tensor)(x, o.axis),
  ref: ([x], o) => R.reduce(op, x, o.axis),
  tol: (r, [x], o) => {
    if (op === 'max' || op === 'min') return () => 0; // a max of f32 inputs is one of them, exactly
    const n = x.data.length / Math.max(r.data.length, 1);
    const abs = R.absSum(x, o.axis).data;
    return (i) => (2 * n * U * abs[i]) / (op === 'mean' ? n : 1) + 1e-30;
  },
}]));

const softmaxOp = (log: boolean): PlaygroundOp => ({
  // a workgroup per row, or a thread per row for short rows
  family: 'softmax', kernel: new RegExp(`^softmax(-row)?/${log ? 'log' : 'plain'}`), shapes: [1, 1], defaultShapes: [[6, 164]], dtypes: ['f32'], options: ['axis'],
  run: ([x], o) => (log ? x.logSoftmax(o.axis ?? -1) : x.softmax(o.axis ?? -1)),
  ref: ([x], o) => R.softmax(x, o.axis ?? -1, log),
  // outputs in (0, 1] (log: O(log len)); a row sum of len terms in f32 sets the scale
  tol: (r) => (i) => (log ? 1e-5 : 1e-6) + 1e-5 * Math.abs(r.data[i]),
});

/** The ops of the playground, by name. */
export const PLAYGROUND_OPS: Record<string, PlaygroundOp> = {
  matmul: {
    family: 'matmul', kernel: 'matmul', shapes: [2, 2], defaultShapes: [[64, 96], [96, 80]], dtypes: ['f32', 'f16'], options: ['transpose'],
    run: ([a, b], o) => a.matmul(b, { transposeA: !!o.transposeA, transposeB: !!o.transposeB }),
    ref: ([a, b], o) => R.matmul(a, b, !!o.transposeA, !!o.transposeB),
    tol: (r, [a], o) => {
      const K = o.transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
      return (i) => 2 * K * U * r.absProd![i] + 1e-30;
    },
  },
  ...unaryOps,
  ...binaryOps,
  softmax: softmaxOp(false),
  logSoftmax: softmaxOp(true),
  layerNorm: {
    family: 'layernorm', kernel: 'layernorm/fwd', shapes: [1, 1], defaultShapes: [[328, 192]], dtypes: ['f32'], options: [],
    // weight and bias [D] are made from the seed too (see playgroundInputs)
    run: ([x, w, b]) => x.layerNorm(w, b, 1e-5),
    ref: ([x, w, b]) => R.layerNorm(x, w, b, 1e-5),
    // normalised outputs are O(1); mean and variance are sums of D terms in f32
    tol: (r) => (i) => 1e-5 + 1e-4 * Math.abs(r.data[i]),
  },
  ...reduceOps,
};

// The fused attention, when the engine exports it.
const attentionFn = (E as Record<string, unknown>).attention as ((q: Tensor, k: Tensor, v: Tensor) => Tensor) | undefined;
if (typeof attentionFn === 'function') {
  PLAYGROUND_OPS.attention = {
    family: 'attention', kernel: 'attention/fwd', shapes: [1, 3], defaultShapes: [[2, 3, 50, 64]], dtypes: ['f32', 'f16'], options: [],
    run: ([q, k, v]) => attentionFn(q, k ?? q, v ?? k ?? q),
    ref: ([q, k0, v0]) => {
      // softmax(q·kᵀ/√D)·v composed from reference primitives (an oracle independent of the kernel)
      const k = k0 ?? q, v = v0 ?? k;
      const s = R.matmul(q, k, false, true);
      const scaled = R.binary('mul', s, R.ref([1 / Math.sqrt(q.shape[q.shape.length - 1])], []));
      return R.matmul(R.softmax(scaled, -1), v);
    },
    // outputs are convex combinations of v's rows (|v| ~ 1); sums of Tk and D terms in f32
    tol: (r) => (i) => 1e-5 + 1e-4 * Math.abs(r.data[i]),
  };
}


export interface HostInput { data: Float32Array | Int32Array; shape: number[] }

/**
 * Seeded inputs for `op` on `shapes` (layer norm also gets its weight and bias). f16: the f32 values
 * rounded to f16, so the reference runs on exactly what the GPU holds (f16 storage, f32 arithmetic:
 * the f32 tolerances hold).
 */
export function playgroundInputs(op: PlaygroundOp, shapes: number[][], dtype: DType, seed: number): HostInput[] {
  const rnd = mulberry32(seed);
  const gen = (shape: number[], domain: string): HostInput => {
    const n = shape.reduce((x, y) => x * y, 1);
    if (dtype === 'i32' || dtype === 'u32') return { data: Int32Array.from({ length: n }, () => Math.floor(rnd() * 41) - 20), shape };
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (domain === 'positive') data[i] = 0.1 + 2.9 * rnd();
      else if (domain === 'nonzero') data[i] = (rnd() < 0.5 ? -1 : 1) * (0.5 + 1.5 * rnd());
      else { const u = Math.max(rnd(), 1e-12), v = rnd(); data[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v); }
    }
    return { data: dtype === 'f16' ? roundToF16(data) : data, shape };
  };
  const ins = shapes.map((s, i) => gen(s, op.domain?.[i] ?? 'normal'));
  if (op.family === 'layernorm') {
    const d = shapes[0][shapes[0].length - 1] ?? 1;
    ins.push(gen([d], 'positive'), gen([d], 'normal'));
  }
  return ins;
}

/** A kernel as dispatched: its spec and its workgroup grid. */
export interface Captured { spec: KernelSpec; groups: readonly number[] }

/** Runs `fn` once and returns the kernels it dispatched, in order, and its result (kept; the rest is freed). */
export async function captureKernels<T>(fn: () => T): Promise<{ kernels: Captured[]; result: T }> {
  const rt = engine();
  const kernels: Captured[] = [];
  rt.kernelOverride = (spec, groups) => { kernels.push({ spec, groups }); return undefined; };
  try {
    const result = scope(fn);
    await rt.flush();
    return { kernels, result };
  } finally { rt.kernelOverride = null; }
}

/** Whether `key` names the op's main kernel. */
export function isMainKernel(op: PlaygroundOp, key: string): boolean {
  return typeof op.kernel === 'string' ? key.startsWith(op.kernel) : op.kernel.test(key);
}

/** The kernel a user WGSL replaces: the first that is the op's main kernel (else the only one dispatched). */
export function mainKernel(op: PlaygroundOp, seen: Captured[]): Captured | undefined {
  return seen.find((c) => isMainKernel(op, c.spec.key)) ?? (seen.length === 1 ? seen[0] : undefined);
}

/** The binding interface of a kernel's WGSL: the Params struct, the bindings and the entry point. */
export function kernelLayout(code: string): string[] {
  const out: string[] = [];
  const params = code.match(/struct Params\s*\{[\s\S]*?\}/);
  if (params) out.push(params[0].replace(/\s*\n\s*/g, ' '));
  for (const line of code.split('\n')) {
    const l = line.trim();
    if (/@binding\(/.test(l) || /^@compute|^@workgroup_size/.test(l) || /^fn main\(/.test(l)) out.push(l);
  }
  return out;
}

/** One line per kernel: its key, buffers and grid, then its binding interface (`kernelLayout`). */
export function describeKernel(c: Captured, indent = '  '): string {
  const { spec, groups } = c;
  return [`${indent}kernel ${spec.key}: ${spec.inputs} input(s), ${spec.outputs} output(s)${spec.asserts ? ' + assert buffer' : ''}; workgroups [${groups.join(', ')}]`,
    ...kernelLayout(spec.code()).map((l) => `${indent}  ${l}`)].join('\n');
}

/** A spec running `code` in place of `main` (same bindings); its key changes with the code. */
export function userKernel(main: KernelSpec, code: string): KernelSpec {
  let h = 2166136261;
  for (let i = 0; i < code.length; i++) h = Math.imul(h ^ code.charCodeAt(i), 16777619);
  return { key: `user:${main.key}:${code.length}:${(h >>> 0).toString(16)}`, inputs: main.inputs, outputs: main.outputs, asserts: main.asserts, code: () => code };
}

export interface Check {
  maxAbs: number;
  /** max |err| / max(|ref|, 1e-3·max|ref|) */
  maxRel: number;
  /** Index of the element worst against its tolerance, its values and err/tol there. */
  worst: number;
  got: number;
  want: number;
  worstRatio: number;
  /** Elements outside tolerance, of `n`. */
  bad: number;
  n: number;
  pass: boolean;
}

/** Compares `got` with the reference element by element (NaN equals NaN). */
export function compareToReference(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number): Check {
  if (got.length !== want.length) throw new Error(`playground: the output has ${got.length} elements, the reference ${want.length}`);
  let maxAbs = 0, maxRel = 0, worst = -1, worstRatio = 0, bad = 0, refMax = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i])) refMax = Math.max(refMax, Math.abs(want[i]));
  const floor = Math.max(1e-3 * refMax, 1e-30);
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    const same = (Number.isNaN(w) && Number.isNaN(g)) || w === g;
    const err = same ? 0 : Math.abs(g - w);
    const e = Number.isNaN(err) ? Infinity : err;
    maxAbs = Math.max(maxAbs, e);
    if (e > 0) maxRel = Math.max(maxRel, e / (Number.isFinite(w) ? Math.max(Math.abs(w), floor) : floor));
    const ratio = e === 0 ? 0 : e / tol(i);
    if (ratio > 1) bad++;
    if (ratio > worstRatio || worst < 0) { worstRatio = ratio; worst = i; }
  }
  return { maxAbs, maxRel, worst, got: got[worst] ?? NaN, want: want[worst] ?? NaN, worstRatio, bad, n: want.length, pass: bad === 0 };
}

export interface KernelTiming {
  /** Median wall-clock ms per launch: recording, submitting and waiting until the queue is idle. */
  ms: number;
  samples: number[];
  /** Launches per sample. */
  inner: number;
}

/**
 * Times `fn` (which records work; its tensors are freed by a scope around each launch): warm-up,
 * launches per sample chosen to take about `targetMs`, the median over `repeats` samples.
 */
export async function timeLaunches(fn: () => void, { repeats = 5, targetMs = 30, maxInner = 64 } = {}): Promise<KernelTiming> {
  const e = engine();
  for (let i = 0; i < 2; i++) scope(fn); // warm-up: pipelines, pool buckets
  await e.flush();
  let t = performance.now();
  for (let i = 0; i < 4; i++) scope(fn);
  await e.flush();
  const one = (performance.now() - t) / 4;
  const inner = Math.max(1, Math.min(maxInner, Math.round(targetMs / Math.max(one, 1e-3))));
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    t = performance.now();
    for (let i = 0; i < inner; i++) scope(fn);
    await e.flush();
    samples.push((performance.now() - t) / inner);
  }
  const s = [...samples].sort((a, b) => a - b);
  return { ms: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, samples, inner };
}

export interface RunRequest {
  op: string;
  /** Defaults to the op's default shapes. */
  shapes?: number[][];
  dtype?: DType;
  seed?: number;
  options?: KernelOptions;
  /** WGSL to run in place of the op's main kernel (same bindings, params and grid). */
  wgsl?: string;
  /** Timed samples (0: no timing). */
  repeats?: number;
  /** Tolerance |got − ref| ≤ atol + rtol·|ref| in place of the op's own (when either is given). */
  tolerance?: { atol?: number; rtol?: number };
}

export interface RunResult {
  op: string;
  shapes: number[][];
  dtype: DType;
  outShape: number[];
  /** Every kernel the op dispatched, and the one a user WGSL replaces. */
  kernels: Captured[];
  main: Captured | undefined;
  check: Check;
  timing: KernelTiming | null;
  /** Whether `wgsl` ran in place of the main kernel. */
  user: boolean;
}

/** Why a request cannot run (unknown op, wrong number of shapes, dtype); shape errors come from the op itself. */
export class PlaygroundError extends Error {}

/**
 * One op on seeded inputs, its kernels captured by a first run (which validates the shapes: the op
 * throws ShapeError). `useWgsl` swaps the main kernel, `check` compares a fresh run with the
 * reference, `run` records one launch (for timing); `dispose` frees it all and removes the override.
 */
export interface KernelSession {
  op: PlaygroundOp;
  dtype: DType;
  shapes: number[][];
  inputs: HostInput[];
  kernels: Captured[];
  main: Captured | undefined;
  /** Whether a user WGSL replaces the main kernel. */
  user: boolean;
  /** Compiles `code` (KernelError when it does not compile or fit the bindings) and installs it in place of the main kernel. */
  useWgsl(code: string): Promise<void>;
  /** Runs the op once more and compares its output with the reference. */
  check(): Promise<{ check: Check; outShape: number[] }>;
  /** Records one launch; the caller frees the output (e.g. in a scope). */
  run(): Tensor;
  dispose(): void;
}

/** Opens a session for `req` (its op, shapes, dtype, seed, options and tolerance; not its wgsl or repeats). */
export async function openKernel(req: RunRequest): Promise<KernelSession> {
  const op = PLAYGROUND_OPS[req.op];
  if (!op) throw new PlaygroundError(`unknown op '${req.op}' (ops: ${Object.keys(PLAYGROUND_OPS).join(', ')})`);
  const dtype = req.dtype ?? 'f32';
  if (!op.dtypes.includes(dtype)) throw new PlaygroundError(`${req.op} does not run on ${dtype} here (dtypes: ${op.dtypes.join(', ')})`);
  const shapes = req.shapes?.length ? req.shapes : op.defaultShapes;
  if (shapes.length < op.shapes[0] || shapes.length > op.shapes[1]) {
    throw new PlaygroundError(`${req.op} takes ${op.shapes[0] === op.shapes[1] ? op.shapes[0] : `${op.shapes[0]} to ${op.shapes[1]}`} shape(s), got ${shapes.length}`);
  }
  const inputs = playgroundInputs(op, shapes, dtype, req.seed ?? 1);
  const xs = inputs.map((i) => tensor(i.data, i.shape, dtype === 'f16' ? { dtype: 'f16' } : {}));
  const o = req.options ?? {};
  const rt = engine();
  const run = () => noGrad(() => op.run(xs, o));
  let first: Tensor;
  let kernels: Captured[];
  try {
    ({ kernels, result: first } = await captureKernels(run));
  } catch (e) {
    for (const x of xs) x.dispose();
    throw e;
  }
  const main = mainKernel(op, kernels);
  let user: KernelSpec | null = null;
  return {
    op, dtype, shapes, inputs, kernels, main,
    get user() { return user !== null; },
    async useWgsl(code) {
      if (!main) throw new PlaygroundError(`${req.op} dispatches no kernel matching ${op.kernel} for these shapes (${kernels.map((c) => c.spec.key).join(', ') || 'none'}); nothing to replace`);
      const spec = userKernel(main.spec, code);
      await rt.compile(spec);
      user = spec;
      rt.kernelOverride = (s) => (s.key === main.spec.key ? spec : undefined);
    },
    async check() {
      // A kernel that leaves elements unwritten must not pass on stale data: the first run's (correct)
      // output stays alive, and the pool's next buffers of the output's size class are filled with NaN
      // (an integer output: an unlikely value), as the pool hands out the most recently freed buffer first.
      const poison = Array.from({ length: 4 }, () => E.full(first.shape, first.dtype === 'f32' ? NaN : -1234567, { dtype: first.dtype }));
      for (const t of poison) t.dispose();
      const out = run();
      let got: ArrayLike<number>;
      try { got = (await out.data()) as ArrayLike<number>; } finally { out.dispose(); }
      const refs = inputs.map((i) => R.ref(i.data, i.shape));
      const want = op.ref(refs, o);
      const t = req.tolerance;
      const tol = t && (t.atol !== undefined || t.rtol !== undefined)
        ? (i: number) => (t.atol ?? 0) + (t.rtol ?? 0) * Math.abs(want.data[i])
        : op.tol(want, refs, o, dtype);
      return { check: compareToReference(got, want.data, tol), outShape: want.shape };
    },
    run,
    dispose() {
      if (user) rt.kernelOverride = null;
      first.dispose();
      for (const x of xs) x.dispose();
    },
  };
}

/** The kernels `op` dispatches on `shapes` (also validates the shapes: the op throws ShapeError). */
export async function kernelsOf(req: RunRequest): Promise<{ kernels: Captured[]; main: Captured | undefined }> {
  const s = await openKernel(req);
  s.dispose();
  return { kernels: s.kernels, main: s.main };
}

/**
 * Runs one op (its own kernels, or `wgsl` in place of its main kernel) on seeded inputs, checks the
 * output against the CPU reference and times it. Throws KernelError when the WGSL does not compile or
 * does not fit the bindings, ShapeError when the op rejects the shapes.
 */
export async function runKernel(req: RunRequest): Promise<RunResult> {
  const s = await openKernel(req);
  try {
    if (req.wgsl !== undefined) await s.useWgsl(req.wgsl);
    const { check, outShape } = await s.check();
    const timing = (req.repeats ?? 5) > 0 ? await timeLaunches(() => { s.run(); }, { repeats: req.repeats ?? 5 }) : null;
    return { op: req.op, shapes: s.shapes, dtype: s.dtype, outShape, kernels: s.kernels, main: s.main, check, timing, user: s.user };
  } finally {
    s.dispose();
  }
}
