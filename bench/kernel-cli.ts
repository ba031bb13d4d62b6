/**
 * The kernel playground: run one op on seeded random inputs, check it against the CPU reference
 * (engine/reference) and time it — optionally with its kernel replaced by your own WGSL file.
 *
 *   npm run kernel -- <op> --shape 2,3,5 [--shape ...] [--wgsl file.wgsl] [--repeat 10] [--dtype f32]
 *                         [--axis N] [--transpose-a] [--transpose-b] [--seed N] [--atol X --rtol Y] [--dump]
 *   npm run kernel -- --list [op] [--shape ...]
 *
 * --wgsl: the op runs as usual (same validation, params, buffers and workgroup grid) but its main
 * kernel is swapped for the file's code at dispatch (the runtime's `kernelOverride` hook), so the
 * file must declare the same bindings: `--list <op>` prints them, `--dump` prints the op's own WGSL
 * as a starting point. Entry point `main`.
 *
 * The ops, inputs, kernel capture, override and reference check are engine/playground.ts (shared
 * with the web page); this file parses the flags, prints, and times with bench/harness.ts (GPU
 * timestamps where the device has them).
 *
 * Exit status: 0 when every element is within tolerance, 1 when not, 2 on a usage error (unknown op,
 * bad shape or flag, shapes the op rejects, WGSL that does not compile or validate) with a one-line
 * reason on stderr.
 */
import { readFileSync } from 'node:fs';
import * as E from '../engine/node.ts';
import { init, engine, type DType } from '../engine/node.ts';
import {
  PLAYGROUND_OPS as OPS,
  PlaygroundError,
  openKernel,
  describeKernel,
  type KernelOptions,
  type KernelSession,
} from '../engine/playground.ts';
import { timeOurs } from './harness.ts';

class UsageError extends Error {}

// ------------------------------------------------------------------ arguments

interface Args {
  op?: string;
  shapes: number[][];
  wgsl?: string;
  repeat: number;
  dtype: DType;
  seed: number;
  list: boolean;
  dump: boolean;
  atol?: number;
  rtol?: number;
  opts: KernelOptions;
}

function parseShape(s: string): number[] {
  if (s.trim() === '' || s === '[]') return [];
  const dims = s
    .replace(/^\[|\]$/g, '')
    .split(/[,x×]/)
    .map((d) => d.trim());
  if (dims.some((d) => !/^\d+$/.test(d)))
    throw new UsageError(`bad shape '${s}': expected non-negative integers separated by commas, e.g. 2,3,5`);
  return dims.map(Number);
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    shapes: [],
    repeat: 10,
    dtype: 'f32',
    seed: 1,
    list: false,
    dump: false,
    opts: { transposeA: false, transposeB: false },
  };
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined || v.trim() === '' || !Number.isFinite(Number(v)))
      throw new UsageError(`${flag} needs a number, got ${v === undefined ? 'nothing' : `'${v}'`}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    const [flag, inline] =
      t.startsWith('--') && t.includes('=') ? [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] : [t, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--shape': {
        const v = value();
        if (v === undefined) throw new UsageError('--shape needs a value, e.g. --shape 2,3,5');
        a.shapes.push(parseShape(v));
        break;
      }
      case '--wgsl':
        a.wgsl = value();
        if (!a.wgsl) throw new UsageError('--wgsl needs a file');
        break;
      case '--repeat':
        a.repeat = num('--repeat', value());
        if (!Number.isInteger(a.repeat) || a.repeat < 1) throw new UsageError('--repeat must be a positive integer');
        break;
      case '--dtype': {
        const d = value();
        if (d !== 'f32' && d !== 'i32' && d !== 'u32' && d !== 'f16')
          throw new UsageError(`unknown dtype '${d}' (expected f32, i32 or f16)`);
        a.dtype = d;
        break;
      }
      case '--seed':
        a.seed = num('--seed', value());
        break;
      case '--axis':
        a.opts.axis = num('--axis', value());
        break;
      case '--atol':
        a.atol = num('--atol', value());
        break;
      case '--rtol':
        a.rtol = num('--rtol', value());
        break;
      case '--transpose-a':
        a.opts.transposeA = true;
        break;
      case '--transpose-b':
        a.opts.transposeB = true;
        break;
      case '--list':
        a.list = true;
        break;
      case '--dump':
        a.dump = true;
        break;
      case '--help':
      case '-h':
        console.log(HELP);
        process.exit(0);
        break;
      default:
        if (t.startsWith('-')) throw new UsageError(`unknown flag ${t} (see --help)`);
        if (a.op) throw new UsageError(`more than one op given: '${a.op}' and '${t}'`);
        a.op = t;
    }
  }
  return a;
}

const HELP = `npm run kernel -- <op> --shape 2,3,5 [--shape ...] [--wgsl file.wgsl] [--repeat 10] [--dtype f32|i32|f16]
       [--axis N] [--transpose-a] [--transpose-b] [--seed N] [--atol X --rtol Y] [--dump]
npm run kernel -- --list [op]
Runs <op> on seeded random inputs, compares with the CPU reference (max abs and rel error; rel = |err| /
max(|ref|, 1e-3·max|ref|)) and prints the median time per launch. --wgsl swaps the op's main kernel for
the file (same bindings, params and grid: see --list <op>); --dump prints the op's own WGSL.
--repeat: timed samples (at least 5), each of enough launches to take ~20 ms.
Exit 0: within tolerance; 1: not; 2: usage, shape or WGSL error.`;

// ------------------------------------------------------------------ main

/** One line from a KernelError: the compiler's first message with its line in the user's file. */
function oneLine(err: Error, file?: string): string {
  const m = err.message.match(/at line (\d+):(\d+): (.*)/);
  if (m && file) return `${file}:${m[1]}:${m[2]}: ${m[3].trim()}`;
  return err.message
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .slice(0, 3)
    .join(' — ');
}

const shapesText = (shapes: number[][]) => shapes.map((s) => `[${s.join(',')}]`).join(' ');

async function open(args: Args, op: string, shapes: number[][]): Promise<KernelSession> {
  return openKernel({
    op,
    shapes,
    dtype: args.dtype,
    seed: args.seed,
    options: args.opts,
    tolerance: { atol: args.atol, rtol: args.rtol },
  });
}

async function list(args: Args): Promise<void> {
  if (args.op) {
    const s = await open(args, args.op, args.shapes);
    s.dispose();
    console.log(
      `${args.op} (${s.op.family}) on ${shapesText(s.shapes)}, ${args.dtype}: ${s.kernels.length} dispatch(es); --wgsl replaces ${s.main ? s.main.spec.key : 'nothing'}`,
    );
    for (const c of s.kernels) console.log(describeKernel(c));
    return;
  }
  const families = new Map<string, string[]>();
  for (const [name, def] of Object.entries(OPS)) families.set(def.family, [...(families.get(def.family) ?? []), name]);
  for (const [family, names] of families) {
    const def = OPS[names[0]];
    const s = await openKernel({ op: names[0] });
    s.dispose();
    console.log(`${family}: ${names.join(' ')}`);
    console.log(
      `  shapes: ${def.shapes[0] === def.shapes[1] ? def.shapes[0] : `${def.shapes[0]}–${def.shapes[1]}`} --shape; dtypes ${[...new Set(names.flatMap((n) => OPS[n].dtypes))].join(', ')}; e.g. ${names[0]} on ${shapesText(def.defaultShapes)}:`,
    );
    if (s.main) console.log(describeKernel(s.main, '    '));
  }
  console.log('\n(`--list <op> --shape …` shows the exact kernel(s) and grid for given shapes; `<op> --dump` prints its WGSL.)');
}

async function runOne(args: Args): Promise<number> {
  if (!args.op) throw new UsageError('no op given (npm run kernel -- --list shows them)');
  // Which kernels the op dispatches for these shapes (also validates the shapes: ShapeError → exit 2).
  const s = await open(args, args.op, args.shapes);
  try {
    if (args.dump) {
      if (!s.main) throw new UsageError(`${args.op} dispatches no kernel for these shapes`);
      console.log(s.main.spec.code());
      return 0;
    }
    let label = 'built-in kernel';
    if (args.wgsl) {
      let code: string;
      try {
        code = readFileSync(args.wgsl, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read ${args.wgsl}: ${(e as Error).message}`);
      }
      try {
        await s.useWgsl(code);
      } catch (e) {
        if (!(e instanceof E.KernelError)) throw e;
        const binding = e.message.match(/@group\(\d+\) @binding\(\d+\)/)?.[0];
        if (!/at line \d+/.test(e.message) && binding) {
          const first = e.message
            .replace(/^kernel '.*?' failed to compile: /, '')
            .split('\n')[0]
            .replace(/ in \[BindGroupLayoutInternal.*$/, '');
          throw new UsageError(
            `${args.wgsl} does not fit the op's bindings (${s.main!.spec.inputs} input(s), ${s.main!.spec.outputs} output(s); see --list ${args.op}): ${binding}: ${first}`,
          );
        }
        throw new UsageError(`WGSL does not compile: ${oneLine(e, args.wgsl)}`);
      }
      label = `${args.wgsl} in place of ${s.main!.spec.key}`;
    }

    let result: Awaited<ReturnType<KernelSession['check']>>;
    try {
      result = await s.check();
    } catch (e) {
      if (e instanceof E.KernelError) throw new UsageError(`the kernel failed to validate: ${oneLine(e, args.wgsl)}`);
      throw e;
    }
    const { check: c, outShape } = result;

    // Timing (the override stays installed).
    const t = await timeOurs(
      () => {
        s.run();
      },
      { warmup: 1, repeats: args.repeat, targetMs: 20, maxInner: 64 },
    );

    const fmt = (v: number) => (v === 0 ? '0' : v.toExponential(2));
    console.log(`${args.op} ${shapesText(s.shapes)} ${args.dtype} → [${outShape.join(',')}] (${label})`);
    console.log(
      `  max abs error ${fmt(c.maxAbs)}, max rel error ${fmt(c.maxRel)}; worst at ${c.worst} (got ${c.got}, ref ${c.want}), ${fmt(c.worstRatio)}× its tolerance`,
    );
    console.log(`  ${c.pass ? 'PASS' : `FAIL: ${c.bad} of ${c.n} elements outside tolerance`}`);
    console.log(`  median ${fmtMs(t.ms)} per launch (${t.method}; ${t.repeats} samples × ${t.inner} launches; wall ${fmtMs(t.wallMs)})`);
    return c.pass ? 0 : 1;
  } finally {
    s.dispose();
  }
}

function unknownOp(op: string): string {
  const close = Object.keys(OPS).filter((n) => n.toLowerCase().startsWith(op.slice(0, 3).toLowerCase()));
  return `unknown op '${op}'${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; npm run kernel -- --list shows the ops`;
}

function fmtMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(3)} ms` : `${(ms * 1000).toFixed(1)} µs`;
}

let code = 0;
try {
  const args = parseArgs(process.argv.slice(2));
  if (!args.list && !args.op) throw new UsageError('no op given; npm run kernel -- --list shows the ops (or --help)');
  if (args.op && !OPS[args.op]) throw new UsageError(unknownOp(args.op));
  await init();
  code = args.list ? (await list(args), 0) : await runOne(args);
} catch (e) {
  const err = e as Error;
  if (
    err instanceof UsageError ||
    err instanceof PlaygroundError ||
    err instanceof E.ShapeError ||
    err instanceof E.DTypeError ||
    err instanceof E.KernelError ||
    err instanceof E.LimitError
  ) {
    console.error(`kernel: ${err instanceof UsageError || err instanceof PlaygroundError ? err.message : oneLine(err)}`);
    code = 2;
  } else {
    console.error(err.stack ?? err.message);
    code = 2;
  }
}
try {
  engine().dispose();
} catch {
  /* never initialised */
}
process.exit(code);
