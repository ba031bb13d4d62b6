/**
 * `npm start`: the main job. For now a short demo of the engine — which adapter it took, a few ops
 * checked against the CPU reference, a timed matmul, and memory accounting. (The training issue
 * replaces it with training YOLOS on the synthetic shapes dataset.)
 */
import { init, tensor, randn, scope, describeAdapterOf } from './engine/index.ts';
import * as R from './engine/reference/index.ts';

const engine = await init();
console.log(`adapter: ${describeAdapterOf(engine)}`);

const a = tensor([[1, 2, 3], [4, 5, 6]]);
const b = randn([3, 4], { seed: 1 });
const c = scope(() => a.matmul(b).add(1).gelu());
const want = R.unary('gelu', R.binary('add', R.matmul(R.ref(await a.data(), [2, 3]), R.ref(await b.data(), [3, 4])), R.ref([1], [])));
const got = await c.data();
const maxErr = Math.max(...Array.from(got, (v, i) => Math.abs(v - want.data[i])));
console.log(`gelu(a·b + 1) = ${JSON.stringify(await c.array())}\n  max |GPU − CPU reference| = ${maxErr.toExponential(2)}`);

const n = 256;
const x = randn([n, n], { seed: 2 }), y = randn([n, n], { seed: 3 });
await x.matmul(y).data(); // warm-up (pipeline compile)
const t0 = performance.now();
const reps = 5;
for (let i = 0; i < reps; i++) scope(() => x.matmul(y));
await engine.flush();
const ms = (performance.now() - t0) / reps;
console.log(`matmul ${n}³: ${ms.toFixed(1)} ms (${((2 * n ** 3) / ms / 1e6).toFixed(2)} GFLOP/s, plain kernel)`);
console.log(`softmax row sums: ${Array.from(await randn([3, 10], { seed: 4 }).softmax().sum(-1).data(), (v) => v.toFixed(6)).join(', ')}`);
console.log(`memory: ${JSON.stringify(engine.memory())}; submits so far: ${engine.submits}`);
engine.dispose();
