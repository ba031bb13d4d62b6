/** `yolos eval`: the COCO AP/AR table of a model on the shapes validation stream or a COCO folder's val split. */
import type { Command } from 'commander';
import { init } from '../engine/node.ts';
import { presets, type YolosConfig, type PresetName } from './config.ts';
import { validationResize } from './train/recipe.ts';
import { labelMap, shapesSources, cocoSources } from './train/data.ts';
import { openCocoFolder } from './data/coco-node.ts';
import { evaluate } from './train/evaluate.ts';
import { formatCocoStats } from './eval/coco-eval.ts';
import { loadModel } from './cli-detect.ts';
import { int, oneOf, EXIT_CODES_HELP } from './cli-usage.ts';

const PRESETS = Object.keys(presets) as PresetName[];

/**
 * The evaluation short side on COCO images: `size` when given, else the one the model's config
 * implies (`validationResize`, the validation transform of the trainer, from `defaultResize` as `yolos detect` and the Hub processors use: 64 for nano16, 512 for tiny, 800 for the others).
 * @example evalSize(presets.nano16) // 64
 */
export function evalSize(config: YolosConfig, size?: number): number {
  return validationResize(config, size).shortestEdge;
}

interface EvalFlags {
  weights: string;
  config?: string;
  model?: string;
  data: string;
  limit?: number;
  size?: number;
}

export function evalCommand(cmd: Command): Command {
  return cmd
    .description("print the COCO AP/AR table (pycocotools' definitions) of a model on the validation data")
    .requiredOption('--weights <path>', "safetensors weights (a run's model.safetensors, or Hub weights)")
    .option('--config <path>', "the model's config.json; default: config.json beside the weights, else the --model preset")
    .option('--model <name>', `preset when there is no config.json (${PRESETS.join(', ')})`, oneOf(PRESETS))
    .requiredOption('--data <d>', "'shapes' (its 200-image validation stream) or a COCO folder (its val split)")
    .option('--limit <n>', 'evaluate the first N validation images only', int())
    .option('--size <n>', "COCO: the evaluation short side (default from the model's config)", int(16))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (o: EvalFlags) => {
      await runEval(o);
    });
}

export async function runEval(o: EvalFlags): Promise<void> {
  const engine = await init();
  try {
    const model = await loadModel(o.weights, o.config, o.model);
    const sizing = { model: 'custom', size: o.data === 'shapes' ? o.size : evalSize(model.config, o.size) }; // shapes: --size is the image side
    const opts = { seed: 0, ...sizing, augment: false };
    // only the validation split is read (a folder need not have training annotations to be evaluated on)
    const { train: src, val } =
      o.data === 'shapes'
        ? shapesSources(opts)
        : await (async () => {
            const valSet = await openCocoFolder(o.data, { split: 'val' });
            return cocoSources(valSet, valSet, { ...opts, name: o.data });
          })();
    const { result } = await evaluate(model.eval(), val, labelMap(src.categories, model.config.num_labels), { limit: o.limit });
    console.log(formatCocoStats(result));
    model.dispose();
  } finally {
    engine.dispose();
  }
}
