/**
 * Refcounted GPU storage behind one or more tensors (a reshape shares its input's storage; autograd
 * holds references to tensors saved for backward). The buffer returns to the pool at zero references.
 */
import type { PooledBuffer } from './pool.ts';
import { rt } from './runtime.ts';

export class Storage {
  refs = 1;
  /** The pool of the engine that made the buffer: after a re-init, an old tensor's buffer must not enter the new pool. */
  private readonly pool = rt().pool;
  constructor(
    readonly pb: PooledBuffer,
    readonly byteLength: number,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.pool.release(this.pb);
  }
}
