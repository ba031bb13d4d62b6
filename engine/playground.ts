/**
 * The kernel playground's logic, browser-safe (the web page web/src/playground.ts and the CLI
 * bench/kernel-cli.ts use it): the ops you can try, seeded inputs, the kernels an op dispatches,
 * swapping its main kernel for your WGSL (the runtime's `kernelOverride` hook keeps the op's
 * validation, params, buffers and workgroup grid). The ops, their references, input domains and
 * tolerances are the op table's (engine/ops/registry.ts); the comparison is engine/validate.ts, the
 * timing engine/timing.ts.
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
import { UNARY, BINARY } from './ops/elementwise.table.ts';
import { CHECKED_OPS, checkOf, toleranceFor, type OpCheck, type CheckedOp, type CheckOptions, type RefOut } from './ops/registry.ts';
import { drawValues, roundTo, normal } from './reference/inputs.ts';
import { mulberry32 } from './prng.ts';
import { validate, type Validation } from './validate.ts';
import { timeOurs, type Timing } from './timing.ts';

export type { RefOut };
export type KernelOptions = CheckOptions;

/** An op of the playground: its check (engine/ops/registry.ts) and how the playground presents it. */
export interface PlaygroundOp extends OpCheck {
  family: string;
  /** Key prefix (or pattern) of the op's main kernel, the one a user WGSL replaces. */
  kernel: string | RegExp;
  /** How many shapes it takes: [min, max]. */
  shapes: [number, number];
  defaultShapes: number[][];
  /** Which options the op reads. */
  options: ('axis' | 'transpose')[];
}

type Presentation = Omit<PlaygroundOp, keyof OpCheck>;

/** How each checked op is presented; an op not listed here gets `defaultPresentation`. */
function presentation(op: CheckedOp, check: OpCheck): Presentation {
  if (op in UNARY) return { family: 'unary', kernel: `unary/${op}/`, shapes: [1, 1], defaultShapes: [[1000]], options: [] };
  if (op in BINARY) return { family: 'binary', kernel: `binary/${op}/`, shapes: [1, 2], defaultShapes: [[8, 100], [100]], options: [] };
  const dflt = check.cases[0];
  switch (op) {
    case 'sum':
    case 'mean':
    case 'max':
    case 'min':
      return { family: 'reduce', kernel: `reduce/${op}/`, shapes: [1, 1], defaultShapes: dflt, options: ['axis'] };
    case 'softmax':
    case 'logSoftmax': // a workgroup per row, or a thread per row for short rows
      return {
        family: 'softmax',
        kernel: new RegExp(`^softmax(-row)?/${op === 'logSoftmax' ? 'log' : 'plain'}`),
        shapes: [1, 1],
        defaultShapes: dflt,
        options: ['axis'],
      };
    case 'matmul':
      return { family: 'matmul', kernel: 'matmul', shapes: [2, 2], defaultShapes: dflt, options: ['transpose'] };
    case 'layerNorm':
      return { family: 'layernorm', kernel: 'layernorm/fwd', shapes: [1, 1], defaultShapes: dflt, options: [] };
    case 'attention':
      return { family: 'attention', kernel: 'attention/fwd', shapes: [1, 3], defaultShapes: dflt, options: [] };
    default:
      return { family: op, kernel: op, shapes: [dflt.length, dflt.length], defaultShapes: dflt, options: [] };
  }
}

/** The ops of the playground, by name: matmul first (the page's default), then the op table's order. */
export const PLAYGROUND_OPS: Record<string, PlaygroundOp> = Object.fromEntries(
  (['matmul', ...CHECKED_OPS.filter((op) => op !== 'matmul')] as CheckedOp[]).map((op) => [
    op,
    { ...checkOf(op), ...presentation(op, checkOf(op)) },
  ]),
);

export interface HostInput {
  data: Float32Array | Int32Array | Uint32Array;
  shape: number[];
}

/**
 * Seeded inputs for `op` on `shapes` (plus the operands the op derives, e.g. layer norm's weight and
 * bias), one mulberry32 stream, each operand from its domain (integers in [−20, 20] for integer
 * dtypes). f16: the values rounded to f16, so the reference runs on exactly what the GPU holds (f16
 * storage, f32 arithmetic: the f32 tolerances hold).
 */
export function playgroundInputs(op: PlaygroundOp, shapes: number[][], dtype: DType, seed: number): HostInput[] {
  const rnd = mulberry32(seed);
  const all = op.operands ? op.operands(shapes) : shapes;
  return all.map((shape, i) => {
    const n = shape.reduce((x, y) => x * y, 1);
    const int = dtype === 'i32' || dtype === 'u32';
    const values = drawValues(n, int ? { kind: 'integer', lo: -20, hi: 21 } : (op.domains[i] ?? normal()), rnd);
    return { data: roundTo(values, dtype === 'u32' ? 'i32' : dtype), shape };
  });
}

/** A kernel as dispatched: its spec and its workgroup grid. */
export interface Captured {
  spec: KernelSpec;
  groups: readonly number[];
}

/** Runs `fn` once and returns the kernels it dispatched, in order, and its result (kept; the rest is freed). */
export async function captureKernels<T>(fn: () => T): Promise<{ kernels: Captured[]; result: T }> {
  const rt = engine();
  const kernels: Captured[] = [];
  rt.kernelOverride = (spec, groups) => {
    kernels.push({ spec, groups });
    return undefined;
  };
  try {
    const result = scope(fn);
    await rt.flush();
    return { kernels, result };
  } finally {
    rt.kernelOverride = null;
  }
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
  return [
    `${indent}kernel ${spec.key}: ${spec.inputs} input(s), ${spec.outputs} output(s)${spec.asserts ? ' + assert buffer' : ''}; workgroups [${groups.join(', ')}]`,
    ...kernelLayout(spec.code()).map((l) => `${indent}  ${l}`),
  ].join('\n');
}

/** A spec running `code` in place of `main` (same bindings); its key changes with the code. */
export function userKernel(main: KernelSpec, code: string): KernelSpec {
  let h = 2166136261;
  for (let i = 0; i < code.length; i++) h = Math.imul(h ^ code.charCodeAt(i), 16777619);
  return {
    key: `user:${main.key}:${code.length}:${(h >>> 0).toString(16)}`,
    inputs: main.inputs,
    outputs: main.outputs,
    asserts: main.asserts,
    code: () => code,
  };
}

/** The comparison with the reference (engine/validate.ts). */
export type Check = Validation;

/** Timing per launch (engine/timing.ts), with the samples of the clock `ms` is on. */
export type KernelTiming = Timing & { samples: number[] };

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
    throw new PlaygroundError(
      `${req.op} takes ${op.shapes[0] === op.shapes[1] ? op.shapes[0] : `${op.shapes[0]} to ${op.shapes[1]}`} shape(s), got ${shapes.length}`,
    );
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
    op,
    dtype,
    shapes,
    inputs,
    kernels,
    main,
    get user() {
      return user !== null;
    },
    async useWgsl(code) {
      if (!main)
        throw new PlaygroundError(
          `${req.op} dispatches no kernel matching ${op.kernel} for these shapes (${kernels.map((c) => c.spec.key).join(', ') || 'none'}); nothing to replace`,
        );
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
      try {
        got = (await out.data()) as ArrayLike<number>;
      } finally {
        out.dispose();
      }
      const refs = inputs.map((i) => R.ref(i.data, i.shape));
      const want = op.ref(refs, o);
      const t = req.tolerance;
      const tol = t && (t.atol !== undefined || t.rtol !== undefined) ? t : toleranceFor(op, want, refs, o, dtype);
      return { check: validate(got, want.data, tol), outShape: want.shape };
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
    const repeats = req.repeats ?? 5;
    const t =
      repeats > 0
        ? await timeOurs(
            () => {
              s.run();
            },
            { repeats, targetMs: 30 },
          )
        : null;
    const timing = t && { ...t, samples: t.gpuSamples ?? t.wallSamples };
    return { op: req.op, shapes: s.shapes, dtype: s.dtype, outShape, kernels: s.kernels, main: s.main, check, timing, user: s.user };
  } finally {
    s.dispose();
  }
}
