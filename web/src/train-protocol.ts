/**
 * The messages between the Train tab (the page) and its Web Worker (web/src/train-worker.ts), which
 * owns the engine, the model, the optimizer and the data. Weight bytes travel as transferred
 * ArrayBuffers; everything else is small and cloned.
 */
import type { Detection } from '../../yolos/index.ts';

export const SIZE = 64; // nano-16's image side
export const VAL_IMAGES = 6;

/** The form's values, sent with Start and on every change (a running loop reads them each step). */
export interface TrainSettings { seed: number; batch: number; lr: number; warmup: number; total: number; every: number }

/** One step; `ms` is null for steps read from a checkpoint's history (trained elsewhere). */
export interface StepLog { step: number; loss: number; lr: number; batch: number; ms: number | null; parts?: [number, number, number]; classError?: number }

/** Where the worker's training stands (sent with every step and every state change). */
export interface TrainProgress { step: number; imagesSeen: number; seconds: number; running: boolean; hasModel: boolean }

export type ToWorker =
  | { type: 'settings'; settings: TrainSettings }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'reset' }
  /** Continue from a weights file or a checkpoint (its bytes, transferred). */
  | { type: 'load'; name: string; bytes: ArrayBuffer }
  /** The weights as safetensors: answered by `weights` (or `failed`) with the same id. */
  | { type: 'snapshot'; id: number };

export type FromWorker =
  /** The engine started in the worker, on this adapter. */
  | { type: 'ready'; adapter: string }
  /** The worker cannot train (no WebGPU in workers, no device): the page says why. */
  | { type: 'fatal'; message: string }
  /** A state line for the page (`error`: shown in red); `history` replaces the page's when present. */
  | { type: 'state'; text: string; error?: boolean; progress: TrainProgress; history?: StepLog[] }
  | { type: 'step'; log: StepLog; progress: TrainProgress }
  /** Every query's detection (threshold 0) on each validation image, at `step`. */
  | { type: 'validation'; step: number; dets: Detection[][] }
  | { type: 'weights'; id: number; bytes: ArrayBuffer; step: number }
  | { type: 'failed'; id: number; message: string };
