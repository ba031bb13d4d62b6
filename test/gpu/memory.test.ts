/** No leaks, scopes, and command batching (a submit per readback, not per op). */
import { describe, it, expect } from 'vitest';
import { tensor, zeros, randn, scope, keep, engine, noGrad } from '../../engine/index.ts';
import { BufferPool } from '../../engine/pool.ts';
import { savedTensorCount } from '../../engine/autograd/node.ts';
import { Yolos, presets } from '../../yolos/index.ts';
import { useEngine } from './util.ts';

useEngine();

describe('memory', () => {
  it('is flat over 1 000 create–compute–dispose iterations', async () => {
    const run = (k: number) => {
      const a = randn([64, 33], { seed: k });
      const m = a.mul(2);
      const s = m.add(1);
      const b = s.relu();
      const c = b.sum(1);
      for (const t of [a, m, s, b, c]) t.dispose();
    };
    for (let k = 0; k < 10; k++) run(k);
    await engine().flush();
    const before = engine().memory();
    for (let k = 0; k < 1000; k++) run(k);
    await engine().flush();
    const after = engine().memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.pooledBytes).toBe(before.pooledBytes);
  });

  it('scope frees intermediates and keeps what is returned (nested, arrays, objects)', async () => {
    const base = engine().memory().tensors;
    const x = zeros([4]);
    const { y, list } = scope(() => {
      const t1 = x.add(1);
      const t2 = t1.mul(3);
      const inner = scope(() => t2.add(1).sub(2));
      return { y: inner, list: [t2.exp(), 5] };
    });
    expect(engine().memory().tensors).toBe(base + 3); // x, y, list[0]
    expect(Array.from(await y.data())).toEqual([2, 2, 2, 2]);
    let kept = null as ReturnType<typeof zeros> | null;
    scope(() => {
      kept = keep(x.add(7));
      x.add(8);
    });
    expect(engine().memory().tensors).toBe(base + 4);
    expect(Array.from(await kept!.data())).toEqual([7, 7, 7, 7]);
    for (const t of [x, y, list[0] as ReturnType<typeof zeros>, kept!]) t.dispose();
    expect(engine().memory().tensors).toBe(base);
  });

  it('scope disposes everything when the function throws', () => {
    const base = engine().memory().tensors;
    expect(() =>
      scope(() => {
        zeros([3]).add(1);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(engine().memory().tensors).toBe(base);
  });

  it('a 1 000-op chain is submitted in a handful of submits', async () => {
    await engine().flush();
    const before = engine().submits;
    let x = tensor([1, 2, 3]);
    for (let i = 0; i < 1000; i++) {
      const y = x.add(1);
      x.dispose();
      x = y;
    }
    const out = await x.data();
    expect(Array.from(out)).toEqual([1001, 1002, 1003]);
    const submits = engine().submits - before;
    expect(submits).toBeLessThanOrEqual(4); // 1000 dispatches / 512 per submit + the readback
  });

  it('reports live, peak and pooled bytes', () => {
    engine().pool.resetPeak();
    const m0 = engine().memory();
    const t = zeros([1000]);
    const m1 = engine().memory();
    expect(m1.liveBytes - m0.liveBytes).toBeGreaterThanOrEqual(4000);
    expect(m1.peakBytes).toBeGreaterThanOrEqual(m1.liveBytes);
    t.dispose();
    expect(engine().memory().pooledBytes).toBeGreaterThanOrEqual(4000);
  });

  it('trimPool() destroys the idle buffers, returns their bytes and leaves live tensors intact', async () => {
    const live = tensor([1, 2, 3]);
    for (let i = 0; i < 5; i++) zeros([1000 + 300 * i]).dispose();
    const idle = engine().memory().pooledBytes;
    expect(idle).toBeGreaterThanOrEqual(5 * 4000);
    expect(engine().trimPool()).toBe(idle);
    expect(engine().memory().pooledBytes).toBe(0);
    expect(engine().trimPool()).toBe(0);
    expect(Array.from(await live.add(1).data())).toEqual([2, 3, 4]);
    live.dispose();
  });

  it('the pool keeps at most idleCap idle bytes, destroying the least recently released first', () => {
    const made: { size: number; destroyed: boolean; destroy(): void }[] = [];
    const device = {
      createBuffer: ({ size }: { size: number }) => {
        const b = {
          size,
          destroyed: false,
          destroy() {
            b.destroyed = true;
          },
        };
        made.push(b);
        return b;
      },
    };
    let epoch = 0;
    const pool = new BufferPool(device as unknown as GPUDevice, 3 * 2048, () => epoch);
    const bufs = [0, 1, 2, 3, 4].map(() => pool.acquire(2048, 'b'));
    for (const b of bufs) b.lastEpoch = 0; // all used by the open encoder (epoch 0)
    for (const b of bufs) pool.release(b);
    expect(pool.pooledBytes).toBe(5 * 2048); // none may be destroyed before the submit
    epoch = 1;
    pool.enforceIdleCap(); // the runtime calls it after each submit
    expect(pool.pooledBytes).toBe(3 * 2048);
    expect(made.map((b) => b.destroyed)).toEqual([true, true, false, false, false]);
    // a reacquired buffer is no longer idle; the next release past the cap evicts the oldest idle one
    const again = pool.acquire(2048, 'b');
    expect(again.buffer).toBe(made[4]);
    pool.release(pool.acquire(4096, 'c'));
    expect(made.map((b) => b.destroyed)).toEqual([true, true, true, false, false, false]);
    expect(pool.pooledBytes).toBe(2048 + 4096);
    expect(pool.trim()).toBe(2048 + 4096);
    expect(made.filter((b) => !b.destroyed)).toEqual([made[4]]);
  });

  it('a noGrad forward of a small YOLOS saves nothing for backward and leaves only its outputs', async () => {
    const model = Yolos.create(
      { ...presets.nano16, hidden_size: 32, num_hidden_layers: 2, intermediate_size: 64, num_detection_tokens: 5, image_size: [32, 32] },
      { seed: 1 },
    );
    const x = randn([1, 3, 32, 32], { seed: 2 });
    const base = engine().memory().tensors,
      saved = savedTensorCount();
    let during = 0;
    const out = scope(() => {
      const o = model.predict(x);
      during = engine().memory().tensors - base;
      return o;
    });
    expect(savedTensorCount()).toBe(saved);
    expect(out.logits.gradNode).toBeNull();
    expect(out.boxes.gradNode).toBeNull();
    expect(during).toBeGreaterThan(2); // the activations, alive until the scope ends
    expect(engine().memory().tensors - base).toBe(2);
    await out.boxes.data();
    out.logits.dispose();
    out.boxes.dispose();
    // the counter does count: a recorded op saves its input and output until backward frees them
    const p = model.parameters()[0];
    const y = noGrad(() => p.exp());
    expect(savedTensorCount()).toBe(saved);
    const z = p.exp();
    expect(savedTensorCount()).toBe(saved + 2);
    z.sum().backward();
    expect(savedTensorCount()).toBe(saved);
    for (const t of [x, y, z]) t.dispose();
    model.dispose();
  });
});
