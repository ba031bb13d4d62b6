/** CPU reference of every op, over Float64Array (see ref.ts). Mirrors the GPU ops' semantics. */
import { UNARY, BINARY, type UnaryOp, type BinaryOp } from '../ops/elementwise.table.ts';
import { normAxes, normAxis, sizeOf, stridesOf, broadcastStrides } from '../shape.ts';
import { forEachBroadcast, unravel, ravel, type RefTensor } from './ref.ts';

export function unary(op: UnaryOp, x: RefTensor): RefTensor {
  return { shape: [...x.shape], data: x.data.map(UNARY[op].ref) };
}

export function binary(op: BinaryOp, a: RefTensor, b: RefTensor): RefTensor {
  const f = BINARY[op].ref;
  const out: number[] = [];
  const shape = forEachBroadcast(op, [a.shape, b.shape], (o, [ia, ib]) => (out[o] = f(a.data[ia], b.data[ib])));
  return { shape, data: Float64Array.from(out) };
}

export function where(c: RefTensor, a: RefTensor, b: RefTensor): RefTensor {
  const out: number[] = [];
  const shape = forEachBroadcast(
    'where',
    [c.shape, a.shape, b.shape],
    (o, [ic, ia, ib]) => (out[o] = c.data[ic] !== 0 ? a.data[ia] : b.data[ib]),
  );
  return { shape, data: Float64Array.from(out) };
}

export type RefReduce = 'sum' | 'mean' | 'max' | 'min' | 'variance' | 'argmax' | 'argmin';

/** Reduction over `axis` (all when undefined); argmax/argmin take a single axis or the flat tensor. */
export function reduce(kind: RefReduce, x: RefTensor, axis?: number | number[], keepDims = false, correction = 0): RefTensor {
  if ((kind === 'argmax' || kind === 'argmin') && axis === undefined) x = { shape: [x.data.length], data: x.data };
  const axes =
    kind === 'argmax' || kind === 'argmin' ? [normAxis(kind, (axis as number) ?? 0, x.shape.length)] : normAxes(kind, axis, x.shape.length);
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  for (let i = 0; i < x.data.length; i++) {
    const c = unravel(i, x.shape);
    const o = ravel(
      c.map((v, d) => (axes.includes(d) ? 0 : v)),
      keptShape,
    );
    if (!groups.has(o)) groups.set(o, []);
    groups.get(o)!.push(x.data[i]);
  }
  const n = sizeOf(keptShape);
  const out = new Float64Array(n);
  for (let o = 0; o < n; o++) {
    const v = groups.get(o) ?? [];
    const s = v.reduce((a, b) => a + b, 0);
    const m = s / v.length;
    switch (kind) {
      case 'sum':
        out[o] = s;
        break;
      case 'mean':
        out[o] = m;
        break;
      case 'max':
        out[o] = v.some(Number.isNaN) ? NaN : v.reduce((a, b) => Math.max(a, b), -Infinity);
        break;
      case 'min':
        out[o] = v.some(Number.isNaN) ? NaN : v.reduce((a, b) => Math.min(a, b), Infinity);
        break;
      case 'variance':
        out[o] = v.reduce((a, b) => a + (b - m) * (b - m), 0) / Math.max(v.length - correction, 0);
        break;
      case 'argmax':
      case 'argmin': {
        let best = 0;
        for (let j = 1; j < v.length; j++) {
          if (Number.isNaN(v[best])) break;
          if (Number.isNaN(v[j]) || (kind === 'argmax' ? v[j] > v[best] : v[j] < v[best])) best = j;
        }
        out[o] = best;
      }
    }
  }
  const shape = keepDims ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  return { shape, data: out };
}

/** Σ|x| per reduced group: scales the f32 error bound of sums. */
export function absSum(x: RefTensor, axis?: number | number[]): RefTensor {
  return reduce('sum', { shape: x.shape, data: x.data.map(Math.abs) }, axis);
}

export function softmax(x: RefTensor, axis = -1, log = false): RefTensor {
  const a = normAxis('softmax', axis, x.shape.length);
  const out = new Float64Array(x.data.length);
  const st = stridesOf(x.shape);
  const len = x.shape[a];
  for (let i = 0; i < x.data.length; i++) {
    const c = unravel(i, x.shape);
    if (c[a] !== 0) continue;
    const idx = Array.from({ length: len }, (_, j) => i + j * st[a]);
    const m = Math.max(...idx.map((k) => x.data[k]));
    const s = idx.reduce((acc, k) => acc + Math.exp(x.data[k] - m), 0);
    for (const k of idx) out[k] = log ? x.data[k] - m - Math.log(s) : Math.exp(x.data[k] - m) / s;
  }
  return { shape: [...x.shape], data: out };
}

export function permute(x: RefTensor, axes: number[]): RefTensor {
  const shape = axes.map((a) => x.shape[a]);
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < out.length; o++) {
    const c = unravel(o, shape);
    const src = new Array<number>(x.shape.length);
    axes.forEach((a, i) => (src[a] = c[i]));
    out[o] = x.data[ravel(src, x.shape)];
  }
  return { shape, data: out };
}

export function slice(x: RefTensor, begin: number[], end?: number[], step?: number[]): RefTensor {
  const starts: number[] = [],
    sizes: number[] = [],
    steps: number[] = [];
  x.shape.forEach((n, d) => {
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const b = clamp(begin[d] ?? 0),
      e = clamp(end?.[d] ?? n),
      s = step?.[d] ?? 1;
    starts.push(b);
    steps.push(s);
    sizes.push(Math.max(0, Math.ceil((e - b) / s)));
  });
  const out = new Float64Array(sizeOf(sizes));
  for (let o = 0; o < out.length; o++) {
    const c = unravel(o, sizes);
    out[o] =
      x.data[
        ravel(
          c.map((v, d) => starts[d] + v * steps[d]),
          x.shape,
        )
      ];
  }
  return { shape: sizes, data: out };
}

export function concat(xs: RefTensor[], axis = 0): RefTensor {
  const a = normAxis('concat', axis, xs[0].shape.length);
  const shape = [...xs[0].shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a], 0);
  const out = new Float64Array(sizeOf(shape));
  let pos = 0;
  for (const x of xs) {
    for (let i = 0; i < x.data.length; i++) {
      const c = unravel(i, x.shape);
      c[a] += pos;
      out[ravel(c, shape)] = x.data[i];
    }
    pos += x.shape[a];
  }
  return { shape, data: out };
}

export function pad(x: RefTensor, padding: [number, number][], value = 0): RefTensor {
  const shape = x.shape.map((d, i) => d + padding[i][0] + padding[i][1]);
  const out = new Float64Array(sizeOf(shape)).fill(value);
  for (let i = 0; i < x.data.length; i++)
    out[
      ravel(
        unravel(i, x.shape).map((v, d) => v + padding[d][0]),
        shape,
      )
    ] = x.data[i];
  return { shape, data: out };
}

export function broadcastTo(x: RefTensor, shape: number[]): RefTensor {
  const st = broadcastStrides(x.shape, shape);
  const out = new Float64Array(sizeOf(shape));
  for (let o = 0; o < out.length; o++) out[o] = x.data[unravel(o, shape).reduce((a, c, d) => a + c * st[d], 0)];
  return { shape: [...shape], data: out };
}

export function gather(x: RefTensor, indices: RefTensor, axis = 0): RefTensor {
  const a = normAxis('gather', axis, x.shape.length);
  const outer = sizeOf(x.shape.slice(0, a)),
    d = x.shape[a],
    inner = sizeOf(x.shape.slice(a + 1));
  const J = indices.data.length;
  const out = new Float64Array(outer * J * inner);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < J; j++)
      for (let i = 0; i < inner; i++) {
        let k = indices.data[j];
        if (k < 0) k += d;
        out[(o * J + j) * inner + i] = x.data[(o * d + k) * inner + i];
      }
  return { shape: [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)], data: out };
}

export function scatterAdd(src: RefTensor, indices: RefTensor, axis: number, size: number): RefTensor {
  const a = normAxis('scatterAdd', axis, src.shape.length);
  const outer = sizeOf(src.shape.slice(0, a)),
    J = src.shape[a],
    inner = sizeOf(src.shape.slice(a + 1));
  const out = new Float64Array(outer * size * inner);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < J; j++)
      for (let i = 0; i < inner; i++) {
        let k = indices.data[j];
        if (k < 0) k += size;
        out[(o * size + k) * inner + i] += src.data[(o * J + j) * inner + i];
      }
  return { shape: [...src.shape.slice(0, a), size, ...src.shape.slice(a + 1)], data: out };
}

/**
 * NumPy matmul with optional transposes; also returns Σ_k |a_ik·b_kj| per output, the scale of the
 * f32 rounding error bound used by the kernel tests.
 */
export function matmul(a: RefTensor, b: RefTensor, tA = false, tB = false): RefTensor & { absProd: Float64Array } {
  let A = a,
    B = b;
  if (A.shape.length === 1) A = { shape: [1, A.shape[0]], data: A.data };
  if (B.shape.length === 1) B = { shape: [B.shape[0], 1], data: B.data };
  const ra = A.shape.length,
    rb = B.shape.length;
  const [M, K] = tA ? [A.shape[ra - 1], A.shape[ra - 2]] : [A.shape[ra - 2], A.shape[ra - 1]];
  const N = tB ? B.shape[rb - 2] : B.shape[rb - 1];
  const batchShape: number[] = [];
  const out: number[] = [],
    absProd: number[] = [];
  const sA = stridesOf(A.shape),
    sB = stridesOf(B.shape);
  const bs = forEachBroadcast('matmul', [A.shape.slice(0, -2), B.shape.slice(0, -2)], () => {});
  batchShape.push(...bs);
  const stA = broadcastStrides(A.shape.slice(0, -2), bs),
    stB = broadcastStrides(B.shape.slice(0, -2), bs);
  for (let bi = 0; bi < sizeOf(bs); bi++) {
    const c = unravel(bi, bs);
    const offA = c.reduce((s, v, d) => s + v * stA[d], 0) * M * K;
    const offB = c.reduce((s, v, d) => s + v * stB[d], 0) * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0,
          s2 = 0;
        for (let k = 0; k < K; k++) {
          const av = A.data[offA + (tA ? k * sA[ra - 2] + i : i * sA[ra - 2] + k)];
          const bv = B.data[offB + (tB ? j * sB[rb - 2] + k : k * sB[rb - 2] + j)];
          s += av * bv;
          s2 += Math.abs(av * bv);
        }
        out.push(s);
        absProd.push(s2);
      }
  }
  const shape = [...batchShape, M, N];
  if (b.shape.length === 1) shape.splice(shape.length - 1, 1);
  if (a.shape.length === 1) shape.splice(shape.length - (b.shape.length === 1 ? 1 : 2), 1);
  return { shape, data: Float64Array.from(out), absProd: Float64Array.from(absProd) };
}

export function layerNorm(x: RefTensor, w: RefTensor | null, b: RefTensor | null, eps: number): RefTensor {
  const d = x.shape[x.shape.length - 1];
  const out = new Float64Array(x.data.length);
  for (let r = 0; r * d < x.data.length; r++) {
    const row = x.data.subarray(r * d, (r + 1) * d);
    const m = row.reduce((a, v) => a + v, 0) / d;
    const v = row.reduce((a, x2) => a + (x2 - m) * (x2 - m), 0) / d;
    const rstd = 1 / Math.sqrt(v + eps);
    for (let j = 0; j < d; j++) out[r * d + j] = (row[j] - m) * rstd * (w ? w.data[j] : 1) + (b ? b.data[j] : 0);
  }
  return { shape: [...x.shape], data: out };
}

/**
 * Gradients of Σ g ⊙ layerNorm(x, w, b): dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) with ĝ = g ⊙ w,
 * dw = Σ_rows g ⊙ x̂, db = Σ_rows g (w null: ĝ = g, and dw, db are empty).
 */
export function layerNormBackward(
  x: RefTensor,
  w: RefTensor | null,
  g: RefTensor,
  eps: number,
): { dx: RefTensor; dw: RefTensor; db: RefTensor } {
  const d = x.shape[x.shape.length - 1];
  const dx = new Float64Array(x.data.length),
    dw = new Float64Array(w ? d : 0),
    db = new Float64Array(w ? d : 0);
  for (let r = 0; r * d < x.data.length; r++) {
    const row = x.data.subarray(r * d, (r + 1) * d),
      gr = g.data.subarray(r * d, (r + 1) * d);
    const m = row.reduce((a, v) => a + v, 0) / d;
    const rstd = 1 / Math.sqrt(row.reduce((a, v) => a + (v - m) * (v - m), 0) / d + eps);
    const xh = row.map((v) => (v - m) * rstd),
      gh = gr.map((v, j) => v * (w ? w.data[j] : 1));
    const meanG = gh.reduce((a, v) => a + v, 0) / d,
      meanGX = gh.reduce((a, v, j) => a + v * xh[j], 0) / d;
    for (let j = 0; j < d; j++) {
      dx[r * d + j] = rstd * (gh[j] - meanG - xh[j] * meanGX);
      if (w) {
        dw[j] += gr[j] * xh[j];
        db[j] += gr[j];
      }
    }
  }
  return { dx: { shape: [...x.shape], data: dx }, dw: { shape: [dw.length], data: dw }, db: { shape: [db.length], data: db } };
}
