/**
 * Refcounted GPU storage behind one or more tensors (a reshape shares its input's storage; autograd
 * holds references to tensors saved for backward). The buffer returns to the pool at zero references.
 */
import type { PooledBuffer } from './pool.ts';
import { rt } from './runtime.ts';

export class Storage {
  refs = 1;
  constructor(readonly pb: PooledBuffer, readonly byteLength: number) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) rt().pool.release(this.pb);
  }
}
