/**
 * `Tensor.backward()` works from the engine's own modules, without `engine/index.ts` having been
 * imported (vitest gives each file a fresh module graph; this one never loads the index). It used to
 * depend on the index's side-effect import of autograd/backward.ts and failed with "backwardHook is
 * not a function".
 */
import { it, expect } from 'vitest';
import { Runtime, setRuntime } from '../../engine/runtime.ts';
import { tensor } from '../../engine/ops/creation.ts';

it('x.backward() fills .grad with only tensor.ts and the ops imported', async () => {
  const r = await Runtime.create();
  setRuntime(r);
  try {
    const x = tensor([1, 2, 3]);
    x.requiresGrad = true;
    x.mul(x).sum().backward(); // d(Σ x²)/dx = 2x
    expect(Array.from(await x.grad!.data())).toEqual([2, 4, 6]);
    x.dispose();
  } finally {
    r.dispose();
    setRuntime(null);
  }
});
