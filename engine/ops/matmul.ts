/**
 * Batched matrix product with NumPy matmul semantics (1-D operands, broadcast batch dimensions),
 * either operand transposed without a copy.
 */
import { Tensor } from '../tensor.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { broadcastShapes, broadcastStrides, collapseDims, sizeOf } from '../shape.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { matmulKernel } from '../kernels/wgsl/matmul.wgsl.ts';
import { buf, checkTensor, checkFloat } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';
import { sumToShape } from './reduce.ts';
import { reshape } from './movement.ts';

export interface MatmulOptions {
  /** Use Aᵀ: `a` is [..., K, M]. */
  transposeA?: boolean;
  /** Use Bᵀ: `b` is [..., N, K]. */
  transposeB?: boolean;
}

/**
 * `a @ b`. a: [..., M, K] (or [..., K, M] with transposeA), b: [..., K, N] (or [..., N, K]).
 * @example a.matmul(w, { transposeB: true }) // x·Wᵀ with W stored [out, in]
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkTensor('matmul', a, 'a');
  checkTensor('matmul', b, 'b');
  checkFloat('matmul', a, 'a');
  checkFloat('matmul', b, 'b');
  if (a.rank === 0 || b.rank === 0) throw new ShapeError(`matmul: operands must have rank ≥ 1, got a=${fmtShape(a.shape)} b=${fmtShape(b.shape)}`);
  if (a.rank === 1 || b.rank === 1) {
    // NumPy: a 1-D a is a row [1, K], a 1-D b a column [K, 1]; the added axis is removed after.
    const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
    const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
    const o = opts.transposeA && a.rank === 1 ? { ...opts, transposeA: false } : opts.transposeB && b.rank === 1 ? { ...opts, transposeB: false } : opts;
    const c = matmul2(a2, b2, o);
    const shape = [...c.shape];
    if (b.rank === 1) shape.splice(shape.length - 1, 1);
    if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
    const out = reshape(c, shape);
    for (const t of [a2, b2, c]) if (t !== a && t !== b) t.dispose();
    return out;
  }
  return matmul2(a, b, opts);
}

function matmul2(a: Tensor, b: Tensor, opts: MatmulOptions): Tensor {
  const tA = !!opts.transposeA, tB = !!opts.transposeB;
  const [M, Ka] = tA ? [a.shape[a.rank - 1], a.shape[a.rank - 2]] : [a.shape[a.rank - 2], a.shape[a.rank - 1]];
  const [Kb, N] = tB ? [b.shape[b.rank - 1], b.shape[b.rank - 2]] : [b.shape[b.rank - 2], b.shape[b.rank - 1]];
  if (Ka !== Kb) {
    throw new ShapeError(`matmul: inner dimensions differ: a=${fmtShape(a.shape)}${tA ? 'ᵀ' : ''} b=${fmtShape(b.shape)}${tB ? 'ᵀ' : ''} (${Ka} vs ${Kb})`);
  }
  const K = Ka;
  const batch = broadcastShapes('matmul (batch dimensions)', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = Tensor.empty([...batch, M, N], 'f32', 'matmul');
  const nb = sizeOf(batch);
  if (out.size > 0) {
    const c = collapseDims(batch, [broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * M * K), broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * K * N)]);
    if (c.shape.length > 4) throw new ShapeError(`matmul: more than 4 independent batch dimensions in ${fmtShape(batch)}`);
    const pad = (v: number[], fill: number) => [...new Array(4 - v.length).fill(fill), ...v];
    if (nb > 65535) throw new ShapeError(`matmul: ${nb} batches exceed 65535`);
    const p = new Params().u32(M, N, K, nb, tA ? 1 : K, tA ? M : 1, tB ? 1 : N, tB ? K : 1)
      .vec4Array(pad(c.shape, 1)).vec4Array(pad(c.strides[0], 0)).vec4Array(pad(c.strides[1], 0));
    rt().dispatch(matmulKernel(), p.bytes(), [buf('matmul', a), buf('matmul', b), buf('matmul', out)], [Math.ceil(N / 32), Math.ceil(M / 32), nb]);
  }
  if (needsGrad(a, b)) {
    record('matmul', [a, b], out, (g, [sa, sb]) => {
      // C = op(A)·op(B): d op(A) = G·op(B)ᵀ, d op(B) = op(A)ᵀ·G, transposed back where the operand was.
      const ga = tA ? matmul(sb, g, { transposeA: tB, transposeB: true }) : matmul(g, sb, { transposeB: !tB });
      const gb = tB ? matmul(g, sa, { transposeA: true, transposeB: tA }) : matmul(sa, g, { transposeA: !tA });
      return [sumToShape(ga, sa.shape), sumToShape(gb, sb.shape)];
    }, [a, b]);
  }
  return out;
}
