/// <reference types="@webgpu/types" preserve="true" />
/** Base class of every error the engine throws on purpose. */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** Shapes that do not fit an op: `matmul: inner dimensions differ: a=[2,3] b=[4,5]`. */
export class ShapeError extends EngineError {}
/** A dtype an op does not accept. */
export class DTypeError extends EngineError {}
/** Reading or computing with a tensor after `dispose()`. */
export class UseAfterDisposeError extends EngineError {}
/** A WGSL kernel that does not compile or validate; the message names the kernel and quotes the compiler. */
export class KernelError extends EngineError {}
/** The GPUDevice was lost; nothing further can run on it. */
export class DeviceLostError extends EngineError {}
/** No usable WebGPU adapter. */
export class AdapterError extends EngineError {}
/** A size the adapter cannot hold (binding or buffer limit). */
export class LimitError extends EngineError {}
/** An index outside its range, detected on the GPU and reported at the next readback. */
export class IndexError extends EngineError {}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
