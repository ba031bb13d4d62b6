/**
 * checkpoint(fn, inputs): the same values and gradients as calling fn (bit for bit: the same kernels
 * run on the same values), parameters used by closure get their gradients, nothing leaks, and misuse
 * names what was wrong.
 */
import { describe, it, expect } from 'vitest';
import { randn, scope, checkpoint, noGrad, valueAndGrad, gradients, engine, EngineError, type Tensor } from '../../engine/index.ts';
import { useEngine } from '../gpu/util.ts';

useEngine();

function param(shape: number[], seed: number): Tensor {
  const p = randn(shape, { seed });
  p.requiresGrad = true;
  return p;
}

/** A residual MLP block over x [4, 8] that uses w1 and w2 by closure. */
function mlpBlock(w1: Tensor, w2: Tensor) {
  return (x: Tensor) => x.matmul(w1).gelu().matmul(w2).add(x).layerNorm(null, null);
}

async function gradsOf(ps: Tensor[]): Promise<Float32Array[]> {
  return Promise.all(ps.map(async (p) => (await p.grad!.data()) as Float32Array));
}

describe('checkpoint', () => {
  it('gives the values and gradients of the direct call, bit for bit, through two stacked blocks', async () => {
    const w1 = param([8, 16], 1),
      w2 = param([16, 8], 2),
      x0 = param([4, 8], 3);
    const run = async (ck: boolean) => {
      const f = mlpBlock(w1, w2);
      const step = (x: Tensor) => (ck ? checkpoint(f, [x]) : f(x));
      const loss = scope(() => step(step(x0)).square().sum());
      const value = await loss.data();
      loss.backward();
      loss.dispose();
      const grads = await gradsOf([w1, w2, x0]);
      for (const p of [w1, w2, x0]) {
        p.grad!.dispose();
        p.grad = null;
      }
      return { value, grads };
    };
    const plain = await run(false),
      ck = await run(true);
    expect(ck.value).toEqual(plain.value);
    ck.grads.forEach((g, i) => expect(g, ['w1', 'w2', 'x0'][i]).toEqual(plain.grads[i]));
    expect(plain.grads[0].some((v) => v !== 0)).toBe(true);
    for (const t of [w1, w2, x0]) t.dispose();
  });

  it('hands captured parameters to gradients() and valueAndGrad like explicit inputs', async () => {
    const w1 = param([8, 16], 4),
      w2 = param([16, 8], 5);
    const x = randn([4, 8], { seed: 6 });
    const f = (w: Tensor, ck: boolean) => {
      const block = mlpBlock(w, w2);
      return (ck ? checkpoint(block, [x]) : block(x)).sum();
    };
    const a = valueAndGrad((w: Tensor) => f(w, false))(w1);
    const b = valueAndGrad((w: Tensor) => f(w, true))(w1);
    expect(await b.grads[0].data()).toEqual(await a.grads[0].data());
    expect(w2.grad, 'w2 is not an argument: valueAndGrad leaves its .grad alone').toBeNull();
    for (const t of [a.value, b.value, a.grads[0], b.grads[0], w1, w2, x]) t.dispose();
  });

  it('frees the recomputed intermediates: no tensor or byte left after backward (and forward keeps one block)', async () => {
    const w1 = param([8, 16], 7),
      w2 = param([16, 8], 8),
      x0 = param([4, 8], 9);
    const f = mlpBlock(w1, w2);
    const once = () => {
      const loss = scope(() => checkpoint(f, [checkpoint(f, [x0])]).sum());
      loss.backward();
      loss.dispose();
      for (const p of [w1, w2, x0]) {
        p.grad!.dispose();
        p.grad = null;
      }
    };
    once();
    await engine().flush();
    const before = engine().memory();
    for (let k = 0; k < 5; k++) once();
    await engine().flush();
    const after = engine().memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.liveBytes).toBe(before.liveBytes);
    for (const t of [w1, w2, x0]) t.dispose();
  });

  it('can backpropagate twice with retainGraph (it recomputes each time)', async () => {
    const w1 = param([8, 16], 10),
      w2 = param([16, 8], 11),
      x0 = param([4, 8], 12);
    const loss = scope(() => checkpoint(mlpBlock(w1, w2), [x0]).sum());
    const g1 = gradients(loss, undefined, { retainGraph: true }),
      g2 = gradients(loss);
    const want = valueAndGrad((w: Tensor) => mlpBlock(w, w2)(x0).sum())(w1);
    expect(await g1.get(w1)!.data()).toEqual(await want.grads[0].data());
    expect(await g2.get(w1)!.data()).toEqual(await want.grads[0].data());
    expect(() => gradients(loss)).toThrow(/already freed/);
    for (const m of [g1, g2]) for (const g of m.values()) g.dispose();
    for (const t of [loss, want.value, want.grads[0], w1, w2, x0]) t.dispose();
  });

  it('is a plain call without recording, and needs nothing when nothing requires a gradient', async () => {
    const x = randn([4, 8], { seed: 13 }),
      w1 = randn([8, 16], { seed: 14 }),
      w2 = randn([16, 8], { seed: 15 });
    const y = noGrad(() => checkpoint(mlpBlock(w1, w2), [x]));
    expect(y.gradNode).toBeNull();
    const z = checkpoint(mlpBlock(w1, w2), [x]);
    expect(z.requiresGrad).toBe(false);
    expect(await z.data()).toEqual(await y.data());
    for (const t of [x, w1, w2, y, z]) t.dispose();
  });

  it('refuses a tensor with a graph used by closure, a new leaf inside, and no inputs', () => {
    const w = param([8, 8], 16),
      x = randn([4, 8], { seed: 17 });
    const h = x.matmul(w); // has a graph
    const base = engine().memory().tensors;
    expect(() => checkpoint((xi) => xi.add(h), [x])).toThrow(
      /checkpoint: fn uses tensor #\d+ \[4,8\], computed outside it with a graph \('matmul'\), by closure; pass it in `inputs`/,
    );
    expect(() =>
      checkpoint(
        (xi) => {
          const p = randn([4, 8]);
          p.requiresGrad = true;
          return xi.add(p);
        },
        [x],
      ),
    ).toThrow(/a new leaf/);
    expect(() => checkpoint(() => w.sum(), [])).toThrow(EngineError);
    expect(engine().memory().tensors, 'a refused call frees what it made').toBe(base);
    h.dispose();
    for (const t of [w, x]) t.dispose();
  });
});
