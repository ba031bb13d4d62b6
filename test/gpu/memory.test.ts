/** No leaks, scopes, and command batching (a submit per readback, not per op). */
import { describe, it, expect } from 'vitest';
import { tensor, zeros, randn, scope, keep, engine } from '../../engine/index.ts';
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
    scope(() => { kept = keep(x.add(7)); x.add(8); });
    expect(engine().memory().tensors).toBe(base + 4);
    expect(Array.from(await kept!.data())).toEqual([7, 7, 7, 7]);
    for (const t of [x, y, list[0] as ReturnType<typeof zeros>, kept!]) t.dispose();
    expect(engine().memory().tensors).toBe(base);
  });

  it('scope disposes everything when the function throws', () => {
    const base = engine().memory().tensors;
    expect(() => scope(() => { zeros([3]).add(1); throw new Error('boom'); })).toThrow('boom');
    expect(engine().memory().tensors).toBe(base);
  });

  it('a 1 000-op chain is submitted in a handful of submits', async () => {
    await engine().flush();
    const before = engine().submits;
    let x = tensor([1, 2, 3]);
    for (let i = 0; i < 1000; i++) { const y = x.add(1); x.dispose(); x = y; }
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
});
