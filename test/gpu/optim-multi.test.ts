/**
 * Multi-tensor AdamW and gradient norm against today's per-parameter kernels, bit for bit: awkward
 * sizes (1, primes, several workgroups, a multi-chunk norm), two groups, a parameter that skips a
 * step (its step count lags), steps with and without clipping; and the launch counts.
 */
import { describe, it, expect } from 'vitest';
import { tensor, nn, optim, type Tensor } from '../../engine/index.ts';
import { rt } from '../../engine/runtime.ts';
import { gradNormWith } from '../../engine/optim/clip.ts';
import { adamwTensorsPerLaunch } from '../../engine/optim/adamw.ts';
import { useEngine, rng } from './util.ts';

useEngine();

const SIZES = [[1], [2], [3], [7], [31], [97], [257], [1009], [13, 17], [65_537], [5, 5]];

const values = (n: number, seed: number, scale = 1) => {
  const next = rng(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * next() - 1));
};
const bits = async (t: Tensor) => Array.from(new Uint32Array((await t.data()).buffer as ArrayBuffer));
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Parameters of SIZES with seeded values (the same for both optimizers). */
const params = () => SIZES.map((s, i) => nn.parameter(tensor(values(sizeOf(s), 10 + i), s)));

function setGrads(ps: Tensor[], step: number, skip: number): void {
  ps.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = i === skip ? null : tensor(values(p.size, 1000 * i + step, i % 3 === 0 ? 4 : 1), [...p.shape]);
  });
}

describe('multi-tensor AdamW', () => {
  it('gives the per-parameter kernel’s bits for 4 steps (two groups, a lagging parameter, clip on and off)', async () => {
    const run = async (foreach: boolean) => {
      const ps = params();
      const opt = new optim.AdamW(
        [
          { params: ps.slice(0, 6), weightDecay: 0.1 },
          { params: ps.slice(6), lr: 3e-3, weightDecay: 0, betas: [0.8, 0.99], eps: 1e-6 },
        ],
        { lr: 1e-2, foreach },
      );
      const launches: number[] = [];
      for (let step = 0; step < 4; step++) {
        setGrads(ps, step, step === 1 ? 4 : -1);
        const norm = optim.gradNorm(ps);
        const before = rt().dispatches;
        opt.step(step % 2 === 0 ? { clip: { norm, maxNorm: 2 } } : {});
        launches.push(rt().dispatches - before);
        norm.dispose();
      }
      const sd = opt.stateDict();
      const out = {
        p: await Promise.all(ps.map(bits)),
        m: [] as number[][],
        v: [] as number[][],
        steps: Object.values(sd.state).map((s) => s.step),
        launches,
      };
      for (const s of Object.values(sd.state)) {
        out.m.push(await bits(s.buffers.m));
        out.v.push(await bits(s.buffers.v));
      }
      opt.dispose();
      ps.forEach((p) => p.dispose());
      return out;
    };
    const each = await run(false),
      multi = await run(true);
    expect(multi.steps).toEqual(each.steps);
    expect(multi.steps[4]).toBe(3);
    for (const k of ['p', 'm', 'v'] as const)
      multi[k].forEach((b, i) => expect(b, `${k} of parameter ${i} ${JSON.stringify(SIZES[i])}`).toEqual(each[k][i]));
    // Launches after step 0 (which also fills the new m and v buffers with zeros): two groups of 6
    // and 5 parameters, 5 and 5 at step 1, when parameter 4 has no gradient.
    expect(each.launches.slice(1)).toEqual([10, 11, 11]);
    const per = [adamwTensorsPerLaunch(true), adamwTensorsPerLaunch(false)];
    const want = (n: number[], k: number) => n.reduce((a, b) => a + Math.ceil(b / k), 0);
    expect(multi.launches.slice(1)).toEqual([want([5, 5], per[1]), want([6, 5], per[0]), want([6, 5], per[1])]);
    if (rt().adapter.source === 'lavapipe') expect(per[0]).toBe(3); // 16 storage buffers: 3 × (g, w, m, v) + the norm
  });

  it('checks every gradient of a group before updating any of its parameters', async () => {
    const ps = [nn.parameter(tensor([1, 2], [2])), nn.parameter(tensor([3], [1]))];
    const opt = new optim.AdamW(ps);
    ps[0].grad = tensor([1, 1], [2]);
    ps[1].grad = tensor([1, 1], [2]);
    expect(() => opt.step()).toThrow(/AdamW\.step: gradient f32\[2\] does not match its parameter f32\[1\]/);
    expect(Array.from(await ps[0].data())).toEqual([1, 2]);
    expect(opt.stateDict().state).toEqual({});
    opt.dispose();
    ps.forEach((p) => p.dispose());
  });

  it('refuses a foreach that is not a boolean', () => {
    const p = nn.parameter(tensor([1], [1]));
    expect(() => new optim.AdamW([p], { foreach: 'yes' as unknown as boolean })).toThrow(/AdamW: foreach must be true or false, got yes/);
    p.dispose();
  });
});

describe('gradNorm, several gradients a launch', () => {
  it('gives the same bits for 1, 6 (the old count) and the adapter’s count of gradients per launch', async () => {
    const ps = [...params(), ...[[40_000], [16_385], [1], [3, 3]].map((s, i) => nn.parameter(tensor(values(sizeOf(s), 77 + i), s)))];
    setGrads(ps, 0, -1);
    const got = [];
    for (const t of [gradNormWith(ps, 1), gradNormWith(ps, 6), optim.gradNorm(ps)]) {
      got.push((await bits(t))[0]);
      t.dispose();
    }
    expect(got[1]).toBe(got[0]);
    expect(got[2]).toBe(got[0]);
    expect(() => gradNormWith(ps, 17)).toThrow(/gradNorm: 17 gradients per launch \(expected an integer in \[1, 16\]\)/);
    ps.forEach((p) => p.dispose());
  });
});
