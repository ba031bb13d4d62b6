/** `item()` on a tensor that is not one element is a shape problem (it used to throw UseAfterDisposeError). */
import { describe, it, expect } from 'vitest';
import { tensor, ShapeError, UseAfterDisposeError } from '../../engine/index.ts';
import { useEngine } from '../gpu/util.ts';

useEngine();

describe('Tensor.item', () => {
  it('reads the value of a one-element tensor of any rank', async () => {
    expect(await tensor([[3]]).item()).toBe(3);
  });
  it('throws a ShapeError naming the shape for a non-scalar', async () => {
    const t = tensor([1, 2]);
    await expect(t.item()).rejects.toThrow(ShapeError);
    await expect(t.item()).rejects.toThrow(/^item: expected a tensor with one element, got shape \[2\]$/);
    await expect(t.item()).rejects.not.toThrow(UseAfterDisposeError);
  });
  it('still throws UseAfterDisposeError for a disposed scalar', async () => {
    const t = tensor([1]);
    t.dispose();
    await expect(t.item()).rejects.toThrow(UseAfterDisposeError);
  });
});
