/**
 * The op registry: every public op of the engine, and whether gradients flow through it.
 *
 * ADDING AN OP? Register it here, in the same change (e.g. `attention`, the box ops):
 *   - `myOp: { differentiable: true }` when it records a backward rule. `DifferentiableOp` then
 *     includes 'myOp', and test/gpu/gradcheck.test.ts does not compile until GRAD_TESTS has finite-
 *     difference cases for it.
 *   - `myOp: { differentiable: false, why: '…' }` otherwise, saying why no gradient exists.
 * The gradcheck test also fails at run time when a function exported from engine/index.ts (or a
 * Tensor method) is neither registered here nor listed in NOT_OPS below.
 */
import type { UnaryOp, BinaryOp } from './elementwise.table.ts';

export type OpEntry = { readonly differentiable: true } | { readonly differentiable: false; readonly why: string };

/** Every op name: the elementwise table's ops (so a new table row must be registered) and the rest. */
export type OpName =
  | UnaryOp | BinaryOp | 'where' | 'cast'
  | 'sum' | 'mean' | 'max' | 'min' | 'variance' | 'argmax' | 'argmin' | 'sumToShape'
  | 'softmax' | 'logSoftmax'
  | 'reshape' | 'permute' | 'transpose' | 'slice' | 'concat' | 'pad' | 'broadcastTo' | 'squeeze' | 'expandDims' | 'clone'
  | 'gather' | 'scatterAdd' | 'matmul' | 'layerNorm' | 'attention'
  | 'boxCxcywhToXyxy' | 'boxXyxyToCxcywh' | 'boxIou' | 'generalizedBoxIou' | 'elementwiseIou' | 'elementwiseGiou'
  | 'crossEntropy'
  | 'tensor' | 'zeros' | 'ones' | 'full' | 'zerosLike' | 'onesLike' | 'arange' | 'rand' | 'randn' | 'randomBits';

const CONSTANT = 'creates a tensor from constants: it has no tensor input to differentiate';
const PIECEWISE = 'piecewise constant (a 0/1 mask): its derivative is zero almost everywhere';
const INDICES = 'returns integer indices, which carry no gradient';

export const OPS = {
  // Elementwise, unary (engine/ops/elementwise.table.ts)
  neg: { differentiable: true },
  abs: { differentiable: true },
  sign: { differentiable: false, why: 'piecewise constant (−1/0/1): its derivative is zero almost everywhere' },
  exp: { differentiable: true },
  log: { differentiable: true },
  sqrt: { differentiable: true },
  rsqrt: { differentiable: true },
  square: { differentiable: true },
  relu: { differentiable: true },
  sigmoid: { differentiable: true },
  tanh: { differentiable: true },
  gelu: { differentiable: true },
  geluGrad: { differentiable: false, why: "GELU's derivative, used inside gelu's backward; second derivatives are not supported" },
  // Elementwise, binary, with broadcasting (gradients summed back to each operand's shape)
  add: { differentiable: true },
  sub: { differentiable: true },
  mul: { differentiable: true },
  div: { differentiable: true },
  pow: { differentiable: true },
  maximum: { differentiable: true },
  minimum: { differentiable: true },
  eq: { differentiable: false, why: PIECEWISE },
  ne: { differentiable: false, why: PIECEWISE },
  lt: { differentiable: false, why: PIECEWISE },
  le: { differentiable: false, why: PIECEWISE },
  gt: { differentiable: false, why: PIECEWISE },
  ge: { differentiable: false, why: PIECEWISE },
  where: { differentiable: true }, // to a and b; cond is a mask
  cast: { differentiable: true }, // f32 → f32 (the identity) and f32 ↔ f16 (straight through, f32 gradients); integer results cannot require gradients
  // Reductions (engine/ops/reduce.ts)
  sum: { differentiable: true },
  mean: { differentiable: true },
  max: { differentiable: true },
  min: { differentiable: true },
  variance: { differentiable: true },
  argmax: { differentiable: false, why: INDICES },
  argmin: { differentiable: false, why: INDICES },
  sumToShape: { differentiable: false, why: 'the adjoint of broadcasting, used by backward rules; it runs under noGrad (use sum(x, axes) in differentiable code)' },
  softmax: { differentiable: true },
  logSoftmax: { differentiable: true },
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
  matmul: { differentiable: true },
  layerNorm: { differentiable: true }, // to x, weight and bias
  attention: { differentiable: true }, // to q, k and v (engine/ops/attention.ts)
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
} as const satisfies { readonly [K in OpName]: OpEntry };

/** The ops that record a backward rule: each must have gradient checks in test/gpu/gradcheck.test.ts. */
export type DifferentiableOp = { [K in OpName]: (typeof OPS)[K] extends { differentiable: true } ? K : never }[OpName];

/** The differentiable op names, at run time. */
export const DIFFERENTIABLE_OPS = (Object.keys(OPS) as OpName[]).filter((k) => OPS[k].differentiable) as DifferentiableOp[];

/** Functions exported by engine/index.ts that are not ops (no tensor result): the API around them. */
export const NOT_OPS = [
  'init', 'engine', 'chooseAttentionVariant', 'describeAdapterOf', 'scope', 'keep', 'setSeed', 'fmtShape', 'setValidation', 'validationEnabled',
  'noGrad', 'isGradEnabled', 'backward', 'grad', 'valueAndGrad', 'gradients',
] as const;
