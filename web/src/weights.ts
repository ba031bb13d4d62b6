/**
 * Weights files in the page: YOLOS safetensors (Hub key names) with their config found in, in order,
 * a config.json picked with them, the file's metadata (`yolos.config`, written by the Train tab), a
 * training checkpoint's metadata (`yolos.checkpoint`, from `npm start` / `yolos train`), or the preset
 * whose parameter shapes the file matches.
 */
import {
  Yolos,
  presets,
  parseConfig,
  parameterShapes,
  readSafetensors,
  readSafetensorsMetadata,
  withoutPrefix,
  type YolosConfig,
} from '../../yolos/index.ts';

/** A model built from a weights file, with where its config came from and, for a checkpoint, its training state. */
export interface LoadedWeights {
  model: Yolos;
  /** Where the config came from. */
  configFrom: string;
  /** Training steps recorded in the file, if any. */
  steps?: number;
  /** A checkpoint's training history (loss per step) and batch size. */
  history?: { step: number; loss: number; lr: number }[];
  batch?: number;
}

/** Builds the model from a weights file's bytes (see the file header for where the config comes from). */
export function modelFromBytes(bytes: Uint8Array, configJson?: unknown): LoadedWeights {
  const meta = readSafetensorsMetadata(bytes);
  let file = readSafetensors(bytes);
  let config: YolosConfig | undefined;
  let configFrom = '';
  let steps: number | undefined = meta['yolos.steps'] ? Number(meta['yolos.steps']) : undefined;
  let history: LoadedWeights['history'], batch: number | undefined;
  if (meta['yolos.checkpoint']) {
    // a training checkpoint: the model's tensors are under model/, the optimizer's under optimizer/
    const ck = JSON.parse(meta['yolos.checkpoint']) as {
      config?: unknown;
      step?: number;
      history?: { step: number; loss: number; lr: number }[];
      options?: { batch?: number };
    };
    file = withoutPrefix(file, 'model/'); // the dtype rules of fromTensors refuse integer weights
    if (ck.config) {
      config = parseConfig(ck.config);
      configFrom = 'the checkpoint';
    }
    steps = ck.step;
    history = ck.history
      ?.filter((h) => typeof h?.step === 'number' && typeof h.loss === 'number')
      .map((h) => ({ step: h.step, loss: h.loss, lr: h.lr }));
    batch = ck.options?.batch;
  }
  if (configJson !== undefined) {
    config = parseConfig(configJson);
    configFrom = 'config.json';
  } else if (!config && meta['yolos.config']) {
    config = parseConfig(JSON.parse(meta['yolos.config']));
    configFrom = "the file's metadata";
  }
  if (!config) {
    const fits = (c: YolosConfig) => {
      const shapes = parameterShapes(c);
      return (
        shapes.length === file.size &&
        shapes.every(([k, s]) => {
          const t = file.get(k);
          return !!t && t.shape.length === s.length && t.shape.every((d, i) => d === s[i]);
        })
      );
    };
    const name = (Object.keys(presets) as (keyof typeof presets)[]).find((p) => fits(presets[p]));
    if (!name)
      throw new Error('these weights carry no config and fit no preset: pick their config.json together with the .safetensors file');
    config = presets[name];
    configFrom = `the ${name} preset (its shapes match)`;
  }
  return { model: Yolos.fromTensors(file, config), configFrom, steps, history, batch };
}

/** Loads weights from picked files: one .safetensors and, optionally, its config.json. */
export async function modelFromFiles(files: File[]): Promise<LoadedWeights & { name: string }> {
  const st = files.find((f) => /\.safetensors$/i.test(f.name));
  if (!st) throw new Error(`no .safetensors file among ${files.map((f) => f.name).join(', ') || 'the files'}`);
  const cj = files.find((f) => /\.json$/i.test(f.name));
  let json: unknown;
  if (cj) {
    try {
      json = JSON.parse(await cj.text());
    } catch (e) {
      throw new Error(`${cj.name} is not valid JSON (${(e as Error).message})`);
    }
  }
  return { ...modelFromBytes(new Uint8Array(await st.arrayBuffer()), json), name: st.name };
}

/** A one-line description of a model. */
export function describeModel(m: Yolos): string {
  const c = m.config;
  const n = m.parameters().reduce((s, p) => s + p.size, 0);
  const labels = Object.values(c.id2label ?? {}).filter((l) => l !== 'N/A');
  return `D ${c.hidden_size}, ${c.num_hidden_layers} layers, ${c.num_detection_tokens} detection tokens, input ${c.image_size.join('×')}, ${n.toLocaleString('en')} parameters; ${c.num_labels} labels${labels.length <= 8 ? ` (${labels.join(', ')})` : ''}`;
}
