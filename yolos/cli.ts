/**
 * `npx yolos <command>`: detect (this file), train and eval (cli-train.ts). Bad arguments print a
 * one-line reason and exit with code 2; runtime failures print a message and exit with code 1.
 */
import { runDetect, DETECT_HELP } from './cli-detect.ts';
import { UsageError } from './cli-usage.ts';

const HELP = `usage: yolos <command> [options]

commands:
  detect <images...> --weights model.safetensors [--config config.json] [--threshold 0.9] [--out dir]
  train  --data shapes|<coco-dir> --model nano16|tiny|small|... [--steps --batch --lr --size --seed --out --resume]
  eval   --weights model.safetensors [--config config.json] --data shapes|<coco-dir>

run 'yolos <command> --help' for the options of one command.`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') { console.log(HELP); return 0; }
  try {
    if (cmd === 'detect') return await runDetect(rest);
    if (cmd === 'train' || cmd === 'eval') {
      const mod = await import('./cli-train.ts');
      return cmd === 'train' ? await mod.runTrain(rest) : await mod.runEval(rest);
    }
    throw new UsageError(`unknown command '${cmd}' (expected detect, train or eval; see yolos --help)`);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`yolos ${cmd}: ${(e as Error).message.split('\n')[0].trim()}`);
      return 2;
    }
    console.error(`yolos ${cmd}: ${(e as Error).message}`);
    if (process.env.DEBUG) console.error((e as Error).stack);
    return 1;
  }
}

export { DETECT_HELP };

const isMain = process.argv[1] && /(cli\.ts|yolos(\.mjs)?)$/.test(process.argv[1]);
if (isMain) process.exitCode = await main(process.argv.slice(2));
