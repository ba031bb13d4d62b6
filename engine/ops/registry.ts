/**
 * The op registry, the join key of every tool (as TF.js's kernel names are): every public op of the
 * engine, whether gradients flow through it, and — for the ops with a kernel check — how it is
 * checked: its CPU reference, the domain of each operand, the tolerance rule and the default cases.
 * The kernel tests (test/gpu/elementwise.test.ts), the playground (engine/playground.ts, its web page
 * and `npm run kernel`) and the benchmarks (bench/kernels.ts) all read `OPS[op].check`.
 *
 * ADDING AN OP? Register it here, in the same change (e.g. `attention`, the box ops):
 *   - `myOp: { differentiable: true }` when it records a backward rule. `DifferentiableOp` then
 *     includes 'myOp', and test/gpu/gradcheck.test.ts does not compile until GRAD_TESTS has finite-
 *     difference cases for it.
 *   - `myOp: { differentiable: false, why: '…' }` otherwise, saying why no gradient exists.
 *   - `check: { run, ref, domains, tol, cases, dtypes }` to have it tested against its reference, in
 *     the playground and benchmarkable; an elementwise table row must have one (the type says so).
 * The gradcheck test also fails at run time when a function exported from engine/index.ts (or a
 * Tensor method) is neither registered here nor listed in NOT_OPS below.
 */
import type { UnaryOp, BinaryOp } from './elementwise.table.ts';
import { BINARY } from './elementwise.table.ts';
import { unary, binary } from './elementwise.ts';
import { attention, sum, mean, max, min, type Tensor } from '../index.ts';
import type { DType } from '../dtype.ts';
import * as R from '../reference/index.ts';
import { uniform, normal, type Domain } from '../reference/inputs.ts';
import type { Tolerance, ToleranceSpec } from '../validate.ts';

export type OpEntry = ({ readonly differentiable: true } | { readonly differentiable: false; readonly why: string }) & {
  readonly check?: OpCheck;
};

/** Every op name: the elementwise table's ops (so a new table row must be registered) and the rest. */
export type OpName =
  | UnaryOp
  | BinaryOp
  | 'where'
  | 'cast'
  | 'sum'
  | 'mean'
  | 'max'
  | 'min'
  | 'variance'
  | 'argmax'
  | 'argmin'
  | 'sumToShape'
  | 'softmax'
  | 'logSoftmax'
  | 'reshape'
  | 'permute'
  | 'transpose'
  | 'slice'
  | 'concat'
  | 'pad'
  | 'broadcastTo'
  | 'squeeze'
  | 'expandDims'
  | 'clone'
  | 'gather'
  | 'scatterAdd'
  | 'matmul'
  | 'layerNorm'
  | 'attention'
  | 'attentionHeads'
  | 'boxCxcywhToXyxy'
  | 'boxXyxyToCxcywh'
  | 'boxIou'
  | 'generalizedBoxIou'
  | 'elementwiseIou'
  | 'elementwiseGiou'
  | 'crossEntropy'
  | 'tensor'
  | 'zeros'
  | 'ones'
  | 'full'
  | 'zerosLike'
  | 'onesLike'
  | 'arange'
  | 'rand'
  | 'randn'
  | 'randomBits';

/** The options a checked op reads (reduction / softmax axis, matmul transposes). */
export interface CheckOptions {
  /** Reduction / softmax axis (default: all axes for reductions, −1 for softmax). */
  axis?: number;
  transposeA?: boolean;
  transposeB?: boolean;
}

/** A reference result; matmul's also carries Σ|a·b| per element (its error bound's scale). */
export type RefOut = R.RefTensor & { absProd?: Float64Array };

/**
 * A tolerance rule: a fixed atol/rtol (for float results; integer results must be exact), or the
 * per-element tolerance from the reference output, the inputs, the options and the storage dtype.
 */
export type ToleranceRule = Tolerance | ((ref: RefOut, xs: R.RefTensor[], o: CheckOptions, dtype: DType) => ToleranceSpec);

export interface OpCheck {
  /** Runs the op on the GPU: its operands in order, one tensor out. */
  run: (xs: Tensor[], o: CheckOptions) => Tensor;
  /** The CPU reference on the same operands (f64). */
  ref: (xs: R.RefTensor[], o: CheckOptions) => RefOut;
  /** Where each operand's values come from (engine/reference/inputs.ts). */
  domains: Domain[];
  tol: ToleranceRule;
  /** The default cases: each the shapes of the operands a caller gives (the rest follow from `operands`). */
  cases: number[][][];
  /** The dtypes its inputs may be stored in. */
  dtypes: DType[];
  /** All operand shapes from the given ones (layer norm adds its weight and bias [D]); default: as given. */
  operands?: (shapes: number[][]) => number[][];
}

/** The per-element tolerance of `check` on this reference output. */
export function toleranceFor(check: OpCheck, ref: RefOut, xs: R.RefTensor[], o: CheckOptions, dtype: DType): ToleranceSpec {
  const t = check.tol;
  if (typeof t === 'function') return t(ref, xs, o, dtype);
  return dtype === 'i32' || dtype === 'u32' ? {} : t;
}

/** Shapes every elementwise check runs on: scalar, 1, primes, non-multiples of 256, a long row. */
export const AWKWARD_SHAPES: number[][] = [[], [1], [3], [17], [257], [3, 17], [2, 3, 5], [65_537]];

/** Operand shapes of the binary checks: equal, broadcast either way, scalars, empty, rank 6. */
export const BROADCAST_CASES: [number[], number[]][] = [
  [[], []],
  [[1], [1]],
  [[3], [3]],
  [[257], [257]],
  [[65_537], [65_537]],
  [
    [3, 1],
    [1, 4],
  ],
  [[], [17]],
  [[17], []],
  [[2, 3, 5], [5]],
  [
    [2, 1, 5],
    [3, 1],
  ],
  [
    [5, 1, 1, 7],
    [1, 6, 1],
  ],
  [[0, 3], [3]],
  [
    [4, 0],
    [1, 1],
  ],
  [
    [1, 2, 1, 3, 1, 2],
    [2, 1, 3, 1, 2, 1],
  ],
];

/** f32 unit roundoff. */
const U = 2 ** -24;

// Elementwise tolerances: test/gpu/elementwise.test.ts's header gives the ulp budget of each.
const unaryCheck = (op: UnaryOp, domain: Domain, tol: Tolerance, ints = false) => ({
  check: {
    run: ([x]: Tensor[]) => unary(op, x),
    ref: ([x]: R.RefTensor[]) => R.unary(op, x),
    domains: [domain],
    tol,
    cases: AWKWARD_SHAPES.map((s) => [s]),
    dtypes: ints ? ['f32', 'i32'] : ['f32'],
  } satisfies OpCheck,
});
const binaryCheck = (op: BinaryOp, domain: Domain, tol: Tolerance) => ({
  check: {
    run: ([a, b]: Tensor[]) => binary(op, a, b ?? a),
    ref: ([a, b]: R.RefTensor[]) => R.binary(op, a, b ?? a),
    domains: [domain, domain],
    tol,
    cases: BROADCAST_CASES,
    dtypes: BINARY[op].floatOnly || op === 'div' ? ['f32'] : ['f32', 'i32'],
  } satisfies OpCheck,
});
const EXACT = { atol: 0, rtol: 0 };
const ROUNDED = { atol: 0, rtol: U }; // one correctly rounded operation
const BIN = uniform(-2, 2);

/**
 * Sums of n terms (reductions) are bounded by n·2⁻²⁴·Σ|terms| (serial f32 summation), doubled to
 * allow any summation order; a max of f32 inputs is one of them, exactly.
 */
const reduceCheck = (op: 'sum' | 'mean' | 'max' | 'min') => ({
  check: {
    run: ([x]: Tensor[], o: CheckOptions) => ({ sum, mean, max, min })[op](x, o.axis),
    ref: ([x]: R.RefTensor[], o: CheckOptions) => R.reduce(op, x, o.axis),
    domains: [normal()],
    cases: [[[64, 300]]],
    dtypes: ['f32'],
    tol: (r: RefOut, [x]: R.RefTensor[], o: CheckOptions) => {
      if (op === 'max' || op === 'min') return () => 0;
      const n = x.data.length / Math.max(r.data.length, 1);
      const abs = R.absSum(x, o.axis).data;
      return (i: number) => (2 * n * U * abs[i]) / (op === 'mean' ? n : 1) + 1e-30;
    },
  } satisfies OpCheck,
});

/** Outputs in (0, 1] (log: O(log len)); a row sum of len terms in f32 sets the scale. */
const softmaxCheck = (log: boolean) => ({
  check: {
    run: ([x]: Tensor[], o: CheckOptions) => (log ? x.logSoftmax(o.axis ?? -1) : x.softmax(o.axis ?? -1)),
    ref: ([x]: R.RefTensor[], o: CheckOptions) => R.softmax(x, o.axis ?? -1, log),
    domains: [normal()],
    cases: [[[6, 164]]],
    dtypes: ['f32'],
    tol: (r: RefOut) => (i: number) => (log ? 1e-5 : 1e-6) + 1e-5 * Math.abs(r.data[i]),
  } satisfies OpCheck,
});

/** Σ of K products in f32: ≤ K·2⁻²⁴·Σ|a·b| serially, doubled for any order (f16 operands: f32 arithmetic). */
const MATMUL_CHECK: OpCheck = {
  run: ([a, b], o) => a.matmul(b, { transposeA: !!o.transposeA, transposeB: !!o.transposeB }),
  ref: ([a, b], o) => R.matmul(a, b, !!o.transposeA, !!o.transposeB),
  domains: [normal(), normal()],
  cases: [
    [
      [64, 96],
      [96, 80],
    ],
  ],
  dtypes: ['f32', 'f16'],
  tol: (r, [a], o) => {
    const K = o.transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
    return (i) => 2 * K * U * r.absProd![i] + 1e-30;
  },
};

/** Normalised outputs are O(1); mean and variance are sums of D terms in f32. */
const LAYERNORM_CHECK: OpCheck = {
  run: ([x, w, b]) => x.layerNorm(w, b, 1e-5),
  ref: ([x, w, b]) => R.layerNorm(x, w, b, 1e-5),
  domains: [normal(), uniform(0.1, 3), normal()],
  cases: [[[328, 192]]],
  dtypes: ['f32'],
  operands: ([x]) => [x, [x[x.length - 1] ?? 1], [x[x.length - 1] ?? 1]],
  tol: (r) => (i) => 1e-5 + 1e-4 * Math.abs(r.data[i]),
};

/**
 * softmax(q·kᵀ/√D)·v against its composition from reference primitives (an oracle independent of
 * the kernel). Outputs are convex combinations of v's rows (|v| ~ 1); sums of Tk and D terms in f32.
 */
const ATTENTION_CHECK: OpCheck = {
  run: ([q, k, v]) => attention(q, k ?? q, v ?? k ?? q),
  ref: ([q, k0, v0]) => {
    const k = k0 ?? q,
      v = v0 ?? k;
    const s = R.matmul(q, k, false, true);
    const scaled = R.binary('mul', s, R.ref([1 / Math.sqrt(q.shape[q.shape.length - 1])], []));
    return R.matmul(R.softmax(scaled, -1), v);
  },
  domains: [normal(), normal(), normal()],
  cases: [[[2, 3, 50, 64]]],
  dtypes: ['f32', 'f16'],
  tol: (r) => (i) => 1e-5 + 1e-4 * Math.abs(r.data[i]),
};

const CONSTANT = 'creates a tensor from constants: it has no tensor input to differentiate';
const PIECEWISE = 'piecewise constant (a 0/1 mask): its derivative is zero almost everywhere';
const INDICES = 'returns integer indices, which carry no gradient';

export const OPS = {
  // Elementwise, unary (engine/ops/elementwise.table.ts)
  neg: { differentiable: true, ...unaryCheck('neg', uniform(-5, 5), EXACT, true) },
  abs: { differentiable: true, ...unaryCheck('abs', uniform(-5, 5), EXACT, true) },
  sign: {
    differentiable: false,
    why: 'piecewise constant (−1/0/1): its derivative is zero almost everywhere',
    ...unaryCheck('sign', uniform(-5, 5), EXACT, true),
  },
  exp: { differentiable: true, ...unaryCheck('exp', uniform(-20, 20), { atol: 1e-6, rtol: 4e-6 }) },
  log: { differentiable: true, ...unaryCheck('log', uniform(1e-3, 10), { atol: 1e-6, rtol: 4e-6 }) },
  sqrt: { differentiable: true, ...unaryCheck('sqrt', uniform(0, 100), { atol: 0, rtol: 4e-7 }) },
  rsqrt: { differentiable: true, ...unaryCheck('rsqrt', uniform(1e-2, 100), { atol: 0, rtol: 1e-6 }) },
  square: { differentiable: true, ...unaryCheck('square', uniform(-5, 5), ROUNDED, true) },
  relu: { differentiable: true, ...unaryCheck('relu', uniform(-5, 5), EXACT) },
  sigmoid: { differentiable: true, ...unaryCheck('sigmoid', uniform(-30, 30), { atol: 1e-7, rtol: 4e-6 }) },
  tanh: { differentiable: true, ...unaryCheck('tanh', uniform(-8, 8), { atol: 1e-7, rtol: 4e-6 }) },
  gelu: { differentiable: true, ...unaryCheck('gelu', uniform(-9, 9), { atol: 1e-6, rtol: 4e-6 }) },
  geluGrad: {
    differentiable: false,
    why: "GELU's derivative, used inside gelu's backward; second derivatives are not supported",
    ...unaryCheck('geluGrad', uniform(-9, 9), { atol: 1e-6, rtol: 4e-6 }),
  },
  // Elementwise, binary, with broadcasting (gradients summed back to each operand's shape)
  add: { differentiable: true, ...binaryCheck('add', BIN, ROUNDED) },
  sub: { differentiable: true, ...binaryCheck('sub', BIN, ROUNDED) },
  mul: { differentiable: true, ...binaryCheck('mul', BIN, ROUNDED) },
  div: { differentiable: true, ...binaryCheck('div', uniform(0.5, 2), { atol: 0, rtol: 6 * U }) },
  pow: { differentiable: true, ...binaryCheck('pow', uniform(0.1, 3), { atol: 1e-6, rtol: 1e-5 }) },
  maximum: { differentiable: true, ...binaryCheck('maximum', BIN, EXACT) },
  minimum: { differentiable: true, ...binaryCheck('minimum', BIN, EXACT) },
  eq: { differentiable: false, why: PIECEWISE, ...binaryCheck('eq', BIN, EXACT) },
  ne: { differentiable: false, why: PIECEWISE, ...binaryCheck('ne', BIN, EXACT) },
  lt: { differentiable: false, why: PIECEWISE, ...binaryCheck('lt', BIN, EXACT) },
  le: { differentiable: false, why: PIECEWISE, ...binaryCheck('le', BIN, EXACT) },
  gt: { differentiable: false, why: PIECEWISE, ...binaryCheck('gt', BIN, EXACT) },
  ge: { differentiable: false, why: PIECEWISE, ...binaryCheck('ge', BIN, EXACT) },
  where: { differentiable: true }, // to a and b; cond is a mask
  cast: { differentiable: true }, // f32 → f32 (the identity) and f32 ↔ f16 (straight through, f32 gradients); integer results cannot require gradients
  // Reductions (engine/ops/reduce.ts)
  sum: { differentiable: true, ...reduceCheck('sum') },
  mean: { differentiable: true, ...reduceCheck('mean') },
  max: { differentiable: true, ...reduceCheck('max') },
  min: { differentiable: true, ...reduceCheck('min') },
  variance: { differentiable: true },
  argmax: { differentiable: false, why: INDICES },
  argmin: { differentiable: false, why: INDICES },
  sumToShape: {
    differentiable: false,
    why: 'the adjoint of broadcasting, used by backward rules; it runs under noGrad (use sum(x, axes) in differentiable code)',
  },
  softmax: { differentiable: true, ...softmaxCheck(false) },
  logSoftmax: { differentiable: true, ...softmaxCheck(true) },
  // Movement (engine/ops/movement.ts): gradients are the inverse movement
  reshape: { differentiable: true },
  permute: { differentiable: true },
  transpose: { differentiable: true },
  slice: { differentiable: true },
  concat: { differentiable: true },
  pad: { differentiable: true },
  broadcastTo: { differentiable: true },
  squeeze: { differentiable: true },
  expandDims: { differentiable: true },
  clone: { differentiable: true },
  gather: { differentiable: true }, // to x; the indices are integers
  scatterAdd: { differentiable: true }, // to src; the indices are integers
  matmul: { differentiable: true, check: MATMUL_CHECK },
  layerNorm: { differentiable: true, check: LAYERNORM_CHECK }, // to x, weight and bias
  attention: { differentiable: true, check: ATTENTION_CHECK }, // to q, k and v (engine/ops/attention.ts)
  attentionHeads: { differentiable: true }, // heads packed in the last axis; with a gradient, split → attention → merge
  // Boxes (engine/ops/box.ts), to both operands
  boxCxcywhToXyxy: { differentiable: true },
  boxXyxyToCxcywh: { differentiable: true },
  boxIou: { differentiable: true },
  generalizedBoxIou: { differentiable: true },
  elementwiseIou: { differentiable: true },
  elementwiseGiou: { differentiable: true },
  // Losses
  crossEntropy: { differentiable: true }, // to the logits; targets are integers, class weights constants (as in PyTorch)
  // Creation (engine/ops/creation.ts)
  tensor: { differentiable: false, why: CONSTANT },
  zeros: { differentiable: false, why: CONSTANT },
  ones: { differentiable: false, why: CONSTANT },
  full: { differentiable: false, why: CONSTANT },
  zerosLike: { differentiable: false, why: 'depends only on the shape and dtype of its input, not on its values' },
  onesLike: { differentiable: false, why: 'depends only on the shape and dtype of its input, not on its values' },
  arange: { differentiable: false, why: CONSTANT },
  rand: { differentiable: false, why: 'random numbers: no tensor input' },
  randn: { differentiable: false, why: 'random numbers: no tensor input' },
  randomBits: { differentiable: false, why: 'random u32 words: no tensor input, integer output' },
} as const satisfies { readonly [K in OpName]: K extends UnaryOp | BinaryOp ? OpEntry & { readonly check: OpCheck } : OpEntry };

/** The ops with a kernel check (a reference, domains, a tolerance rule and default cases). */
export type CheckedOp = { [K in OpName]: (typeof OPS)[K] extends { check: OpCheck } ? K : never }[OpName];

/** The checked op names, at run time, in table order. */
export const CHECKED_OPS = (Object.keys(OPS) as OpName[]).filter((k) => 'check' in OPS[k]) as CheckedOp[];

/** The check of a checked op. */
export const checkOf = (op: CheckedOp): OpCheck => (OPS[op] as { check: OpCheck }).check;

/** The ops that record a backward rule: each must have gradient checks in test/gpu/gradcheck.test.ts. */
export type DifferentiableOp = { [K in OpName]: (typeof OPS)[K] extends { differentiable: true } ? K : never }[OpName];

/** The differentiable op names, at run time. */
export const DIFFERENTIABLE_OPS = (Object.keys(OPS) as OpName[]).filter((k) => OPS[k].differentiable) as DifferentiableOp[];

/** Functions exported by engine/index.ts that are not ops (no tensor result): the API around them. */
export const NOT_OPS = [
  'init',
  'engine',
  'chooseAttentionVariant',
  'describeAdapterOf',
  'scope',
  'keep',
  'setSeed',
  'fmtShape',
  'setValidation',
  'validationEnabled',
  'noGrad',
  'isGradEnabled',
  'needsGrad',
  'backward',
  'grad',
  'valueAndGrad',
  'gradients',
  'checkpoint',
  // writing kernels (engine/launch.ts)
  'launch',
  'assertCode',
  'Params',
  'grid1d',
  'gridRows',
  // feature checks
  'requireF16',
] as const;
