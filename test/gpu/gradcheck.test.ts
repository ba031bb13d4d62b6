/**
 * Gradient checks: every differentiable op (engine/ops/registry.ts) against central finite
 * differences of its CPU reference in f64, plus the autograd API (grad, valueAndGrad, noGrad,
 * detach, accumulation, seeds, retained and freed graphs, in-place detection).
 *
 * Method. Each case builds f32-exact inputs of awkward small shapes, runs the op on the GPU with
 * requiresGrad inputs, takes L = Σ out ⊙ W for a fixed random W ∈ [−1, 1) and calls backward. The
 * oracle is L_ref(x) = Σ W ⊙ ref(x) over Float64Array, differentiated by central differences:
 *   dL/dx_i ≈ (L_ref(x + h e_i) − L_ref(x − h e_i)) / ((x_i + h) − (x_i − h)),  h = 1e-6·max(1, |x_i|).
 * The denominator is the step actually taken (exact by Sterbenz). Error of the oracle: truncation
 * h²/6·|L'''| ≲ 1e-12·|L'''| (inputs are O(1), so L''' is O(10)), plus the f64 rounding of L (≤ 60
 * terms of size ≤ ~5: ≲ 60·ε₆₄·Σ|terms| ≈ 4e-13 worst, ~1e-14 typical) over 2h = 2e-6: ≤ 2e-7 worst,
 * ~1e-8 typical (measured ≤ 3e-10). So what the check measures is the GPU's f32 error.
 *
 * Tolerance |g − fd| ≤ atol·s + rtol·|fd|, s = max(1, max_i |fd_i|) over that input:
 *   - default: rtol 1e-4, atol 1e-5. The f32 gradient of one entry is a chain of ≤ ~10 roundings
 *     (forward values saved in f32, then the rule) over sums of ≤ 12 terms, each bounded by the
 *     largest gradient entry s (W ≤ 1, inputs O(1)): the error is ≲ 12·10·u·s ≈ 7e-6·s in the worst
 *     case and ~1e-6·s typically (u = 2⁻²⁴ ≈ 6e-8). Entries that are small by cancellation are thus
 *     judged on the input's gradient scale s, not on their own size. A wrong rule is off by O(s).
 *     Measured (node, lavapipe): worst |g − fd|/s = 2.8e-7 (≈ 5 u); every case within 1/110 of its tolerance.
 *   - 'exact' (pure data movement: reshape, permute, slice, concat, pad, …, and sum, neg, where,
 *     gather without repeats): the GPU gradient is W itself, copied or sign-flipped, so exact in f32;
 *     only the oracle errs (≤ 2e-7·s worst, above; measured ≤ 5e-10·s): atol 1e-6, rtol 0.
 * Inputs stay away from kinks by ≫ h (relu/abs: |x| ≥ 0.2; max/min: distinct values; maximum/minimum:
 * operands on grids ≥ 0.06 apart; boxes and matmul+relu: checked margins noted at the cases) and in
 * the domain (log/sqrt/rsqrt/pow bases positive). Seeds come from the case names, so they are stable.
 */
import { describe, it, expect } from 'vitest';
import {
  tensor,
  scope,
  engine,
  noGrad,
  isGradEnabled,
  grad,
  valueAndGrad,
  backward,
  EngineError,
  ShapeError,
  where,
  concat,
  scatterAdd,
  matmul,
  crossEntropy,
  boxCxcywhToXyxy,
  boxXyxyToCxcywh,
  boxIou,
  generalizedBoxIou,
  elementwiseIou,
  elementwiseGiou,
  Tensor,
} from '../../engine/index.ts';
import * as Engine from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import type { RefTensor } from '../../engine/reference/index.ts';
import { OPS, NOT_OPS, DIFFERENTIABLE_OPS, type DifferentiableOp, type OpName } from '../../engine/ops/registry.ts';
import { UNARY, BINARY } from '../../engine/ops/elementwise.table.ts';
import { unary, binary } from '../../engine/ops/elementwise.ts';
import { record } from '../../engine/autograd/node.ts';
import { drawValues, type Domain } from '../../engine/reference/inputs.ts';
import { useEngine, rng } from './util.ts';

useEngine();

// ---------------------------------------------------------------------------------------------
// Inputs

interface In {
  shape: number[];
  /** How its values are drawn (engine/reference/inputs.ts), rounded to f32 so GPU and reference see the same numbers. */
  gen: Domain;
  dtype: 'f32' | 'i32';
  /** Whether the input requires grad and is finite-differenced (constants: masks, indices). */
  grad: boolean;
}

const U = (shape: number[], lo = -1, hi = 1): In => ({ shape, gen: { kind: 'uniform', lo, hi }, dtype: 'f32', grad: true });
const POS = (shape: number[], lo = 0.3, hi = 2): In => U(shape, lo, hi);
const AWAY = (shape: number[], lo = 0.2, hi = 1.5): In => ({ shape, gen: { kind: 'away', lo, hi }, dtype: 'f32', grad: true });
const DISTINCT = (shape: number[], lo = -2, hi = 2): In => ({ shape, gen: { kind: 'distinct', lo, hi }, dtype: 'f32', grad: true });
const GRID = (shape: number[], offset: number): In => ({ shape, gen: { kind: 'grid', offset }, dtype: 'f32', grad: true });
/** A constant f32 input (no gradient): masks, fixed exponents. */
const CONST = (values: number[], shape: number[]): In => ({ shape, gen: { kind: 'values', values }, dtype: 'f32', grad: false });
const BOXES = (n: number, format: 'xyxy' | 'cxcywh' = 'xyxy'): In => ({
  shape: [n, 4],
  gen: { kind: 'boxes', format },
  dtype: 'f32',
  grad: true,
});
const IDX = (values: number[], shape = [values.length]): In => ({ shape, gen: { kind: 'values', values }, dtype: 'i32', grad: false });

function draw(inp: In, seed: number): Float64Array {
  const out = drawValues(
    inp.shape.reduce((a, b) => a * b, 1),
    inp.gen,
    seed,
  );
  return inp.dtype === 'f32' ? out.map(Math.fround) : out;
}

// ---------------------------------------------------------------------------------------------
// The cases

interface GradCase {
  name: string;
  inputs: In[];
  gpu: (...xs: Tensor[]) => Tensor;
  ref: (...xs: RefTensor[]) => RefTensor;
  /** 'exact' for pure data movement (see the header); default otherwise. */
  tol?: 'exact';
}

const as = (x: RefTensor, shape: number[]): RefTensor => ({ shape, data: x.data });
const swap = (rank: number, a: number, b: number): number[] => {
  const p = Array.from({ length: rank }, (_, i) => i);
  [p[a], p[b]] = [p[b], p[a]];
  return p;
};
const unaryCase = (op: Parameters<typeof R.unary>[0], inp: In, name = `[${inp.shape}]`): GradCase => ({
  name,
  inputs: [inp],
  gpu: (x) => unary(op, x),
  ref: (x) => R.unary(op, x),
});
const binaryCase = (op: Parameters<typeof R.binary>[0], a: In, b: In): GradCase => ({
  name: `[${a.shape}] ${a.grad ? '' : '(const) '}and [${b.shape}]${b.grad ? '' : ' (const)'}`,
  inputs: [a, b],
  gpu: (x, y) => binary(op, x, y),
  ref: (x, y) => R.binary(op, x, y),
});
type RedKind = 'sum' | 'mean' | 'max' | 'min' | 'variance';
const reduceCase = (kind: RedKind, inp: In, axis?: number | number[], keepDims = false, correction = 0): GradCase => ({
  name: `[${inp.shape}] axis ${JSON.stringify(axis) ?? 'all'}${keepDims ? ' keepDims' : ''}${correction ? ` correction ${correction}` : ''}`,
  inputs: [inp],
  gpu: (x) => (kind === 'variance' ? x.variance(axis, keepDims, correction) : x[kind](axis, keepDims)),
  ref: (x) => R.reduce(kind, x, axis, keepDims, correction),
  tol: kind === 'sum' ? 'exact' : undefined,
});
const matmulCase = (a: number[], b: number[], transposeA = false, transposeB = false): GradCase => ({
  name: `[${a}]${transposeA ? 'ᵀ' : ''} @ [${b}]${transposeB ? 'ᵀ' : ''}`,
  inputs: [U(a), U(b)],
  gpu: (x, y) => matmul(x, y, { transposeA, transposeB }),
  ref: (x, y) => R.matmul(x, y, transposeA, transposeB),
});

/** matmul(a, b, { transposeB, bias, activation, residual }) against the composition of references. */
const epilogueCase = (a: number[], b: number[], activation: 'gelu' | 'relu' | undefined, bias: boolean, residual: boolean): GradCase => {
  const N = b[b.length - 2];
  const outShape = R.matmul(
    { shape: a, data: new Float64Array(a.reduce((x, y) => x * y, 1)) },
    { shape: b, data: new Float64Array(b.reduce((x, y) => x * y, 1)) },
    false,
    true,
  ).shape;
  return {
    name: `[${a}] @ [${b}]ᵀ${bias ? ' + bias' : ''}${activation ? ` → ${activation}` : ''}${residual ? ' + residual' : ''}`,
    // relu: z = a·b + bias must stay off 0 by ≫ h; with this case's seed the smallest |z| is 0.077.
    inputs: [U(a), U(b), ...(bias ? [U([N])] : []), ...(residual ? [U(outShape)] : [])],
    gpu: (x, y, ...rest) =>
      matmul(x, y, { transposeB: true, activation, bias: bias ? rest[0] : undefined, residual: residual ? rest[bias ? 1 : 0] : undefined }),
    ref: (x, y, ...rest) => {
      let z: RefTensor = R.matmul(x, y, false, true);
      if (bias) z = R.binary('add', z, rest[0]);
      if (activation) z = R.unary(activation, z);
      return residual ? R.binary('add', z, rest[bias ? 1 : 0]) : z;
    },
  };
};

const GRAD_TESTS: { [K in DifferentiableOp]: GradCase[] } = {
  neg: [{ ...unaryCase('neg', U([5])), tol: 'exact' }],
  abs: [unaryCase('abs', AWAY([2, 3])), unaryCase('abs', AWAY([]), 'scalar')],
  exp: [unaryCase('exp', U([5], -2, 2)), unaryCase('exp', U([]), 'scalar')],
  log: [unaryCase('log', POS([2, 3], 0.2, 3))],
  sqrt: [unaryCase('sqrt', POS([5], 0.2, 3))],
  rsqrt: [unaryCase('rsqrt', POS([3, 1], 0.3, 3))],
  square: [unaryCase('square', U([1], -2, 2)), unaryCase('square', U([2, 3], -2, 2))],
  relu: [unaryCase('relu', AWAY([7]))],
  sigmoid: [unaryCase('sigmoid', U([2, 3], -4, 4))],
  tanh: [unaryCase('tanh', U([7], -3, 3))], // |x| < 0.5 takes the Taylor branch, the rest exp
  gelu: [unaryCase('gelu', U([2, 5], -3, 3))],
  add: [binaryCase('add', U([3, 1]), U([1, 4])), binaryCase('add', U([5]), U([])), binaryCase('add', U([2, 3]), CONST([0.5, -1, 2], [3]))],
  sub: [binaryCase('sub', U([3, 1]), U([1, 4])), binaryCase('sub', U([2, 1, 3]), U([3]))],
  mul: [binaryCase('mul', U([3, 1]), U([1, 4])), binaryCase('mul', U([1]), U([2, 3]))],
  div: [binaryCase('div', U([2, 3]), POS([3], 0.5, 2)), binaryCase('div', U([3, 1]), AWAY([1, 4], 0.5, 2))],
  pow: [
    binaryCase('pow', POS([2, 3], 0.5, 2), U([3], -2, 2)), // both operands
    binaryCase('pow', POS([3, 1], 0.5, 2), U([1, 4], -2, 2)),
    binaryCase('pow', AWAY([5], 0.3, 1.5), CONST([3], [])), // negative base, integer exponent
  ],
  maximum: [binaryCase('maximum', GRID([3, 1], 0), GRID([1, 4], 0.1)), binaryCase('maximum', GRID([5], 0.05), GRID([], -0.05))],
  minimum: [binaryCase('minimum', GRID([3, 1], 0), GRID([1, 4], 0.1)), binaryCase('minimum', GRID([2, 3], 0.05), GRID([3], -0.05))],
  where: [
    {
      name: 'cond [2,3], a [2,3], b [3]',
      inputs: [CONST([1, 0, 0, 1, 1, 0], [2, 3]), U([2, 3]), U([3])],
      gpu: (c, a, b) => where(c, a, b),
      ref: R.where,
      tol: 'exact',
    },
    {
      name: 'cond [3,1], a [1,4], b []',
      inputs: [CONST([0, 1, 1], [3, 1]), U([1, 4]), U([])],
      gpu: (c, a, b) => where(c, a, b),
      ref: R.where,
    },
  ],
  cast: [{ name: 'f32 → f32 [2,3]', inputs: [U([2, 3])], gpu: (x) => x.cast('f32'), ref: (x) => x, tol: 'exact' }],
  sum: [
    reduceCase('sum', U([5])),
    reduceCase('sum', U([2, 3, 4]), [0, 2]),
    reduceCase('sum', U([2, 3]), 1, true),
    reduceCase('sum', U([2, 3, 4]), -1, true),
  ],
  mean: [reduceCase('mean', U([2, 3]), 0), reduceCase('mean', U([2, 3, 4]), [1, 2], true), reduceCase('mean', U([7]))],
  max: [reduceCase('max', DISTINCT([2, 3, 4]), 1), reduceCase('max', DISTINCT([5])), reduceCase('max', DISTINCT([2, 3]), -1, true)],
  min: [reduceCase('min', DISTINCT([3, 4]), 0, true), reduceCase('min', DISTINCT([2, 3, 2]), [0, 2]), reduceCase('min', DISTINCT([1]))],
  variance: [
    reduceCase('variance', U([2, 5]), 1),
    reduceCase('variance', U([3, 4]), 0, false, 1),
    reduceCase('variance', U([2, 3, 4]), [0, 2], true, 1),
    reduceCase('variance', U([7])),
  ],
  softmax: [
    { name: '[2,3] axis -1', inputs: [U([2, 3], -2, 2)], gpu: (x) => x.softmax(-1), ref: (x) => R.softmax(x, -1) },
    { name: '[3,4,2] axis 1', inputs: [U([3, 4, 2], -2, 2)], gpu: (x) => x.softmax(1), ref: (x) => R.softmax(x, 1) },
    { name: '[5] axis 0', inputs: [U([5], -3, 3)], gpu: (x) => x.softmax(0), ref: (x) => R.softmax(x, 0) },
    { name: 'scalar', inputs: [U([])], gpu: (x) => x.softmax(), ref: (x) => ({ shape: [], data: Float64Array.of(1) }) },
  ],
  logSoftmax: [
    { name: '[2,5] axis 0', inputs: [U([2, 5], -2, 2)], gpu: (x) => x.logSoftmax(0), ref: (x) => R.softmax(x, 0, true) },
    { name: '[3,4] axis -1', inputs: [U([3, 4], -2, 2)], gpu: (x) => x.logSoftmax(-1), ref: (x) => R.softmax(x, -1, true) },
    { name: 'scalar', inputs: [U([])], gpu: (x) => x.logSoftmax(), ref: () => ({ shape: [], data: Float64Array.of(0) }) },
  ],
  reshape: [
    { name: '[2,3] → [3,2]', inputs: [U([2, 3])], gpu: (x) => x.reshape([3, 2]), ref: (x) => as(x, [3, 2]), tol: 'exact' },
    { name: '[6] → [-1,1,2]', inputs: [U([6])], gpu: (x) => x.reshape([-1, 1, 2]), ref: (x) => as(x, [3, 1, 2]), tol: 'exact' },
  ],
  permute: [
    {
      name: '[2,3,4] [2,0,1]',
      inputs: [U([2, 3, 4])],
      gpu: (x) => x.permute([2, 0, 1]),
      ref: (x) => R.permute(x, [2, 0, 1]),
      tol: 'exact',
    },
    {
      name: '[3,1,2] [-1,0,1]',
      inputs: [U([3, 1, 2])],
      gpu: (x) => x.permute([-1, 0, 1]),
      ref: (x) => R.permute(x, [2, 0, 1]),
      tol: 'exact',
    },
  ],
  transpose: [
    { name: '[2,3,4] last two', inputs: [U([2, 3, 4])], gpu: (x) => x.transpose(), ref: (x) => R.permute(x, swap(3, 1, 2)), tol: 'exact' },
    {
      name: '[2,3,4] (0, 2)',
      inputs: [U([2, 3, 4])],
      gpu: (x) => x.transpose(0, 2),
      ref: (x) => R.permute(x, swap(3, 0, 2)),
      tol: 'exact',
    },
  ],
  slice: [
    {
      name: '[5,6] [1:5:2, 0:6:3]',
      inputs: [U([5, 6])],
      gpu: (x) => x.slice([1, 0], [5, 6], [2, 3]),
      ref: (x) => R.slice(x, [1, 0], [5, 6], [2, 3]),
      tol: 'exact',
    },
    {
      name: '[2,3,4] [:, -2:, ::2]',
      inputs: [U([2, 3, 4])],
      gpu: (x) => x.slice([0, -2], undefined, [1, 1, 2]),
      ref: (x) => R.slice(x, [0, -2], undefined, [1, 1, 2]),
      tol: 'exact',
    },
    { name: '[7] [1:-1]', inputs: [U([7])], gpu: (x) => x.slice([1], [-1]), ref: (x) => R.slice(x, [1], [-1]), tol: 'exact' },
  ],
  concat: [
    {
      name: '[2,3] [2,1] [2,2] axis 1',
      inputs: [U([2, 3]), U([2, 1]), U([2, 2])],
      gpu: (...xs) => concat(xs, 1),
      ref: (...xs) => R.concat(xs, 1),
      tol: 'exact',
    },
    {
      name: '[1,3] [2,3] axis 0',
      inputs: [U([1, 3]), U([2, 3])],
      gpu: (...xs) => concat(xs, 0),
      ref: (...xs) => R.concat(xs, 0),
      tol: 'exact',
    },
    {
      name: '[2,2] (const) [2,3] axis -1',
      inputs: [CONST([1, 2, 3, 4], [2, 2]), U([2, 3])],
      gpu: (...xs) => concat(xs, -1),
      ref: (...xs) => R.concat(xs, 1),
      tol: 'exact',
    },
  ],
  pad: [
    {
      name: '[2,3] [[1,0],[2,1]] value 0.5',
      inputs: [U([2, 3])],
      gpu: (x) =>
        x.pad(
          [
            [1, 0],
            [2, 1],
          ],
          0.5,
        ),
      ref: (x) =>
        R.pad(
          x,
          [
            [1, 0],
            [2, 1],
          ],
          0.5,
        ),
      tol: 'exact',
    },
    { name: '[3] [[0,2]]', inputs: [U([3])], gpu: (x) => x.pad([[0, 2]]), ref: (x) => R.pad(x, [[0, 2]]), tol: 'exact' },
  ],
  broadcastTo: [
    { name: '[3,1] → [2,3,4]', inputs: [U([3, 1])], gpu: (x) => x.broadcastTo([2, 3, 4]), ref: (x) => R.broadcastTo(x, [2, 3, 4]) },
    { name: '[] → [3]', inputs: [U([])], gpu: (x) => x.broadcastTo([3]), ref: (x) => R.broadcastTo(x, [3]) },
  ],
  squeeze: [
    { name: '[1,3,1] all', inputs: [U([1, 3, 1])], gpu: (x) => x.squeeze(), ref: (x) => as(x, [3]), tol: 'exact' },
    { name: '[2,1,3] axis 1', inputs: [U([2, 1, 3])], gpu: (x) => x.squeeze(1), ref: (x) => as(x, [2, 3]), tol: 'exact' },
  ],
  expandDims: [
    { name: '[2,3] axis 1', inputs: [U([2, 3])], gpu: (x) => x.expandDims(1), ref: (x) => as(x, [2, 1, 3]), tol: 'exact' },
    { name: '[3] axis -1', inputs: [U([3])], gpu: (x) => x.expandDims(-1), ref: (x) => as(x, [3, 1]), tol: 'exact' },
  ],
  clone: [{ name: '[2,3]', inputs: [U([2, 3])], gpu: (x) => x.clone(), ref: (x) => as(x, [2, 3]), tol: 'exact' }],
  gather: [
    // repeated indices: the backward (scatterAdd) must sum them
    {
      name: '[4,3] indices [2,0,2,2,3] axis 0',
      inputs: [U([4, 3]), IDX([2, 0, 2, 2, 3])],
      gpu: (x, i) => x.gather(i, 0),
      ref: (x, i) => R.gather(x, i, 0),
    },
    {
      name: '[2,5] indices [[1,-1],[1,0]] axis 1',
      inputs: [U([2, 5]), IDX([1, -1, 1, 0], [2, 2])],
      gpu: (x, i) => x.gather(i, 1),
      ref: (x, i) => R.gather(x, i, 1),
    },
    {
      name: '[3,2] indices [2,0,1] axis -2 (a permutation)',
      inputs: [U([3, 2]), IDX([2, 0, 1])],
      gpu: (x, i) => x.gather(i, -2),
      ref: (x, i) => R.gather(x, i, 0),
      tol: 'exact',
    },
  ],
  scatterAdd: [
    {
      name: '[5,3] indices [0,2,0,1,0] axis 0 size 3',
      inputs: [U([5, 3]), IDX([0, 2, 0, 1, 0])],
      gpu: (s, i) => scatterAdd(s, i, 0, 3),
      ref: (s, i) => R.scatterAdd(s, i, 0, 3),
    },
    {
      name: '[2,4] indices [1,1,-1,0] axis 1 size 5',
      inputs: [U([2, 4]), IDX([1, 1, -1, 0])],
      gpu: (s, i) => scatterAdd(s, i, 1, 5),
      ref: (s, i) => R.scatterAdd(s, i, 1, 5),
    },
  ],
  matmul: [
    matmulCase([3, 4], [4, 5]),
    matmulCase([4, 3], [4, 2], true, false),
    matmulCase([3, 4], [2, 4], false, true),
    matmulCase([4, 3], [5, 4], true, true),
    matmulCase([2, 1, 3, 4], [3, 4, 2]), // batch [2,1] vs [3] → [2,3]: both grads summed back
    matmulCase([1, 3, 4], [2, 5, 4], false, true),
    matmulCase([4], [2, 4, 3]), // 1-D a
    matmulCase([2, 3, 4], [4]), // 1-D b
    matmulCase([5], [5]), // dot product
    matmulCase([4], [3, 4], false, true),
    // A transpose flag on a 1-D operand is ignored (NumPy has no orientation for vectors).
    {
      name: '[4]ᵀ @ [4]ᵀ (flags ignored)',
      inputs: [U([4]), U([4])],
      gpu: (x, y) => matmul(x, y, { transposeA: true, transposeB: true }),
      ref: (x, y) => R.matmul(x, y),
    },
    // The fused epilogue act(a·b + bias) + residual: gradients to all four operands.
    epilogueCase([3, 4], [5, 4], 'gelu', true, true),
    epilogueCase([2, 3, 4], [5, 4], 'relu', true, false),
    epilogueCase([2, 3, 4], [2, 5, 4], undefined, true, true),
    epilogueCase([4], [5, 4], 'gelu', false, true),
  ],
  layerNorm: [
    {
      name: '[3,5] weight, bias',
      inputs: [U([3, 5]), U([5], 0.5, 1.5), U([5])],
      gpu: (x, w, b) => x.layerNorm(w, b, 1e-5),
      ref: (x, w, b) => R.layerNorm(x, w, b, 1e-5),
    },
    {
      name: '[2,2,4] plain',
      inputs: [U([2, 2, 4])],
      gpu: (x) => x.layerNorm(null, null, 1e-5),
      ref: (x) => R.layerNorm(x, null, null, 1e-5),
    },
    {
      name: '[1,7] weight, bias, eps 1e-3',
      inputs: [U([1, 7], -2, 2), U([7], -1.5, 1.5), U([7])],
      gpu: (x, w, b) => x.layerNorm(w, b, 1e-3),
      ref: (x, w, b) => R.layerNorm(x, w, b, 1e-3),
    },
  ],
  // Boxes: random valid boxes that overlap partly or not at all. The kinks of max/min (equal
  // coordinates of two boxes, an intersection side of 0) are ≥ 0.0067 ≫ h away with these seeds.
  boxCxcywhToXyxy: [{ name: '[2,3,4]', inputs: [U([2, 3, 4])], gpu: (b) => boxCxcywhToXyxy(b), ref: (b) => R.boxConvert(b, 'xyxy') }],
  boxXyxyToCxcywh: [{ name: '[5,4]', inputs: [BOXES(5)], gpu: (b) => boxXyxyToCxcywh(b), ref: (b) => R.boxConvert(b, 'cxcywh') }],
  boxIou: [
    { name: '[3,4] × [4,4]', inputs: [BOXES(3), BOXES(4)], gpu: (a, b) => boxIou(a, b), ref: (a, b) => R.boxPair('iou', a, b, true) },
  ],
  generalizedBoxIou: [
    {
      name: '[3,4] × [4,4]',
      inputs: [BOXES(3), BOXES(4)],
      gpu: (a, b) => generalizedBoxIou(a, b),
      ref: (a, b) => R.boxPair('giou', a, b, true),
    },
    {
      name: '[1,4] × [2,4] from cxcywh',
      inputs: [BOXES(1, 'cxcywh'), BOXES(2, 'cxcywh')],
      gpu: (a, b) => generalizedBoxIou(boxCxcywhToXyxy(a), boxCxcywhToXyxy(b)),
      ref: (a, b) => R.boxPair('giou', R.boxConvert(a, 'xyxy'), R.boxConvert(b, 'xyxy'), true),
    },
  ],
  elementwiseIou: [
    {
      name: '[5,4] × [5,4]',
      inputs: [BOXES(5), BOXES(5)],
      gpu: (a, b) => elementwiseIou(a, b),
      ref: (a, b) => R.boxPair('iou', a, b, false),
    },
  ],
  elementwiseGiou: [
    {
      name: '[5,4] × [5,4]',
      inputs: [BOXES(5), BOXES(5)],
      gpu: (a, b) => elementwiseGiou(a, b),
      ref: (a, b) => R.boxPair('giou', a, b, false),
    },
  ],
  attention: [
    {
      name: 'q,k,v [1,2,3,5]',
      inputs: [U([1, 2, 3, 5]), U([1, 2, 3, 5]), U([1, 2, 3, 5])],
      gpu: (q, k, v) => Engine.attention(q, k, v),
      ref: (q, k, v) => R.attention(q, k, v),
    },
  ],
  attentionHeads: [
    {
      name: 'q [1,3,6], k,v [1,4,6], 2 heads',
      inputs: [U([1, 3, 6]), U([1, 4, 6]), U([1, 4, 6])],
      gpu: (q, k, v) => Engine.attentionHeads(q, k, v, 2),
      ref: (q, k, v) => {
        const split = (t: { shape: number[]; data: Float64Array }) =>
          R.permute({ shape: [1, t.shape[1]!, 2, 3], data: t.data }, [0, 2, 1, 3]);
        const o = R.permute(R.attention(split(q), split(k), split(v)), [0, 2, 1, 3]);
        return { shape: [1, 3, 6], data: o.data };
      },
    },
  ],
  crossEntropy: [
    {
      name: '[3,5] targets [4,0,4]',
      inputs: [U([3, 5], -2, 2), IDX([4, 0, 4])],
      gpu: (x, t) => crossEntropy(x, t),
      ref: (x, t) => ({ shape: [], data: Float64Array.of(R.crossEntropy(x, t.data)) }),
    },
    {
      name: '[4,3] targets [2,0,1,2] class weights',
      inputs: [U([4, 3], -2, 2), IDX([2, 0, 1, 2]), CONST([0.5, 1, 2], [3])],
      gpu: (x, t, w) => crossEntropy(x, t, { weight: w }),
      ref: (x, t, w) => ({ shape: [], data: Float64Array.of(R.crossEntropy(x, t.data, w.data)) }),
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// The checker

const TOL = { default: { atol: 1e-5, rtol: 1e-4 }, exact: { atol: 1e-6, rtol: 0 } } as const;

/** A case's seed from its name (FNV-1a), so adding a case never changes another's inputs. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h % 1_000_003;
}

/** Runs one case; returns the failures (empty when the GPU gradients match the finite differences). */
async function gradcheck(c: GradCase, seed: number): Promise<string[]> {
  const values = c.inputs.map((inp, i) => draw(inp, seed * 101 + i));
  const refs: RefTensor[] = c.inputs.map((inp, i) => ({ shape: [...inp.shape], data: values[i] }));
  const want = c.ref(...refs);
  const W = Float64Array.from({ length: want.data.length }, rng(seed * 7 + 3)).map((v) => Math.fround(2 * v - 1));
  const L = (xs: RefTensor[]) => {
    const y = c.ref(...xs).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += W[i] * y[i];
    return s;
  };

  const before = engine().memory().tensors;
  const xs = c.inputs.map((inp, i) => {
    const data = inp.dtype === 'i32' ? Int32Array.from(values[i]) : Float32Array.from(values[i]);
    return tensor(data, inp.shape, { requiresGrad: inp.grad });
  });
  const fails: string[] = [];
  let out: Tensor | null = null;
  try {
    out = scope(() => {
      const y = c.gpu(...xs);
      const w = tensor(Float32Array.from(W), want.shape);
      y.mul(w).sum().backward();
      return y;
    });
    expect([...out.shape], `${c.name}: output shape`).toEqual(want.shape);
    // Forward, loosely (f32 forward errors here are a few u·Σ|terms| ≲ 1e-6): a wrong reference or
    // case would make the gradient check meaningless.
    const y = await out.data();
    for (let i = 0; i < y.length; i++) {
      if (!(Math.abs(y[i] - want.data[i]) <= 1e-5 * Math.max(1, Math.abs(want.data[i])))) {
        fails.push(`forward [${i}]: got ${y[i]}, want ${want.data[i]}`);
        break;
      }
    }
    for (let k = 0; k < xs.length; k++) {
      if (!c.inputs[k].grad) continue;
      const x = values[k];
      const fd = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const h = 1e-6 * Math.max(1, Math.abs(x[i]));
        const plus = x.slice(),
          minus = x.slice();
        plus[i] = x[i] + h;
        minus[i] = x[i] - h;
        const at = (v: Float64Array) => L(refs.map((r, j) => (j === k ? { shape: r.shape, data: v } : r)));
        fd[i] = (at(plus) - at(minus)) / (plus[i] - minus[i]);
      }
      const gT = xs[k].grad;
      if (!gT) {
        fails.push(`input ${k} [${c.inputs[k].shape}]: no gradient`);
        continue;
      }
      if (gT.shape.join() !== c.inputs[k].shape.join()) {
        fails.push(`input ${k}: gradient shape [${gT.shape}] for [${c.inputs[k].shape}]`);
        continue;
      }
      const g = await gT.data();
      const { atol, rtol } = TOL[c.tol ?? 'default'];
      const s = Math.max(1, ...Array.from(fd, Math.abs));
      for (let i = 0; i < fd.length; i++) {
        const err = Math.abs(g[i] - fd[i]);
        if (!(err <= atol * s + rtol * Math.abs(fd[i]))) {
          fails.push(
            `input ${k} [${c.inputs[k].shape}] grad[${i}]: got ${g[i]}, finite differences ${fd[i]}, |diff| ${err.toExponential(2)} > ${(atol * s + rtol * Math.abs(fd[i])).toExponential(2)}`,
          );
          if (fails.length >= 6) break;
        }
      }
    }
  } finally {
    out?.dispose();
    for (const x of xs) x.dispose(); // and their .grad
  }
  const leaked = engine().memory().tensors - before;
  if (leaked !== 0) fails.push(`${leaked} tensors leaked (forward + backward)`);
  return fails;
}

describe('gradcheck: every differentiable op against finite differences of its f64 reference', () => {
  for (const op of Object.keys(GRAD_TESTS) as DifferentiableOp[]) {
    for (const c of GRAD_TESTS[op]) {
      it(`${op} ${c.name}`, async () => {
        expect(await gradcheck(c, seedOf(`${op} ${c.name}`)), `${op} ${c.name}`).toEqual([]);
      });
    }
  }

  it('the checker rejects a wrong backward rule (a square whose rule forgot the 2) and accepts the right one', async () => {
    const square = (rule: (g: Tensor, x: Tensor) => Tensor) => (x: Tensor) =>
      record(
        'square',
        [x],
        noGrad(() => x.square()),
        (g, [xs]) => [rule(g, xs)],
        [x],
      );
    const ref = (x: RefTensor) => R.unary('square', x);
    const wrong = await gradcheck({ name: 'wrong square', inputs: [U([3])], gpu: square((g, x) => g.mul(x)), ref }, 99);
    expect(wrong.length).toBeGreaterThan(0);
    expect(
      wrong.every((f) => f.includes('finite differences')),
      wrong.join('\n'),
    ).toBe(true);
    expect(await gradcheck({ name: 'right square', inputs: [U([3])], gpu: square((g, x) => g.mul(x).mul(2)), ref }, 99)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The registry: no differentiable op without cases, no public op unregistered

describe('op registry', () => {
  it('every differentiable op has gradient cases (walked at run time)', () => {
    const missing = DIFFERENTIABLE_OPS.filter((op) => !(GRAD_TESTS as Record<string, GradCase[]>)[op]?.length);
    expect(missing, `differentiable ops without gradcheck cases: ${missing.join(', ')}`).toEqual([]);
    expect(Object.keys(GRAD_TESTS).sort()).toEqual([...DIFFERENTIABLE_OPS].sort());
  });

  it('the elementwise table agrees with the registry on which ops have a gradient', () => {
    const table = { ...UNARY, ...BINARY } as Record<string, { grad: unknown }>;
    const disagree = Object.keys(table).filter((op) => (table[op].grad !== 'none') !== OPS[op as OpName].differentiable);
    expect(disagree, `registry and elementwise table disagree on: ${disagree.join(', ')}`).toEqual([]);
  });

  it('every function engine/index.ts exports is a registered op or listed in NOT_OPS', () => {
    const classes = new Set<unknown>([Tensor]);
    const exported = Object.entries(Engine).filter(
      ([, v]) => typeof v === 'function' && !classes.has(v) && !(v.prototype instanceof Error) && v !== Error,
    );
    const unknown = exported.map(([k]) => k).filter((k) => !(k in OPS) && !(NOT_OPS as readonly string[]).includes(k));
    expect(unknown, `register these in engine/ops/registry.ts (OPS, or NOT_OPS if they are not ops): ${unknown.join(', ')}`).toEqual([]);
    const stale = Object.keys(OPS).filter((k) => !(k in Engine) && !(k in Tensor.prototype));
    expect(stale, `registered but not exported: ${stale.join(', ')}`).toEqual([]);
  });

  it('every Tensor method is a registered op or a known non-op', () => {
    // Methods that are not ops (lifetimes, readback, autograd) or are aliases of a registered op.
    const nonOps = [
      'constructor',
      'rank',
      'disposed',
      'storageFor',
      'view',
      'dispose',
      'data',
      'array',
      'item',
      'toString',
      'detach',
      'backward',
    ];
    const aliases: Record<string, OpName> = { flatten: 'reshape' };
    const methods = Object.getOwnPropertyNames(Tensor.prototype);
    const unknown = methods.filter((m) => !(m in OPS) && !nonOps.includes(m) && !(m in aliases));
    expect(unknown, `Tensor methods missing from engine/ops/registry.ts: ${unknown.join(', ')}`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The autograd API

const read = async (t: Tensor | null): Promise<number[]> => Array.from(await t!.data());

describe('autograd', () => {
  it('a micrograd-style expression: f = relu(a·b + c)·a, gradients by hand', async () => {
    // a = 3, b = 2, c = −1: u = a·b + c = 5 > 0, f = 5·3 = 15;
    // df/da = relu'(u)·b·a + relu(u) = 2·3 + 5 = 11 (a is used twice: the two paths add), df/db = a·a = 9, df/dc = a = 3.
    const a = tensor(3, [], { requiresGrad: true }),
      b = tensor(2, [], { requiresGrad: true }),
      c = tensor(-1, [], { requiresGrad: true });
    const f = a.mul(b).add(c).relu().mul(a);
    expect(await f.item()).toBe(15);
    f.backward();
    expect([await a.grad!.item(), await b.grad!.item(), await c.grad!.item()]).toEqual([11, 9, 3]);
    // c = −10: u = −4, relu is off: f = 0 and every gradient is 0.
    const a2 = tensor(3, [], { requiresGrad: true }),
      b2 = tensor(2, [], { requiresGrad: true }),
      c2 = tensor(-10, [], { requiresGrad: true });
    const f2 = a2.mul(b2).add(c2).relu().mul(a2);
    f2.backward();
    expect([await f2.item(), await a2.grad!.item(), await b2.grad!.item(), await c2.grad!.item()]).toEqual([0, 0, 0, 0]);
    // A longer one (micrograd's README): g = ((a·b)² + c)/2 − a with a = −4, b = 2, c = 5:
    // (−8)² = 64; g = (64 + 5)/2 + 4 = 38.5; dg/da = a·b²−1 = −17; dg/db = a²·b = 32; dg/dc = 1/2.
    const [x, y, z] = [-4, 2, 5].map((v) => tensor(v, [], { requiresGrad: true }));
    const g = x.mul(y).square().add(z).div(2).sub(x);
    g.backward();
    expect([await g.item(), await x.grad!.item(), await y.grad!.item(), await z.grad!.item()]).toEqual([38.5, -17, 32, 0.5]);
    for (const t of [a, b, c, f, a2, b2, c2, f2, x, y, z, g]) t.dispose();
  });

  it('an input used twice by one op gets both gradients', async () => {
    const x = tensor([1, -2, 3], [3], { requiresGrad: true });
    x.mul(x).sum().backward(); // d/dx Σx² = 2x
    expect(await read(x.grad)).toEqual([2, -4, 6]);
    x.add(x).sum().backward(); // + 2 (add's rule returns the same gradient for both operands)
    expect(await read(x.grad)).toEqual([4, -2, 8]);
    x.dispose();
  });

  it('ties share the gradient evenly (max, min, maximum, minimum), like PyTorch', async () => {
    const x = tensor([1, 3, 3, -1, -1, 0], [2, 3], { requiresGrad: true });
    x.max(1).sum().backward(); // row 0: the two 3s share; row 1: the single 0
    expect(await read(x.grad)).toEqual([0, 0.5, 0.5, 0, 0, 1]);
    x.grad!.dispose();
    x.grad = null;
    x.min().backward(); // the two −1s share
    expect(await read(x.grad)).toEqual([0, 0, 0, 0.5, 0.5, 0]);
    const a = tensor([2, 1, 5], [3], { requiresGrad: true }),
      b = tensor([2, 4, 5], [3], { requiresGrad: true });
    a.maximum(b).sum().backward();
    expect([await read(a.grad), await read(b.grad)]).toEqual([
      [0.5, 0, 0.5],
      [0.5, 1, 0.5],
    ]);
    a.grad!.dispose();
    a.grad = null;
    b.grad!.dispose();
    b.grad = null;
    a.minimum(b).sum().backward();
    expect([await read(a.grad), await read(b.grad)]).toEqual([
      [0.5, 1, 0.5],
      [0.5, 0, 0.5],
    ]);
    for (const t of [x, a, b]) t.dispose();
  });

  it('grad(f) and valueAndGrad(f) return gradients without touching .grad', async () => {
    const x = tensor([1, -2, 3]),
      w = tensor([0.5, 2, -1], [3], { requiresGrad: true });
    const [dx] = grad((t: Tensor) => t.square().sum())(x);
    expect(await read(dx)).toEqual([2, -4, 6]);
    const {
      value,
      grads: [dx2, dw],
    } = valueAndGrad((t: Tensor, u: Tensor) => t.mul(u).sum())(x, w);
    expect(await value.item()).toBe(0.5 - 4 - 3);
    expect(await read(dx2)).toEqual([0.5, 2, -1]);
    expect(await read(dw)).toEqual([1, -2, 3]);
    expect(value.requiresGrad).toBe(false);
    expect(w.grad).toBeNull();
    expect(x.requiresGrad).toBe(false);
    // An argument f does not use gets a zero gradient.
    const [, dz] = grad((t: Tensor, _u: Tensor) => t.sum())(x, w);
    expect(await read(dz)).toEqual([0, 0, 0]);
    for (const t of [x, w, dx, value, dx2, dw, dz]) t.dispose();
  });

  it('noGrad records no graph', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return x.mul(3).exp().sum();
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradNode).toBeNull();
    expect(() => y.backward()).toThrow(EngineError);
    expect(() => y.backward()).toThrow(/has no graph/);
    x.dispose();
    y.dispose();
  });

  it('detach() cuts the graph: d/dx (x · detach(x)) = detach(x)', async () => {
    const x = tensor([1, -2, 3], [3], { requiresGrad: true });
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradNode).toBeNull();
    x.mul(d).sum().backward();
    expect(await read(x.grad)).toEqual([1, -2, 3]); // not 2x
    x.dispose();
    d.dispose();
  });

  it('gradients accumulate into .grad across backward calls', async () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    x.square().sum().backward();
    expect(await read(x.grad)).toEqual([2, 4, 6]);
    x.mul(10).sum().backward();
    expect(await read(x.grad)).toEqual([12, 14, 16]);
    x.dispose();
  });

  it('retainGraph keeps the graph for another backward; without it the graph is freed and a second backward throws', async () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = x.square().mul(x).sum(); // Σx³: dy/dx = 3x²
    backward(y, undefined, { retainGraph: true });
    expect(await read(x.grad)).toEqual([3, 12, 27]);
    backward(y); // frees the graph
    expect(await read(x.grad)).toEqual([6, 24, 54]);
    expect(() => y.backward()).toThrow(/already freed/);
    const z = x.exp().sum();
    z.backward();
    expect(() => z.backward()).toThrow(/already freed/);
    for (const t of [x, y, z]) t.dispose();
  });

  it('a seed gradient backpropagates a non-scalar output; without one it must be scalar', async () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = x.square(); // [3]
    expect(() => y.backward()).toThrow(ShapeError);
    expect(() => y.backward(tensor([1, 1]))).toThrow(/does not match/);
    y.backward(tensor([1, 0.5, -2]));
    expect(await read(x.grad)).toEqual([2, 2, -12]); // 2x ⊙ seed
    x.dispose();
    y.dispose();
  });

  it('refuses to backpropagate through a saved tensor modified in place', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = x.square().sum(); // square saves x
    x.version++; // what an in-place update (an optimizer step) does
    expect(() => y.backward()).toThrow(/modified in place.*version 0 → 1/);
    x.dispose();
    y.dispose();
  });

  it('reductions with keepDims, cast f32 → f32 and scalar softmax stay on the graph', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    for (const y of [
      x.sum(1, true),
      x.mean(0, true),
      x.max(1, true),
      x.min(1, true),
      x.variance(1, true),
      x.cast('f32'),
      x.sum().softmax(),
    ]) {
      expect(y.requiresGrad).toBe(true);
      y.dispose();
    }
    const i = x.cast('i32');
    expect(i.requiresGrad).toBe(false); // integers carry no gradient
    x.dispose();
    i.dispose();
  });
});
