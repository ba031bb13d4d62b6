/** The CLI's arguments (no GPU): help lists every option, usage errors are one line with exit 2, --version, output names. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { trainCommand } from '../../yolos/cli-train.ts';
import { evalCommand } from '../../yolos/cli-eval.ts';
import { detectCommand } from '../../yolos/cli-detect.ts';
import { uniqueOutputNames } from '../../yolos/cli-names.ts';
import { packageVersion } from '../../yolos/cli-version.ts';

const yolos = (...args: string[]) => spawnSync(process.execPath, ['bin/yolos.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
const stderrLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l && !l.startsWith('Warning'));

describe('yolos CLI arguments', () => {
  it('--help of each command lists every option it accepts', () => {
    for (const [name, make] of [
      ['train', trainCommand],
      ['eval', evalCommand],
      ['detect', detectCommand],
    ] as const) {
      const longs = make(new Command().command(name)).options.map((o) => o.long!);
      expect(longs.length).toBeGreaterThan(4);
      const help = yolos(name, '--help');
      expect(help.status).toBe(0);
      for (const l of longs) expect(help.stdout, `${name} --help lists ${l}`).toContain(l);
      expect(help.stdout).toMatch(/Exit codes: 0 done; 1 failure/);
    }
  });

  it('bad arguments: one line naming the option and value, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['train', '--bogus'], /unknown option '--bogus'/],
      [['train', '--dta', 'shapes'], /unknown option '--dta' \(Did you mean --data\?\)/],
      [['train', '--steps', '-3'], /option '--steps <n>' argument '-3' is invalid\. expected an integer ≥ 1/],
      [['train', '--lr', 'fast', '--data', 'shapes'], /'--lr <x>' argument 'fast' is invalid/],
      [['train', '--model', 'huge', '--data', 'shapes'], /argument 'huge' is invalid\. expected one of tiny, small/],
      [['train'], /--data is required/],
      [['train', 'extra'], /too many arguments/],
      [['eval', '--data', 'shapes'], /required option '--weights <path>' not specified/],
      [['eval', '--weights', 'w', '--data', 'shapes', '--limit', '0'], /'--limit <n>' argument '0' is invalid/],
      [['detect', '--weights', 'w'], /missing required argument 'images'/],
      [
        ['detect', 'a.png', '--weights', 'w', '--threshold', '1.5'],
        /'--threshold <x>' argument '1.5' is invalid\. expected a number in \[0, 1\)/,
      ],
      [['frobnicate'], /unknown command 'frobnicate' \(see yolos --help\)/],
    ];
    for (const [args, message] of cases) {
      const r = yolos(...args);
      expect(r.status, args.join(' ')).toBe(2);
      const lines = stderrLines(r.stderr);
      expect(lines.length, r.stderr).toBe(1);
      expect(lines[0]).toMatch(message);
    }
  });

  it('--resume takes an optional value, before or after --out (the README form)', () => {
    // parsing only: the action is replaced so nothing trains
    const parse = (...args: string[]) => {
      const p = new Command().exitOverride();
      let got: Record<string, unknown> = {};
      trainCommand(p.command('train')).action((o) => {
        got = o;
      });
      p.parse(['train', ...args], { from: 'user' });
      return got;
    };
    expect(parse('--resume', '--out', 'runs/nano')).toMatchObject({ resume: true, out: 'runs/nano' });
    expect(parse('--out', 'runs/nano', '--resume')).toMatchObject({ resume: true, out: 'runs/nano' });
    expect(parse('--resume', 'runs/a/checkpoint.safetensors')).toMatchObject({ resume: 'runs/a/checkpoint.safetensors' });
    expect(
      parse('--data', 'shapes', '--no-augment', '--train-split', 'val', '--checkpoint-every', '20', '--checkpoint-minutes', '0.5'),
    ).toMatchObject({ augment: false, trainSplit: 'val', checkpointEvery: 20, checkpointMinutes: 0.5 });
  });

  it('--version prints the package version, found from the sources and from a compiled dist/yolos/cli.js', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
    const r = yolos('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version);
    expect(packageVersion(pathToFileURL(resolve('dist/yolos/cli.js')).href)).toBe(version);
    expect(() => packageVersion('file:///cli.js')).toThrow(/no package.json named yolos-webgpu above/);
  });

  it('detect output names are unique and deterministic', () => {
    expect(uniqueOutputNames(['a/x.png', 'b/x.png'])).toEqual(['x.png', 'x-2.png']);
    expect(uniqueOutputNames(['x.png', 'x.jpg', 'X.webp'])).toEqual(['x.png', 'x-2.png', 'X-3.png']);
    expect(uniqueOutputNames(['a/x.png', 'b/x.png', 'x-2.jpg'])).toEqual(['x.png', 'x-3.png', 'x-2.png']);
    expect(uniqueOutputNames(['cats.jpg', 'street.png'])).toEqual(['cats.png', 'street.png']);
  });
});
