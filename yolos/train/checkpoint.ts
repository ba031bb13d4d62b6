/**
 * Training checkpoints: one safetensors file holding the model (`model/<HF key>`), the optimizer's
 * buffers (`optimizer/<param index>/<buffer>`) and, in the metadata, the step, the options, the
 * optimizer's hyper-parameters and per-parameter step counts. Written atomically (temp file, fsync,
 * rename), so an interrupted write never leaves a half checkpoint behind.
 */
import { readFile } from 'node:fs/promises';
import { writeAtomic, describeFsError } from './files-node.ts';
import { tensor, keep, type Tensor, type optim } from '../../engine/index.ts';

type AdamW = optim.AdamW;
type OptimizerStateDict<H> = optim.OptimizerStateDict<H>;
type AdamWHyper = optim.AdamWHyper;
import { readSafetensors, readSafetensorsMetadata, writeSafetensors } from '../safetensors.ts';
import { withoutPrefix } from '../state-dict.ts';
import { parseConfig, type YolosConfig } from '../config.ts';
import { Yolos } from '../model.ts';

export interface CheckpointMeta {
  step: number;
  config: YolosConfig;
  /** The training options, for --resume. */
  options: Record<string, unknown>;
  /** Seconds of training so far. */
  seconds: number;
  imagesSeen: number;
  history?: unknown[];
}

export { writeAtomic };

export async function saveCheckpoint(path: string, model: Yolos, optimizer: AdamW, meta: CheckpointMeta): Promise<void> {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const read = async (t: Tensor) => ({ shape: [...t.shape], data: (await t.data()) as Float32Array });
  for (const [name, p] of model.namedParameters()) tensors.set(`model/${name}`, await read(p));
  const sd = optimizer.stateDict();
  const steps: Record<number, number> = {};
  for (const [k, s] of Object.entries(sd.state)) {
    steps[Number(k)] = s.step;
    for (const [n, t] of Object.entries(s.buffers)) tensors.set(`optimizer/${k}/${n}`, await read(t));
  }
  const hyper = sd.paramGroups.map(({ params, ...h }) => ({ ...h, params }));
  const metadata = { 'yolos.checkpoint': JSON.stringify({ ...meta, optimizer: { paramGroups: hyper, steps } }) };
  await writeAtomic(path, writeSafetensors(tensors, metadata));
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  model: Yolos;
  /** Restores the optimizer's state (call after building it with the same groups). */
  restoreOptimizer(opt: AdamW): void;
}

type StoredMeta = CheckpointMeta & { optimizer: { paramGroups: (AdamWHyper & { params: number[] })[]; steps: Record<number, number> } };

/** Checks the metadata's fields; an error names the checkpoint, the field and what was expected. */
function checkMeta(path: string, m: unknown): StoredMeta {
  const bad = (field: string, expected: string, got: unknown) =>
    new Error(`checkpoint '${path}': metadata field '${field}' must be ${expected}, got ${JSON.stringify(got)}`);
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(m)) throw bad('yolos.checkpoint', 'an object', m);
  if (!(Number.isInteger(m.step) && (m.step as number) >= 0)) throw bad('step', 'a non-negative integer', m.step);
  for (const f of ['seconds', 'imagesSeen'] as const)
    if (!(typeof m[f] === 'number' && (m[f] as number) >= 0)) throw bad(f, 'a non-negative number', m[f]);
  if (!isObj(m.config)) throw bad('config', 'a model config object', m.config);
  if (!isObj(m.options)) throw bad('options', 'the training options object', m.options);
  if (m.history !== undefined && !Array.isArray(m.history)) throw bad('history', 'an array of step records', m.history);
  const opt = m.optimizer;
  if (!isObj(opt) || !Array.isArray(opt.paramGroups) || !isObj(opt.steps))
    throw bad('optimizer', '{ paramGroups: [...], steps: {...} }', opt);
  try {
    m.config = parseConfig(m.config);
  } catch (e) {
    throw new Error(`checkpoint '${path}': metadata field 'config': ${(e as Error).message}`);
  }
  return m as unknown as StoredMeta;
}

/** Reads a checkpoint written by `saveCheckpoint`; every error names the file and what was wrong. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`cannot read checkpoint '${path}': ${describeFsError(e)}`);
  }
  const fail = (what: string) => new Error(`checkpoint '${path}': ${what}`);
  if (bytes.length < 8)
    throw fail(
      `${bytes.length} bytes is too short for a safetensors file (expected an 8-byte header length, a JSON header and the tensors)`,
    );
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  if (n > bytes.length - 8)
    throw fail(`the header claims ${n} bytes but the file has ${bytes.length - 8} after the length (truncated, or not a safetensors file)`);
  let file: ReturnType<typeof readSafetensors>, metadata: Record<string, string>;
  try {
    file = readSafetensors(bytes, { name: path }); // the reference checks: header, offsets, dtypes
    metadata = readSafetensorsMetadata(bytes, { name: path });
  } catch (e) {
    throw fail((e as Error).message);
  }
  const raw = metadata['yolos.checkpoint'];
  if (!raw)
    throw fail('no yolos.checkpoint metadata (is it a plain weights file? resume needs the checkpoint.safetensors a training run writes)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw fail("metadata 'yolos.checkpoint' is not valid JSON");
  }
  const meta = checkMeta(path, parsed);
  let model: Yolos;
  try {
    model = Yolos.fromTensors(withoutPrefix(file, 'model/'), meta.config, { name: path });
  } catch (e) {
    throw fail((e as Error).message);
  }
  return {
    meta,
    model,
    restoreOptimizer(opt: AdamW) {
      const state: OptimizerStateDict<AdamWHyper>['state'] = {};
      const made: Tensor[] = [];
      for (const [k, step] of Object.entries(meta.optimizer.steps)) {
        const buffers: Record<string, Tensor> = {};
        for (const [name, t] of file) {
          const prefix = `optimizer/${k}/`;
          if (name.startsWith(prefix)) {
            buffers[name.slice(prefix.length)] = keep(tensor(t.data as Float32Array, t.shape));
            made.push(buffers[name.slice(prefix.length)]);
          }
        }
        state[Number(k)] = { step, buffers };
      }
      try {
        opt.loadStateDict({ state, paramGroups: meta.optimizer.paramGroups });
      } catch (e) {
        throw fail(`the optimizer state does not fit this model: ${(e as Error).message}`);
      } finally {
        for (const t of made) t.dispose();
      }
    },
  };
}
