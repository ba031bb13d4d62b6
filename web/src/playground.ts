/**
 * playground.html: pick an op and shapes, read and edit the WGSL of the kernel it dispatches, run it
 * against the CPU reference and time it (engine/playground.ts does the work; the CLI is bench/kernel-cli.ts).
 */
import { ShapeError, DTypeError, KernelError, LimitError, type DType } from '../../engine/index.ts';
import {
  PLAYGROUND_OPS,
  PlaygroundError,
  kernelsOf,
  kernelLayout,
  runKernel,
  type RunRequest,
  type RunResult,
  type Captured,
} from '../../engine/playground.ts';
import { startEngine, byId, fmt, fmtMs } from './common.ts';
import { createWgslEditor } from './wgsl-editor.ts';
import { compilerMessages } from './compiler-messages.ts';

const engine = await startEngine();

const opSelect = byId<HTMLSelectElement>('p-op');
const editor = createWgslEditor(byId('p-wgsl'), { onChange: () => markEdited(), onRun: () => void run() });
let builtIn = ''; // the WGSL of the main kernel for the current op and shapes
let shapes: string[] = [];

function initOps(): void {
  const families = new Map<string, string[]>();
  for (const [name, op] of Object.entries(PLAYGROUND_OPS)) families.set(op.family, [...(families.get(op.family) ?? []), name]);
  opSelect.innerHTML = [...families]
    .map(([f, names]) => `<optgroup label="${f}">${names.map((n) => `<option>${n}</option>`).join('')}</optgroup>`)
    .join('');
  const fromHash = decodeURIComponent(location.hash.slice(1));
  opSelect.value = PLAYGROUND_OPS[fromHash] ? fromHash : 'matmul';
}

function onOpChange(): void {
  const op = PLAYGROUND_OPS[opSelect.value];
  shapes = op.defaultShapes.map((s) => s.join(','));
  byId<HTMLSelectElement>('p-dtype').innerHTML = op.dtypes.map((d) => `<option>${d}</option>`).join('');
  byId('p-axis-l').hidden = !op.options.includes('axis');
  byId('p-transpose').hidden = !op.options.includes('transpose');
  byId<HTMLInputElement>('p-axis').value = '';
  renderShapes();
  void showKernel(true);
}

function renderShapes(): void {
  const op = PLAYGROUND_OPS[opSelect.value];
  const box = byId('p-shapes');
  box.innerHTML = shapes
    .map(
      (s, i) =>
        `<label>shape ${shapes.length > 1 ? String.fromCharCode(97 + i) : ''} <input type="text" data-i="${i}" value="${s}"></label>`,
    )
    .join('');
  box.querySelectorAll('input').forEach((el) =>
    el.addEventListener('change', () => {
      shapes[Number(el.dataset.i)] = el.value;
      void showKernel(false);
    }),
  );
  byId<HTMLButtonElement>('p-add-shape').disabled = shapes.length >= op.shapes[1];
  byId<HTMLButtonElement>('p-del-shape').disabled = shapes.length <= op.shapes[0];
}

function parseShape(s: string): number[] {
  const t = s.trim().replace(/^\[|\]$/g, '');
  if (t === '') return [];
  const dims = t.split(/[,x×\s]+/).filter(Boolean);
  if (dims.some((d) => !/^\d+$/.test(d)))
    throw new PlaygroundError(`bad shape '${s}': expected non-negative integers separated by commas, e.g. 2,3,5`);
  return dims.map(Number);
}

function request(): RunRequest {
  const op = PLAYGROUND_OPS[opSelect.value];
  const axisText = byId<HTMLInputElement>('p-axis').value.trim();
  if (axisText !== '' && !/^-?\d+$/.test(axisText)) throw new PlaygroundError(`axis must be an integer, got '${axisText}'`);
  return {
    op: opSelect.value,
    shapes: shapes.map(parseShape),
    dtype: byId<HTMLSelectElement>('p-dtype').value as DType,
    seed: Math.trunc(Number(byId<HTMLInputElement>('p-seed').value) || 0),
    repeats: Math.max(0, Math.min(50, Math.trunc(Number(byId<HTMLInputElement>('p-repeats').value) || 0))),
    options: {
      axis: op.options.includes('axis') && axisText !== '' ? Number(axisText) : undefined,
      transposeA: op.options.includes('transpose') && byId<HTMLInputElement>('p-ta').checked,
      transposeB: op.options.includes('transpose') && byId<HTMLInputElement>('p-tb').checked,
    },
  };
}

function showError(e: unknown): void {
  const el = byId('p-error');
  const err = e as Error;
  const known =
    err instanceof ShapeError ||
    err instanceof DTypeError ||
    err instanceof KernelError ||
    err instanceof LimitError ||
    err instanceof PlaygroundError;
  el.textContent = known ? err.message : `${err.name}: ${err.message}`;
  el.hidden = false;
  if (!known) console.error(e);
  // the compiler's messages about the edited kernel, at their line:column in the editor
  if (err instanceof KernelError) editor.showMessages(compilerMessages(err.message));
}

function clearError(): void {
  byId('p-error').hidden = true;
  editor.showMessages([]);
}

function describe(c: Captured): string {
  return `${c.spec.key} — ${c.spec.inputs} input(s), ${c.spec.outputs} output(s)${c.spec.asserts ? ' + assert buffer' : ''}; workgroups [${c.groups.join(', ')}]`;
}

/** Shows the WGSL of the op's main kernel for the current shapes (replacing an edit only when asked). */
async function showKernel(replace: boolean): Promise<void> {
  clearError();
  try {
    const { kernels, main } = await kernelsOf(request());
    byId('p-dispatches').textContent =
      kernels.map((c) => `${describe(c)}\n  ${kernelLayout(c.spec.code()).join('\n  ')}`).join('\n\n') || '(no dispatch)';
    byId('p-kernel').textContent = main
      ? `main kernel: ${describe(main)} (of ${kernels.length} dispatch${kernels.length === 1 ? '' : 'es'})`
      : 'this op dispatches no kernel for these shapes';
    const code = main?.spec.code() ?? '';
    const edited = editor.getText() !== builtIn;
    builtIn = code;
    if (replace || !edited) editor.setText(code);
    markEdited();
  } catch (e) {
    showError(e);
  }
}

function markEdited(): void {
  const edited = editor.getText() !== builtIn;
  byId('p-edited').textContent = edited
    ? 'edited: Run checks and times your kernel and the built-in one'
    : 'the built-in kernel (edit it, then Run)';
}

function row(label: string, r: RunResult): string {
  const c = r.check;
  return `<tr data-kernel="${r.user ? 'edited' : 'built-in'}" data-pass="${c.pass}">
    <td>${label}</td><td class="num">${fmt(c.maxAbs)}</td><td class="num">${fmt(c.maxRel)}</td>
    <td class="num">#${c.worst}: ${fmt(c.got, 6)} vs ${fmt(c.want, 6)} (${fmt(c.worstRatio)}× tol)</td>
    <td class="num">${c.bad} of ${c.n}</td><td class="${c.pass ? 'pass' : 'fail'}">${c.pass ? 'PASS' : 'FAIL'}</td>
    <td class="num">${r.timing ? `${fmtMs(r.timing.ms)} <span class="muted">(${r.timing.samples.length}×${r.timing.inner})</span>` : '–'}</td></tr>`;
}

async function run(): Promise<void> {
  clearError();
  const button = byId<HTMLButtonElement>('p-run');
  button.disabled = true;
  const body = byId('p-results').querySelector('tbody')!;
  body.innerHTML = '';
  byId('p-note').textContent = 'running…';
  try {
    const req = request();
    const { main } = await kernelsOf(req);
    builtIn = main?.spec.code() ?? '';
    const edited = editor.getText() !== builtIn;
    const rows: string[] = [];
    const base = await runKernel(req);
    rows.push(row('built-in', base));
    if (edited) {
      try {
        rows.unshift(row('edited', await runKernel({ ...req, wgsl: editor.getText() })));
      } catch (e) {
        showError(e);
      }
    }
    const shape = `[${base.outShape.join(', ')}]`;
    body.innerHTML = rows.join('');
    byId('p-note').textContent =
      `${req.op} on ${base.shapes.map((s) => `[${s.join(',')}]`).join(' ')} ${base.dtype} → ${shape}; tolerance per element from the op's arithmetic; time = wall clock per launch (record, submit, wait until the queue is idle), median of samples × launches`;
    markEdited();
  } catch (e) {
    body.innerHTML = '';
    byId('p-note').textContent = '';
    showError(e);
  } finally {
    button.disabled = false;
  }
}

function showAdapter(): void {
  if (!engine) return;
  const a = engine.adapter;
  byId('p-adapter').textContent =
    `${[a.vendor, a.architecture, a.description].filter(Boolean).join(' · ') || 'an adapter that does not name itself'}${a.isSoftware ? ' (software)' : ''}`;
  const optional = ['shader-f16', 'subgroups', 'timestamp-query'];
  const adapterFeatures = [...engine.features].sort();
  byId('p-features').innerHTML = [...new Set([...optional, ...adapterFeatures])]
    .map((f) => `<li>${engine.hasFeature(f) ? '✔' : '✘'} ${f}</li>`)
    .join('');
  const l = engine.limits;
  const limits: [string, number][] = [
    ['maxStorageBufferBindingSize', l.maxStorageBufferBindingSize],
    ['maxBufferSize', l.maxBufferSize],
    ['maxComputeWorkgroupStorageSize', l.maxComputeWorkgroupStorageSize],
    ['maxComputeInvocationsPerWorkgroup', l.maxComputeInvocationsPerWorkgroup],
    ['maxComputeWorkgroupsPerDimension', l.maxComputeWorkgroupsPerDimension],
    ['maxStorageBuffersPerShaderStage', l.maxStorageBuffersPerShaderStage],
  ];
  byId('p-limits').innerHTML = limits.map(([k, v]) => `<tr><td>${k}</td><td>${v.toLocaleString('en')}</td></tr>`).join('');
}

if (engine) {
  initOps();
  showAdapter();
  opSelect.addEventListener('change', () => {
    location.hash = opSelect.value;
    onOpChange();
  });
  byId('p-dtype').addEventListener('change', () => showKernel(false));
  byId('p-axis').addEventListener('change', () => showKernel(false));
  byId('p-ta').addEventListener('change', () => showKernel(false));
  byId('p-tb').addEventListener('change', () => showKernel(false));
  byId('p-add-shape').addEventListener('click', () => {
    shapes.push(shapes[shapes.length - 1] ?? '4');
    renderShapes();
    void showKernel(false);
  });
  byId('p-del-shape').addEventListener('click', () => {
    shapes.pop();
    renderShapes();
    void showKernel(false);
  });
  byId('p-load').addEventListener('click', () => showKernel(true));
  byId('p-reset').addEventListener('click', () => {
    editor.setText(builtIn);
    markEdited();
  });
  byId('p-run').addEventListener('click', () => run());
  onOpChange();
  // for the browser console (and the end-to-end tests): playground.editor.setText(…), .marks()
  Object.assign(window, { playground: { engine, editor } });
  document.body.dataset.ready = 'true';
}
