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
 * Exit status: 0 when every element is within tolerance, 1 when not, 2 on a usage error (unknown op,
 * bad shape or flag, shapes the op rejects, WGSL that does not compile or validate) with a one-line
 * reason on stderr.
 */
import { readFileSync } from 'node:fs';
import * as E from '../engine/index.ts';
import { init, engine, tensor, scope, noGrad, type Tensor, type KernelSpec, type DType } from '../engine/index.ts';
import * as R from '../engine/reference/index.ts';
import { unary, binary } from '../engine/ops/elementwise.ts';
import { UNARY, BINARY, type UnaryOp, type BinaryOp } from '../engine/ops/elementwise.table.ts';
import { mulberry32, timeOurs } from './harness.ts';

class UsageError extends Error {}

type RefOut = R.RefTensor & { absProd?: Float64Array };

interface Opts {
  axis?: number;
  transposeA: boolean;
  transposeB: boolean;
}

interface OpDef {
  family: string;
  /** Matches the key of the op's main kernel (the one --wgsl replaces). */
  kernel: RegExp;
  /** Number of shapes it takes; `[min, max]`. */
  shapes: [number, number];
  defaultShapes: number[][];
  dtypes: DType[];
  /** Input data generator per operand: 'normal', 'positive' (0.1..3), 'nonzero' (±0.5..2). */
  domain?: ('normal' | 'positive' | 'nonzero')[];
  run: (xs: Tensor[], o: Opts) => Tensor;
  ref: (xs: R.RefTensor[], o: Opts) => RefOut;
  /** Per-element tolerance: |got − ref| ≤ tol(i). */
  tol: (ref: RefOut, xs: R.RefTensor[], o: Opts, dtype: DType) => (i: number) => number;
}

// Tolerances. A correct f32 kernel is within a few ulp (2⁻²³ ≈ 1.2e-7 relative) of the f64
// reference for elementwise ops; 1e-5 relative (≈ 80 ulp) leaves room for the drivers' fast-math
// exp/log/erf, while a wrong formula or index is off by O(1). Sums of n terms (matmul, reductions) are
// bounded by n·2⁻²⁴·Σ|terms| (serial f32 summation), doubled here to allow any summation order.
const ELEMENTWISE = (_r: RefOut, _x: R.RefTensor[], _o: Opts, dtype: DType) => (dtype === 'f32' ? (i: number) => 1e-6 + 1e-5 * Math.abs(_r.data[i]) : () => 0);
const U = 2 ** -24;

const unaryOps = Object.fromEntries((Object.keys(UNARY) as UnaryOp[]).map((op): [string, OpDef] => [op, {
  family: 'unary', kernel: new RegExp(`^unary/${op}/`), shapes: [1, 1], defaultShapes: [[1000]],
  dtypes: UNARY[op].floatOnly ? ['f32'] : op === 'sign' || op === 'neg' || op === 'abs' || op === 'square' ? ['f32', 'i32'] : ['f32'],
  domain: op === 'log' || op === 'sqrt' || op === 'rsqrt' ? ['positive'] : ['normal'],
  run: ([x]) => unary(op, x),
  ref: ([x]) => R.unary(op, x),
  tol: ELEMENTWISE,
}]));

const binaryOps = Object.fromEntries((Object.keys(BINARY) as BinaryOp[]).map((op): [string, OpDef] => [op, {
  family: 'binary', kernel: new RegExp(`^binary/${op}/`), shapes: [1, 2], defaultShapes: [[8, 100], [100]],
  dtypes: BINARY[op].floatOnly || op === 'div' ? ['f32'] : ['f32', 'i32'],
  domain: op === 'pow' ? ['positive', 'normal'] : op === 'div' ? ['normal', 'nonzero'] : ['normal', 'normal'],
  run: ([a, b]) => binary(op, a, b ?? a),
  ref: ([a, b]) => R.binary(op, a, b ?? a),
  tol: ELEMENTWISE,
}]));

const reduceOps = Object.fromEntries((['sum', 'mean', 'max', 'min'] as const).map((op): [string, OpDef] => [op, {
  family: 'reduce', kernel: new RegExp(`^reduce/${op}/`), shapes: [1, 1], defaultShapes: [[64, 300]], dtypes: ['f32'],
  run: ([x], o) => (E[op] as (x: Tensor, axis?: number) => Tensor)(x, o.axis),
  ref: ([x], o) => R.reduce(op, x, o.axis),
  tol: (r, [x], o) => {
    if (op === 'max' || op === 'min') return () => 0; // a max of f32 inputs is one of them, exactly
    const n = x.data.length / Math.max(r.data.length, 1);
    const abs = R.absSum(x, o.axis).data;
    return (i) => 2 * n * U * abs[i] / (op === 'mean' ? n : 1) + 1e-30;
  },
}]));

const softmaxOp = (log: boolean): OpDef => ({
  family: 'softmax', kernel: new RegExp(`^softmax(-row)?/${log ? 'log' : 'plain'}`), shapes: [1, 1], defaultShapes: [[6, 164]], dtypes: ['f32'],
  run: ([x], o) => (log ? x.logSoftmax(o.axis ?? -1) : x.softmax(o.axis ?? -1)),
  ref: ([x], o) => R.softmax(x, o.axis ?? -1, log),
  // outputs in (0, 1] (log: O(log len)); a row sum of len terms in f32 sets the scale
  tol: (r) => (i) => (log ? 1e-5 : 1e-6) + 1e-5 * Math.abs(r.data[i]),
});

const OPS: Record<string, OpDef> = {
  ...unaryOps,
  ...binaryOps,
  softmax: softmaxOp(false),
  logSoftmax: softmaxOp(true),
  matmul: {
    family: 'matmul', kernel: /^matmul/, shapes: [2, 2], defaultShapes: [[64, 96], [96, 80]], dtypes: ['f32'],
    run: ([a, b], o) => a.matmul(b, { transposeA: o.transposeA, transposeB: o.transposeB }),
    ref: ([a, b], o) => R.matmul(a, b, o.transposeA, o.transposeB),
    tol: (r, [a], o) => {
      const K = o.transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
      return (i) => 2 * K * U * r.absProd![i] + 1e-30;
    },
  },
  layerNorm: {
    family: 'layernorm', kernel: /^layernorm\/fwd/, shapes: [1, 1], defaultShapes: [[328, 192]], dtypes: ['f32'],
    // weight and bias [D] are made from the seed too (see inputsFor)
    run: ([x, w, b]) => x.layerNorm(w, b, 1e-5),
    ref: ([x, w, b]) => R.layerNorm(x, w, b, 1e-5),
    // normalised outputs are O(1); mean and variance are sums of D terms in f32
    tol: (r) => (i) => 1e-5 + 1e-4 * Math.abs(r.data[i]),
  },
  ...reduceOps,
};

// The fused attention, when the engine exports it.
const attentionFn = (E as Record<string, unknown>).attention as ((q: Tensor, k: Tensor, v: Tensor) => Tensor) | undefined;
if (typeof attentionFn === 'function') {
  OPS.attention = {
    family: 'attention', kernel: /^attention\/fwd/, shapes: [1, 3], defaultShapes: [[2, 3, 50, 64]], dtypes: ['f32'],
    run: ([q, k, v]) => attentionFn(q, k ?? q, v ?? k ?? q),
    ref: ([q, k0, v0]) => {
      // softmax(q·kᵀ/√D)·v composed from reference primitives (an oracle independent of the kernel)
      const k = k0 ?? q, v = v0 ?? k;
      const s = R.matmul(q, k, false, true);
      const scaled = R.binary('mul', s, R.ref([1 / Math.sqrt(q.shape[q.shape.length - 1])], []));
      return R.matmul(R.softmax(scaled, -1), v);
    },
    // outputs are convex combinations of v's rows (|v| ~ 1); sums of Tk and D terms in f32
    tol: (r) => (i) => 1e-5 + 1e-4 * Math.abs(r.data[i]),
  };
}

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
  opts: Opts;
}

function parseShape(s: string): number[] {
  if (s.trim() === '' || s === '[]') return [];
  const dims = s.replace(/^\[|\]$/g, '').split(/[,x×]/).map((d) => d.trim());
  if (dims.some((d) => !/^\d+$/.test(d))) throw new UsageError(`bad shape '${s}': expected non-negative integers separated by commas, e.g. 2,3,5`);
  return dims.map(Number);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { shapes: [], repeat: 10, dtype: 'f32', seed: 1, list: false, dump: false, opts: { transposeA: false, transposeB: false } };
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined || v.trim() === '' || !Number.isFinite(Number(v))) throw new UsageError(`${flag} needs a number, got ${v === undefined ? 'nothing' : `'${v}'`}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    const [flag, inline] = t.startsWith('--') && t.includes('=') ? [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] : [t, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--shape': { const v = value(); if (v === undefined) throw new UsageError('--shape needs a value, e.g. --shape 2,3,5'); a.shapes.push(parseShape(v)); break; }
      case '--wgsl': a.wgsl = value(); if (!a.wgsl) throw new UsageError('--wgsl needs a file'); break;
      case '--repeat': a.repeat = num('--repeat', value()); if (!Number.isInteger(a.repeat) || a.repeat < 1) throw new UsageError('--repeat must be a positive integer'); break;
      case '--dtype': { const d = value(); if (d !== 'f32' && d !== 'i32' && d !== 'u32') throw new UsageError(`unknown dtype '${d}' (expected f32 or i32)`); a.dtype = d; break; }
      case '--seed': a.seed = num('--seed', value()); break;
      case '--axis': a.opts.axis = num('--axis', value()); break;
      case '--atol': a.atol = num('--atol', value()); break;
      case '--rtol': a.rtol = num('--rtol', value()); break;
      case '--transpose-a': a.opts.transposeA = true; break;
      case '--transpose-b': a.opts.transposeB = true; break;
      case '--list': a.list = true; break;
      case '--dump': a.dump = true; break;
      case '--help': case '-h': console.log(HELP); process.exit(0); break;
      default:
        if (t.startsWith('-')) throw new UsageError(`unknown flag ${t} (see --help)`);
        if (a.op) throw new UsageError(`more than one op given: '${a.op}' and '${t}'`);
        a.op = t;
    }
  }
  return a;
}

const HELP = `npm run kernel -- <op> --shape 2,3,5 [--shape ...] [--wgsl file.wgsl] [--repeat 10] [--dtype f32|i32]
       [--axis N] [--transpose-a] [--transpose-b] [--seed N] [--atol X --rtol Y] [--dump]
npm run kernel -- --list [op]
Runs <op> on seeded random inputs, compares with the CPU reference (max abs and rel error; rel = |err| /
max(|ref|, 1e-3·max|ref|)) and prints the median time per launch. --wgsl swaps the op's main kernel for
the file (same bindings, params and grid: see --list <op>); --dump prints the op's own WGSL.
--repeat: timed samples (at least 5), each of enough launches to take ~20 ms.
Exit 0: within tolerance; 1: not; 2: usage, shape or WGSL error.`;

// ------------------------------------------------------------------ inputs

function inputsFor(def: OpDef, shapes: number[][], dtype: DType, seed: number): { data: Float32Array | Int32Array; shape: number[] }[] {
  const rnd = mulberry32(seed);
  const gen = (shape: number[], domain: string) => {
    const n = shape.reduce((x, y) => x * y, 1);
    if (dtype !== 'f32') return { data: Int32Array.from({ length: n }, () => Math.floor(rnd() * 41) - 20), shape };
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (domain === 'positive') data[i] = 0.1 + 2.9 * rnd();
      else if (domain === 'nonzero') data[i] = (rnd() < 0.5 ? -1 : 1) * (0.5 + 1.5 * rnd());
      else { const u = Math.max(rnd(), 1e-12), v = rnd(); data[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v); }
    }
    return { data, shape };
  };
  const ins = shapes.map((s, i) => gen(s, def.domain?.[i] ?? 'normal'));
  if (def.family === 'layernorm') {
    const d = shapes[0][shapes[0].length - 1] ?? 1;
    ins.push(gen([d], 'positive'), gen([d], 'normal'));
  }
  return ins;
}

// ------------------------------------------------------------------ kernels: capture, layout, override

interface Captured { spec: KernelSpec; groups: readonly number[] }

/** Runs `fn` once and returns the kernels it dispatched (in order) and its output. */
async function capture(fn: () => Tensor): Promise<{ seen: Captured[]; out: Tensor }> {
  const rt = engine();
  const seen: Captured[] = [];
  rt.kernelOverride = (spec, groups) => { seen.push({ spec, groups }); return undefined; };
  try {
    const out = scope(fn);
    await rt.flush();
    return { seen, out };
  } finally { rt.kernelOverride = null; }
}

/** The op's main kernel: the one whose key the op's pattern matches, or the only one dispatched. */
function mainKernel(def: OpDef, seen: Captured[]): Captured | undefined {
  return seen.find((c) => def.kernel.test(c.spec.key)) ?? (seen.length === 1 ? seen[0] : undefined);
}

/** The binding interface of a kernel's WGSL: the Params struct, the bindings and the entry point. */
function layoutOf(code: string): string[] {
  const out: string[] = [];
  const params = code.match(/struct Params\s*\{[\s\S]*?\}/);
  if (params) out.push(params[0].replace(/\s*\n\s*/g, ' '));
  for (const line of code.split('\n')) {
    const l = line.trim();
    if (/@binding\(/.test(l) || /^@compute|^@workgroup_size/.test(l) || /^fn main\(/.test(l)) out.push(l);
  }
  return out;
}

function describeKernel(c: Captured, indent = '  '): string {
  const { spec, groups } = c;
  return [`${indent}kernel ${spec.key}: ${spec.inputs} input(s), ${spec.outputs} output(s)${spec.asserts ? ' + assert buffer' : ''}; workgroups [${groups.join(', ')}]`,
    ...layoutOf(spec.code()).map((l) => `${indent}  ${l}`)].join('\n');
}

/** One line from a KernelError: the compiler's first message with its line in the user's file. */
function oneLine(err: Error, file?: string): string {
  const m = err.message.match(/at line (\d+):(\d+): (.*)/);
  if (m && file) return `${file}:${m[1]}:${m[2]}: ${m[3].trim()}`;
  return err.message.split('\n').map((s) => s.trim()).filter(Boolean).slice(0, 3).join(' — ');
}

// ------------------------------------------------------------------ main

function makeTensors(ins: { data: Float32Array | Int32Array; shape: number[] }[]): Tensor[] {
  return ins.map((i) => tensor(i.data, i.shape));
}

async function list(args: Args): Promise<void> {
  if (args.op) {
    const def = OPS[args.op];
    if (!def) throw new UsageError(unknownOp(args.op));
    const shapes = args.shapes.length ? args.shapes : def.defaultShapes;
    const xs = makeTensors(inputsFor(def, shapes, args.dtype, args.seed));
    const { seen, out } = await capture(() => noGrad(() => def.run(xs, args.opts)));
    out.dispose();
    const main = mainKernel(def, seen);
    console.log(`${args.op} (${def.family}) on ${shapes.map((s) => `[${s.join(',')}]`).join(' ')}, ${args.dtype}: ${seen.length} dispatch(es); --wgsl replaces ${main ? main.spec.key : 'nothing'}`);
    for (const c of seen) console.log(describeKernel(c));
    return;
  }
  const families = new Map<string, string[]>();
  for (const [name, def] of Object.entries(OPS)) families.set(def.family, [...(families.get(def.family) ?? []), name]);
  for (const [family, names] of families) {
    const def = OPS[names[0]];
    const xs = makeTensors(inputsFor(def, def.defaultShapes, 'f32', 1));
    const { seen, out } = await capture(() => noGrad(() => def.run(xs, { transposeA: false, transposeB: false })));
    out.dispose();
    const main = mainKernel(def, seen);
    console.log(`${family}: ${names.join(' ')}`);
    console.log(`  shapes: ${def.shapes[0] === def.shapes[1] ? def.shapes[0] : `${def.shapes[0]}–${def.shapes[1]}`} --shape; dtypes ${[...new Set(names.flatMap((n) => OPS[n].dtypes))].join(', ')}; e.g. ${names[0]} on ${def.defaultShapes.map((s) => `[${s.join(',')}]`).join(' ')}:`);
    if (main) console.log(describeKernel(main, '    '));
    for (const t of xs) t.dispose();
  }
  console.log('\n(`--list <op> --shape …` shows the exact kernel(s) and grid for given shapes; `<op> --dump` prints its WGSL.)');
}

async function runOne(args: Args): Promise<number> {
  if (!args.op) throw new UsageError('no op given (npm run kernel -- --list shows them)');
  const def = OPS[args.op];
  if (!def) throw new UsageError(unknownOp(args.op));
  if (!def.dtypes.includes(args.dtype)) throw new UsageError(`${args.op} does not run on ${args.dtype} here (dtypes: ${def.dtypes.join(', ')})`);
  const shapes = args.shapes.length ? args.shapes : def.defaultShapes;
  if (shapes.length < def.shapes[0] || shapes.length > def.shapes[1]) {
    throw new UsageError(`${args.op} takes ${def.shapes[0] === def.shapes[1] ? def.shapes[0] : `${def.shapes[0]} to ${def.shapes[1]}`} --shape, got ${shapes.length}`);
  }
  const ins = inputsFor(def, shapes, args.dtype, args.seed);
  const xs = makeTensors(ins);
  const rt = engine();
  const run = () => noGrad(() => def.run(xs, args.opts));

  // Which kernels the op dispatches for these shapes (also validates the shapes: ShapeError → exit 2).
  const { seen, out: first } = await capture(run);
  const main = mainKernel(def, seen);
  if (args.dump) {
    if (!main) throw new UsageError(`${args.op} dispatches no kernel for these shapes`);
    console.log(main.spec.code());
    return 0;
  }
  let label = 'built-in kernel';
  if (args.wgsl) {
    if (!main) throw new UsageError(`${args.op} dispatches no kernel matching ${def.kernel} for these shapes (${seen.map((c) => c.spec.key).join(', ') || 'none'}); nothing to replace`);
    let code: string;
    try { code = readFileSync(args.wgsl, 'utf8'); } catch (e) { throw new UsageError(`cannot read ${args.wgsl}: ${(e as Error).message}`); }
    const user: KernelSpec = { key: `user:${args.wgsl}:${main.spec.key}:${code.length}:${hash(code)}`, inputs: main.spec.inputs, outputs: main.spec.outputs, asserts: main.spec.asserts, code: () => code };
    try { await rt.compile(user); } catch (e) {
      const msg = (e as Error).message;
      const binding = msg.match(/@group\(\d+\) @binding\(\d+\)/)?.[0];
      if (!/at line \d+/.test(msg) && binding) {
        const first = msg.replace(/^kernel '.*?' failed to compile: /, '').split('\n')[0].replace(/ in \[BindGroupLayoutInternal.*$/, '');
        throw new UsageError(`${args.wgsl} does not fit the op's bindings (${user.inputs} input(s), ${user.outputs} output(s); see --list ${args.op}): ${binding}: ${first}`);
      }
      throw new UsageError(`WGSL does not compile: ${oneLine(e as Error, args.wgsl)}`);
    }
    rt.kernelOverride = (spec) => (spec.key === main.spec.key ? user : undefined);
    label = `${args.wgsl} in place of ${main.spec.key}`;
  }

  // Correctness against the reference. A kernel that leaves elements unwritten must not pass on stale
  // data: the first run's (correct) output stays alive, and the pool's next buffers of the output's
  // size class are filled with NaN (the pool hands out the most recently freed buffer first).
  const poison = Array.from({ length: 4 }, () => E.full(first.shape, first.dtype === 'f32' ? NaN : -1234567, { dtype: first.dtype }));
  for (const t of poison) t.dispose();
  let got: Float32Array | Int32Array | Uint32Array;
  try {
    const out = run();
    got = (await out.data()) as Float32Array;
    out.dispose();
  } catch (e) {
    if (e instanceof E.KernelError) throw new UsageError(`the kernel failed to validate: ${oneLine(e, args.wgsl)}`);
    throw e;
  }
  const refs = ins.map((i) => R.ref(i.data, i.shape));
  const want = def.ref(refs, args.opts);
  const tol = args.atol !== undefined || args.rtol !== undefined
    ? (i: number) => (args.atol ?? 0) + (args.rtol ?? 0) * Math.abs(want.data[i])
    : def.tol(want, refs, args.opts, args.dtype);
  if (got.length !== want.data.length) throw new Error(`output has ${got.length} elements, the reference ${want.data.length}`);
  let maxAbs = 0, maxRel = 0, worst = -1, worstRatio = 0, bad = 0, refMax = 0;
  for (let i = 0; i < want.data.length; i++) refMax = Math.max(refMax, Math.abs(want.data[i]));
  const floor = Math.max(1e-3 * refMax, 1e-30);
  for (let i = 0; i < want.data.length; i++) {
    const w = want.data[i], g = got[i];
    const same = (Number.isNaN(w) && Number.isNaN(g)) || w === g;
    const err = same ? 0 : Math.abs(g - w);
    const e = Number.isNaN(err) ? Infinity : err;
    maxAbs = Math.max(maxAbs, e);
    maxRel = Math.max(maxRel, e / Math.max(Math.abs(w), floor));
    const ratio = e === 0 ? 0 : e / tol(i);
    if (ratio > 1) bad++;
    if (ratio > worstRatio || worst < 0) { worstRatio = ratio; worst = i; }
  }

  first.dispose();

  // Timing (the override stays installed).
  const t = await timeOurs(() => { run(); }, { warmup: 1, repeats: args.repeat, targetMs: 20, maxInner: 64 });
  rt.kernelOverride = null;

  const fmt = (v: number) => (v === 0 ? '0' : v.toExponential(2));
  console.log(`${args.op} ${shapes.map((s) => `[${s.join(',')}]`).join(' ')} ${args.dtype} → [${want.shape.join(',')}] (${label})`);
  console.log(`  max abs error ${fmt(maxAbs)}, max rel error ${fmt(maxRel)}; worst at ${worst} (got ${got[worst]}, ref ${want.data[worst]}), ${fmt(worstRatio)}× its tolerance`);
  console.log(`  ${bad === 0 ? 'PASS' : `FAIL: ${bad} of ${want.data.length} elements outside tolerance`}`);
  console.log(`  median ${fmtMs(t.ms)} per launch (${t.method}; ${t.repeats} samples × ${t.inner} launches; wall ${fmtMs(t.wallMs)})`);
  return bad === 0 ? 0 : 1;
}

function unknownOp(op: string): string {
  const close = Object.keys(OPS).filter((n) => n.toLowerCase().startsWith(op.slice(0, 3).toLowerCase()));
  return `unknown op '${op}'${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; npm run kernel -- --list shows the ops`;
}

function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16);
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
  if (err instanceof UsageError || err instanceof E.ShapeError || err instanceof E.DTypeError || err instanceof E.KernelError || err instanceof E.LimitError) {
    console.error(`kernel: ${err instanceof UsageError ? err.message : oneLine(err)}`);
    code = 2;
  } else {
    console.error(err.stack ?? err.message);
    code = 2;
  }
}
try { engine().dispose(); } catch { /* never initialised */ }
process.exit(code);
