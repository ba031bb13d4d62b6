/**
 * `npx yolos <command>`: detect (cli-detect.ts), train (cli-train.ts), eval (cli-eval.ts), parsed
 * with commander. A bad argument prints one line naming the option and value and exits with 2; a
 * failure prints a message naming the file and exits with 1; `train` stopped by a signal exits with
 * 128 + its number after writing the checkpoint.
 */
import { pathToFileURL } from 'node:url';
import './platform-node.ts'; // Dawn, sharp, file paths, the model caches
import { Command, CommanderError } from 'commander';
import { detectCommand } from './cli-detect.ts';
import { UsageError, EXIT, EXIT_CODES_HELP } from './cli-usage.ts';
import { packageVersion } from './cli-version.ts';

function program(): Command {
  const p = new Command('yolos')
    .description('YOLOS object detection on WebGPU: detect, train, eval')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ outputError: () => {} }) // main() prints the one-line reason
    .showSuggestionAfterError(true)
    .addHelpText('after', `\nRun 'yolos <command> --help' for the options of one command.${EXIT_CODES_HELP}`);
  detectCommand(p.command('detect'));
  // train and eval load lazily: `detect --help` need not import the trainer
  const lazy = (name: string, describe: string) =>
    p.command(name).description(describe).helpOption(false).allowUnknownOption().allowExcessArguments().argument('[args...]');
  lazy('train', 'train YOLOS from scratch (or --resume a run) on the shapes data or a COCO folder');
  lazy('eval', 'print the COCO AP/AR table of a model on the validation data');
  return p;
}

/** The command for `name`, fully configured (train and eval import the trainer only when used). */
async function subcommand(name: string): Promise<Command> {
  const p = new Command('yolos')
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true);
  if (name === 'train') (await import('./cli-train.ts')).trainCommand(p.command('train'));
  else (await import('./cli-eval.ts')).evalCommand(p.command('eval'));
  return p;
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'help' && (argv[1] === 'train' || argv[1] === 'eval')) argv = [argv[1], '--help'];
  const cmd = argv[0] && !argv[0].startsWith('-') ? argv[0] : '';
  try {
    if (!argv.length) {
      program().outputHelp();
      return EXIT.ok;
    }
    const p = cmd === 'train' || cmd === 'eval' ? await subcommand(cmd) : program();
    process.exitCode = undefined;
    await p.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code)) return EXIT.ok;
      console.error(
        `yolos${cmd ? ` ${cmd}` : ''}: ${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (see yolos ${['detect', 'train', 'eval'].includes(cmd) ? `${cmd} ` : ''}--help)`,
      );
      return EXIT.usage;
    }
    if (e instanceof UsageError) {
      console.error(`yolos${cmd ? ` ${cmd}` : ''}: ${e.message.split('\n')[0].trim()}`);
      return EXIT.usage;
    }
    console.error(`yolos${cmd ? ` ${cmd}` : ''}: ${(e as Error).message}`);
    if (process.env.DEBUG) console.error((e as Error).stack);
    return EXIT.failure;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
