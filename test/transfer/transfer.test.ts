/**
 * Backbone transfer's checks and report, fine-tuning on a new label set (fromSafetensors' id2label),
 * loadInitialModel's dispatch by checkpoint kind and source, and freezeBackbone.
 */
import { describe, it, expect, vi } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor, scope } from '../../engine/index.ts';
import {
  Yolos,
  fromBackbone,
  transferFromFiles,
  freezeBackbone,
  parseConfig,
  parameterShapes,
  readSafetensors,
  writeSafetensors,
  type YolosConfig,
} from '../../yolos/index.ts';
import { loadInitialModel } from '../../yolos/transfer-node.ts';
import { useEngine } from '../gpu/util.ts';

useEngine();

const fixtureUrl = (p: string) => new URL(`../fixtures/${p}`, import.meta.url);
const fixture = (p: string) => new Uint8Array(readFileSync(fixtureUrl(p)));
const fileURLPath = (p: string) => fileURLToPath(fixtureUrl(p));
const text = (p: string) => readFileSync(fixtureUrl(p), 'utf8');
const vitBytes = fixture('transfer/vit/model.safetensors');
const vitConfig = JSON.parse(text('transfer/vit/config.json'));
const target = parseConfig(text('transfer/vit-yolos/config.json'));

/** The ViT fixture's tensors, edited, as safetensors bytes. */
function editedVit(edit: (m: Map<string, { shape: number[]; data: Float32Array }>) => void): Uint8Array {
  const m = new Map([...readSafetensors(vitBytes)].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
  edit(m);
  return writeSafetensors(m);
}

describe('fromBackbone: checks and report', () => {
  it('reports every source key as used or ignored, the PE resize and the new tensors', () => {
    const extra = editedVit((m) => m.set('vit.extra.scale', { shape: [2], data: new Float32Array(2) }));
    const { model, report } = fromBackbone(extra, vitConfig, target, { seed: 1, name: 'vit.safetensors' });
    const all = report.join('\n');
    expect(report[0]).toMatch(/^Yolos\.fromBackbone 'vit\.safetensors': ViT classifier \('vit\.\*'\): used 38 tensors/);
    expect(all).toContain('the 3×3 patch grid is bicubic-resized to 4×5');
    expect(all).toContain("ignored 'vit.extra.scale' [2]: not a backbone tensor");
    expect(all).toContain("ignored 'classifier.weight' [10,32]: the image-classification head");
    expect(all).toContain("ignored 'vit.pooler.dense.weight' [32,32]: the pooler");
    expect(all).toMatch(/new: vit\.embeddings\.detection_tokens \[1,5,32\]/);
    expect(report.filter((l) => l.startsWith('ignored')).length + 38).toBe(readSafetensors(extra).size); // nothing unaccounted for
    model.dispose();
  });

  it('refuses dims that cannot match, naming both values', () => {
    expect(() => fromBackbone(vitBytes, vitConfig, { ...target, hidden_size: 64, intermediate_size: 256 }, {})).toThrow(
      /hidden_size: the backbone has 32, the target config 64/,
    );
    expect(() => fromBackbone(vitBytes, { ...vitConfig, patch_size: 32 }, target, {})).toThrow(
      /patch_size: the backbone has 32, the target config 16/,
    );
    expect(() => fromBackbone(vitBytes, vitConfig, { ...target, num_hidden_layers: 3 }, {})).toThrow(
      /num_hidden_layers: the backbone has 2, the target config 3/,
    );
  });

  it('names a mis-shaped key with both shapes, and a missing key', () => {
    const bad = editedVit((m) =>
      m.set('vit.encoder.layer.1.attention.attention.key.weight', { shape: [32, 31], data: new Float32Array(32 * 31) }),
    );
    expect(() => fromBackbone(bad, vitConfig, target, { name: 'bad.safetensors' })).toThrow(
      /'bad\.safetensors'.*\n.*key 'vit\.encoder\.layer\.1\.attention\.attention\.key\.weight': the checkpoint has shape \[32,31\], the config expects \[32,32\]/,
    );
    // a PE table that does not fit the config's image_size (64 → 4×4 grid, 17 rows; the file has 10)
    expect(() => fromBackbone(vitBytes, { ...vitConfig, image_size: 64 }, target, {})).toThrow(
      /position_embeddings': the checkpoint has shape \[1,10,32\], the config expects \[1,17,32\]/,
    );
    const missing = editedVit((m) => m.delete('vit.layernorm.weight'));
    expect(() => fromBackbone(missing, vitConfig, target, {})).toThrow(/missing key 'vit\.layernorm\.weight' \(expected shape \[32\]\)/);
  });

  it('refuses a checkpoint that is no ViT, DeiT or YOLOS', () => {
    const other = writeSafetensors({ 'resnet.conv1.weight': { shape: [1], data: new Float32Array(1) } });
    expect(() => fromBackbone(other, vitConfig, target, { name: 'r.safetensors' })).toThrow(
      /not a ViT, DeiT or YOLOS checkpoint: no key starts with 'vit\.' or 'deit\.' \(first keys: 'resnet\.conv1\.weight'\)/,
    );
  });
});

describe('fromSafetensors with id2label: a new label set', () => {
  const bytes = fixture('yolos-ref/model.safetensors');
  const config = parseConfig(text('yolos-ref/config.json')); // 4 labels
  const stored = readSafetensors(bytes);
  const changed = ['class_labels_classifier.layers.2.weight', 'class_labels_classifier.layers.2.bias'];

  it('re-initialises only the class output layer, keeps every other tensor bit for bit, and says so', async () => {
    const lines: string[] = [];
    const model = Yolos.fromSafetensors(bytes, config, {
      name: 'm.safetensors',
      id2label: { 0: 'cat', 1: 'dog' },
      seed: 7,
      onReport: (l) => lines.push(l),
    });
    expect(model.config.num_labels).toBe(2);
    expect(model.config.id2label).toEqual({ 0: 'cat', 1: 'dog' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      "Yolos.fromSafetensors 'm.safetensors': num_labels 4 → 2: re-initialised class_labels_classifier.layers.2.weight [5,32] → [3,32], class_labels_classifier.layers.2.bias [5] → [3]",
    );
    for (const [name, p] of model.params) {
      if (changed.includes(name)) continue;
      expect(new Uint32Array(((await p.data()) as Float32Array).buffer), name).toEqual(
        new Uint32Array((stored.get(name)!.data as Float32Array).buffer.slice(0)),
      );
    }
    // the re-initialised layer is what a fresh model of the new config gets for the same seed
    const fresh = Yolos.create(model.config, { seed: 7 });
    for (const name of changed) expect(await model.params.get(name)!.data()).toEqual(await fresh.params.get(name)!.data());
    const { logits } = scope(() => model.predict(tensor(new Float32Array(3 * 48 * 64), [1, 3, 48, 64])));
    expect([...logits.shape]).toEqual([1, 5, 3]);
    logits.dispose();
    fresh.dispose();
    model.dispose();
  });

  it('warns by default; the same label count only renames', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    Yolos.fromSafetensors(bytes, config, { id2label: { 0: 'a' } }).dispose();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('num_labels 4 → 1'));
    warn.mockClear();
    const model = Yolos.fromSafetensors(bytes, config, { id2label: { 0: 'w', 1: 'x', 2: 'y', 3: 'z' } });
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(model.config.id2label).toEqual({ 0: 'w', 1: 'x', 2: 'y', 3: 'z' });
    for (const name of changed) expect(await model.params.get(name)!.data()).toEqual(stored.get(name)!.data);
    model.dispose();
  });

  it('refuses an id2label whose keys are not the indices 0…n−1', () => {
    expect(() => Yolos.fromSafetensors(bytes, config, { id2label: { 1: 'a', 2: 'b' } })).toThrow(
      /id2label keys must be the class indices 0…1; '0' is missing/,
    );
    expect(() => Yolos.fromSafetensors(bytes, config, { id2label: {} })).toThrow(/id2label is empty/);
  });
});

describe('loadInitialModel: by checkpoint kind and source', () => {
  const labels = { 0: 'p', 1: 'q' };

  it('a YOLOS folder with the target architecture: every tensor but the class output layer', async () => {
    const config = parseConfig(text('yolos-ref/config.json'));
    const { model, report } = await loadInitialModel(fileURLPath('yolos-ref'), config, { seed: 0, id2label: labels });
    expect(report.join('\n')).toMatch(/YOLOS checkpoint with the target's architecture[\s\S]*num_labels 4 → 2/);
    expect(model.config.num_labels).toBe(2);
    model.dispose();
  });

  it('a YOLOS of another architecture gives its backbone only', () => {
    const files = { config: fixture('yolos-ref/config.json'), weights: fixture('yolos-ref/model.safetensors'), where: 'yolos-ref' };
    const small: YolosConfig = {
      ...parseConfig(text('yolos-ref/config.json')),
      image_size: [32, 32],
      num_detection_tokens: 3,
      use_mid_position_embeddings: false,
    };
    const { model, report } = transferFromFiles(files, small, { seed: 0, id2label: labels });
    const all = report.join('\n');
    expect(all).toMatch(
      /image_size \(\[48,64\]\), num_detection_tokens \(5\), use_mid_position_embeddings \(true\)|num_detection_tokens \(5\), use_mid_position_embeddings \(true\), image_size \(\[48,64\]\)/,
    );
    expect(all).toContain("the checkpoint's 5 [DET] PE rows are dropped");
    expect(all).toContain("ignored 'vit.embeddings.detection_tokens' [1,5,32]: replaced by a new one");
    expect([...model.params.get('vit.embeddings.position_embeddings')!.shape]).toEqual([1, 1 + 4 + 3, 32]);
    model.dispose();
  });

  it('a .safetensors path with config.json beside it, and a DeiT by bytes', async () => {
    const vit = await loadInitialModel(fileURLPath('transfer/vit/model.safetensors'), target, { seed: 0 });
    expect(vit.report[0]).toContain("ViT classifier ('vit.*')");
    expect(vit.model.config.id2label).toEqual(target.id2label);
    vit.model.dispose();
    const files = { config: fixture('transfer/deit/config.json'), weights: fixture('transfer/deit/model.safetensors'), where: 'deit' };
    const deit = transferFromFiles(files, parseConfig(text('transfer/deit-yolos/config.json')), { seed: 0, id2label: labels });
    expect(deit.report.join('\n')).toMatch(
      /DeiT classifier with a distillation token[\s\S]*ignored 'deit\.embeddings\.distillation_token' \[1,1,32\]/,
    );
    deit.model.dispose();
  });

  it('a .safetensors without config names both places it looked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'transfer-'));
    try {
      writeFileSync(join(dir, 'w.safetensors'), vitBytes);
      await expect(loadInitialModel(join(dir, 'w.safetensors'), target, { seed: 0 })).rejects.toThrow(
        /w\.safetensors: no config: .*config\.json does not exist and the file has no 'yolos\.config' metadata/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('freezeBackbone', () => {
  it('leaves only the [DET] tokens, the PE tables and the heads trainable; frozen tensors get no gradient', () => {
    const model = Yolos.fromSafetensors(fixture('yolos-ref/model.safetensors'), parseConfig(text('yolos-ref/config.json')));
    freezeBackbone(model);
    const trainable = [...model.params].filter(([, p]) => p.requiresGrad).map(([n]) => n);
    expect(trainable).toEqual(
      parameterShapes(model.config)
        .map(([n]) => n)
        .filter((n) => /detection_tokens|position_embeddings|^class_labels_classifier|^bbox_predictor/.test(n)),
    );
    scope(() => {
      const { logits, boxes } = model.forward(tensor(new Float32Array(3 * 48 * 64).fill(0.5), [1, 3, 48, 64]));
      logits.sum().add(boxes.sum()).backward();
    });
    expect(model.params.get('vit.encoder.layer.0.attention.attention.query.weight')!.grad).toBeFalsy();
    expect(model.params.get('vit.embeddings.detection_tokens')!.grad).toBeTruthy();
    model.dispose();
  });
});
