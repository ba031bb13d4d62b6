/**
 * Backbone transfer against PyTorch (tools/transfer_reference.py): a small HF ViT classifier and a DeiT
 * with distillation token, each turned into YOLOS the way the YOLOS repo's finetune_det does. Our
 * fromBackbone must give the same [CLS] PE (bit for bit) and resized patch grid (PyTorch's f32
 * F.interpolate; ours is the f32 matmul form, so a few ulp), and — with the fixture's new tensors
 * ([DET] tokens, their PE, mid PEs, heads) written in — the same forward to 1e-4, on one input at the
 * target grid and one that re-interpolates at run time.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { tensor, scope } from '../../engine/index.ts';
import { fromBackbone, parseConfig, readSafetensors, peGrid, type SafeTensor } from '../../yolos/index.ts';
import { useEngine, expectClose } from '../gpu/util.ts';

useEngine();

const fixture = (p: string) => readFileSync(new URL(`../fixtures/transfer/${p}`, import.meta.url));
const f32 = (t: SafeTensor | undefined) => t!.data as Float32Array;

describe.each([
  { name: 'vit', clsRow: 0 },
  { name: 'deit', clsRow: 1 }, // distilled: the distillation token's PE becomes the [CLS] PE (spec §2.9)
])('$name classifier → YOLOS matches PyTorch', ({ name, clsRow }) => {
  it('transfers the position embeddings and reproduces the forward within 1e-4', async () => {
    const config = parseConfig(fixture(`${name}-yolos/config.json`).toString());
    const backbone = readSafetensors(fixture(`${name}/model.safetensors`));
    const { model, report } = fromBackbone(fixture(`${name}/model.safetensors`), fixture(`${name}/config.json`).toString(), config, {
      seed: 3,
    });
    const io = readSafetensors(fixture(`${name}-yolos/io.safetensors`));
    const fresh = readSafetensors(fixture(`${name}-yolos/new.safetensors`));
    const D = config.hidden_size,
      [th, tw] = peGrid(config),
      Q = config.num_detection_tokens,
      N = th * tw;
    expect(report.join('\n')).toContain(`the [CLS] PE is row ${clsRow}`);

    // [CLS] PE exact, patch grid as PyTorch's bicubic resize.
    const pe = (await model.params.get('vit.embeddings.position_embeddings')!.data()) as Float32Array;
    const src = f32(backbone.get(`${name}.embeddings.position_embeddings`));
    expect([...pe.subarray(0, D)]).toEqual([...src.subarray(clsRow * D, (clsRow + 1) * D)]);
    expectClose(pe.subarray(D, (1 + N) * D), f32(io.get('position_embeddings')).subarray(D, (1 + N) * D), { atol: 1e-6 }, 'patch PE');

    // The fixture's new tensors in place of ours, then the forward.
    const dict = new Map<string, SafeTensor>();
    const withDet = Float32Array.from(pe);
    withDet.set(f32(fresh.get('det_position_embeddings')), (1 + N) * D);
    dict.set('vit.embeddings.position_embeddings', { dtype: 'F32', shape: [1, 1 + N + Q, D], data: withDet });
    dict.set('vit.embeddings.detection_tokens', fresh.get('detection_tokens')!);
    for (const [k, v] of fresh) if (k.includes('.')) dict.set(k, v); // heads and mid PEs carry their model keys
    model.loadStateDict(dict, { strict: false });

    let worst = 0;
    for (const i of [0, 1]) {
      const input = io.get(`input${i}`)!;
      const { logits, boxes } = scope(() => model.predict(tensor(f32(input), input.shape)));
      const exact = (k: string) => Float64Array.from(f32(io.get(k)), (v, j) => v + f32(io.get(`${k}.lo`))[j]!);
      const got = (await logits.data()) as Float32Array,
        want = exact(`logits${i}`);
      expectClose(got, want, { atol: 1e-4 }, `${name} logits${i}`);
      expectClose(await boxes.data(), exact(`boxes${i}`), { atol: 1e-4 }, `${name} boxes${i}`);
      got.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - want[j]!))));
      logits.dispose();
      boxes.dispose();
    }
    console.log(`${name} → YOLOS vs PyTorch (f64): max |Δlogit| = ${worst.toExponential(2)}`);
    model.dispose();
  });
});
