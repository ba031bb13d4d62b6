/**
 * The elementwise ops in one table: WGSL body, CPU reference (f64) and backward rule side by side.
 * Unary bodies see `x`; binary bodies see `a`, `b`. `float` ops accept f32 only; the others also i32/u32.
 */
import type { Tensor } from '../tensor.ts';

export interface UnaryDef {
  wgsl: string;
  ref: (x: number) => number;
  /** dL/dx from (x, y = f(x), dL/dy); 'none' for non-differentiable ops. */
  grad: ((x: Tensor, y: Tensor, g: Tensor) => Tensor) | 'none';
  floatOnly: boolean;
}

const erf = (x: number): number => {
  // Abramowitz–Stegun 7.1.26 is too coarse for an oracle; use the series / continued fraction in f64.
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = x,
      term = x,
      k = 0;
    while (Math.abs(term) > 1e-17 * Math.abs(sum)) {
      k++;
      term *= (-x * x) / k;
      sum += term / (2 * k + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz) for |x| >= 3
  let f = ax,
    c = ax,
    d = 0;
  for (let k = 1; k < 200; k++) {
    const an = k / 2;
    d = ax + an * d;
    d = 1 / d;
    c = ax + an / c;
    f *= c * d;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
};
export const refErf = erf;
const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export type UnaryOp =
  | 'neg'
  | 'abs'
  | 'sign'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'square'
  | 'relu'
  | 'sigmoid'
  | 'tanh'
  | 'gelu'
  | 'geluGrad';

export const UNARY: Record<UnaryOp, UnaryDef> = {
  neg: { wgsl: '-x', ref: (x) => -x, grad: (_x, _y, g) => g.neg(), floatOnly: false },
  abs: { wgsl: 'abs(x)', ref: Math.abs, grad: (x, _y, g) => g.mul(x.sign()), floatOnly: false },
  sign: { wgsl: 'sign(x)', ref: Math.sign, grad: 'none', floatOnly: false },
  exp: { wgsl: 'exp(x)', ref: Math.exp, grad: (_x, y, g) => g.mul(y), floatOnly: true },
  log: { wgsl: 'log(x)', ref: Math.log, grad: (x, _y, g) => g.div(x), floatOnly: true },
  sqrt: { wgsl: 'sqrt(x)', ref: Math.sqrt, grad: (_x, y, g) => g.div(y.mul(2)), floatOnly: true },
  rsqrt: { wgsl: '1.0 / sqrt(x)', ref: (x) => 1 / Math.sqrt(x), grad: (x, y, g) => g.mul(y).div(x).mul(-0.5), floatOnly: true },
  square: { wgsl: 'x * x', ref: (x) => x * x, grad: (x, _y, g) => g.mul(x).mul(2), floatOnly: false },
  relu: {
    wgsl: 'select(0.0, x, !(x <= 0.0))',
    ref: (x) => (x > 0 || Number.isNaN(x) ? x : 0),
    grad: (x, _y, g) => g.mul(x.gt(0)),
    floatOnly: true,
  },
  sigmoid: { wgsl: 'sigmoid_f(x)', ref: sigmoid, grad: (_x, y, g) => g.mul(y).mul(y.neg().add(1)), floatOnly: true },
  tanh: { wgsl: 'tanh_f(x)', ref: Math.tanh, grad: (_x, y, g) => g.mul(y.square().neg().add(1)), floatOnly: true },
  gelu: { wgsl: 'gelu_f(x)', ref: gelu, grad: (x, _y, g) => g.mul(x.geluGrad()), floatOnly: true },
  /** GELU's derivative Φ(x) + x·φ(x) (used by gelu's backward). */
  geluGrad: {
    wgsl: 'gelu_grad_f(x)',
    ref: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
    grad: 'none',
    floatOnly: true,
  },
};

export interface BinaryDef {
  wgsl: string;
  /** Body for integer dtypes when it differs (e.g. no NaN handling). */
  wgslInt?: string;
  ref: (a: number, b: number) => number;
  /** [dL/da, dL/db] before summing back to the input shapes; 'none' for comparisons. */
  grad: ((a: Tensor, b: Tensor, y: Tensor, g: Tensor) => [Tensor | null, Tensor | null]) | 'none';
  floatOnly: boolean;
  /** Result is an f32 mask of 0/1 (comparisons). */
  compare?: boolean;
}

const cmp = (f: (a: number, b: number) => boolean) => (a: number, b: number) => (f(a, b) ? 1 : 0);
const nanMax = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
const nanMin = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

export const BINARY: Record<BinaryOp, BinaryDef> = {
  add: { wgsl: 'a + b', ref: (a, b) => a + b, grad: (_a, _b, _y, g) => [g, g], floatOnly: false },
  sub: { wgsl: 'a - b', ref: (a, b) => a - b, grad: (_a, _b, _y, g) => [g, g.neg()], floatOnly: false },
  mul: { wgsl: 'a * b', ref: (a, b) => a * b, grad: (a, b, _y, g) => [g.mul(b), g.mul(a)], floatOnly: false },
  div: {
    wgsl: 'a / b',
    wgslInt: 'select(a / b, 0, b == 0)',
    ref: (a, b) => a / b,
    grad: (_a, b, y, g) => [g.div(b), g.mul(y).div(b).neg()],
    floatOnly: false,
  },
  pow: {
    wgsl: 'pow_f(a, b)',
    ref: (a, b) => Math.pow(a, b),
    // d/da = b·a^(b−1) = b·y/a (a ≠ 0); d/db = y·ln a
    grad: (a, b, y, g) => [g.mul(b).mul(a.pow(b.sub(1))), g.mul(y).mul(a.log())],
    floatOnly: true,
  },
  maximum: {
    wgsl: 'max_f(a, b)',
    wgslInt: 'max(a, b)',
    ref: nanMax,
    floatOnly: false,
    // ties split the gradient evenly, as PyTorch does
    grad: (a, b, _y, g) => {
      const w = a.gt(b).add(a.eq(b).mul(0.5));
      return [g.mul(w), g.mul(w.neg().add(1))];
    },
  },
  minimum: {
    wgsl: 'min_f(a, b)',
    wgslInt: 'min(a, b)',
    ref: nanMin,
    floatOnly: false,
    grad: (a, b, _y, g) => {
      const w = a.lt(b).add(a.eq(b).mul(0.5));
      return [g.mul(w), g.mul(w.neg().add(1))];
    },
  },
  eq: { wgsl: 'select(0.0, 1.0, a == b)', ref: cmp((a, b) => a === b), grad: 'none', floatOnly: false, compare: true },
  ne: { wgsl: 'select(0.0, 1.0, a != b)', ref: cmp((a, b) => a !== b), grad: 'none', floatOnly: false, compare: true },
  lt: { wgsl: 'select(0.0, 1.0, a < b)', ref: cmp((a, b) => a < b), grad: 'none', floatOnly: false, compare: true },
  le: { wgsl: 'select(0.0, 1.0, a <= b)', ref: cmp((a, b) => a <= b), grad: 'none', floatOnly: false, compare: true },
  gt: { wgsl: 'select(0.0, 1.0, a > b)', ref: cmp((a, b) => a > b), grad: 'none', floatOnly: false, compare: true },
  ge: { wgsl: 'select(0.0, 1.0, a >= b)', ref: cmp((a, b) => a >= b), grad: 'none', floatOnly: false, compare: true },
};
