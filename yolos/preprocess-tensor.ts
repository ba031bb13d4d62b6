/** `preprocess`: preprocess.ts's host batch uploaded as the model's input tensor. */
import { tensor, type Tensor } from '../engine/index.ts';
import { preprocessPixels, type RgbImage, type ResizeOptions, type NormalizeOptions } from './preprocess.ts';

export interface Preprocessed {
  /** [B, 3, H, W] normalised and zero-padded at the bottom/right. */
  pixelValues: Tensor;
  /** Per image, [height, width] after resizing (before padding). */
  sizes: [number, number][];
  /** Per image, [height, width] of the original. */
  originalSizes: [number, number][];
}

/**
 * Resizes, normalises and batches images (see preprocessPixels) into a tensor.
 * @example const { pixelValues, originalSizes } = preprocess([img], { shortestEdge: 512, longestEdge: 1333 });
 */
export function preprocess(images: RgbImage[], opts: ResizeOptions & NormalizeOptions): Preprocessed {
  const { pixels, shape, sizes, originalSizes } = preprocessPixels(images, opts, 'preprocess');
  return { pixelValues: tensor(pixels, shape), sizes, originalSizes };
}
