#!/usr/bin/python3
"""Backbone-transfer reference (PyTorch 1.13, Debian's python3-torch): builds a small ViT and a
DeiT-with-distillation image classifier in the Hugging Face key layouts (ViTForImageClassification,
DeiTForImageClassificationWithTeacher), then the YOLOS model initialised from each the way the YOLOS
repo does (models/backbone.py `finetune_det`, spec §2.4, §2.9), with the new tensors ([DET] tokens,
their PE, mid PEs, heads) drawn here and saved, so the project's transferred model, given the same new
tensors, must reproduce this forward. The forward is tools/yolos_reference.py's (float64 on the f32
weights); the inputs are sized so the position embeddings are interpolated again at run time.

Usage:  /usr/bin/python3 tools/transfer_reference.py test/fixtures/transfer
Writes <out>/{vit,deit}/{config.json,model.safetensors} (the classifiers) and
<out>/{vit,deit}-yolos/{config.json (the YOLOS target), new.safetensors, io.safetensors}.
"""
import json, math, os, sys
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yolos_reference import forward, save_safetensors  # noqa: E402

D, LAYERS, HEADS, MLP, PATCH, IMAGE, CLASSES = 32, 2, 2, 64, 16, 48, 10


def backbone_config(model_type, arch):
    return {
        "model_type": model_type, "architectures": [arch], "hidden_size": D, "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS, "intermediate_size": MLP, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
        "image_size": IMAGE, "patch_size": PATCH, "num_channels": 3, "qkv_bias": True,
        "id2label": {str(i): f"class{i}" for i in range(CLASSES)}, "torch_dtype": "float32",
    }


def classifier(prefix, distilled, seed):
    """Random weights of a HF ViT/DeiT image classifier (with a pooler for ViT, to be ignored)."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *s: torch.randn(*s, generator=g)
    N = (IMAGE // PATCH) ** 2
    w = {
        f"{prefix}.embeddings.cls_token": 0.5 * rnd(1, 1, D),
        f"{prefix}.embeddings.position_embeddings": 0.5 * rnd(1, (2 if distilled else 1) + N, D),
        f"{prefix}.embeddings.patch_embeddings.projection.weight": rnd(D, 3, PATCH, PATCH) / (3 * PATCH * PATCH) ** 0.5,
        f"{prefix}.embeddings.patch_embeddings.projection.bias": 0.1 * rnd(D),
        f"{prefix}.layernorm.weight": 1 + 0.1 * rnd(D), f"{prefix}.layernorm.bias": 0.1 * rnd(D),
    }
    for i in range(LAYERS):
        p = f"{prefix}.encoder.layer.{i}."
        for n in ["attention.attention.query", "attention.attention.key", "attention.attention.value", "attention.output.dense"]:
            w[p + n + ".weight"], w[p + n + ".bias"] = rnd(D, D) / D ** 0.5, 0.1 * rnd(D)
        w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"] = rnd(MLP, D) / D ** 0.5, 0.1 * rnd(MLP)
        w[p + "output.dense.weight"], w[p + "output.dense.bias"] = rnd(D, MLP) / MLP ** 0.5, 0.1 * rnd(D)
        for n in ["layernorm_before", "layernorm_after"]:
            w[p + n + ".weight"], w[p + n + ".bias"] = 1 + 0.1 * rnd(D), 0.1 * rnd(D)
    if distilled:
        w[f"{prefix}.embeddings.distillation_token"] = 0.5 * rnd(1, 1, D)
        for head in ["cls_classifier", "distillation_classifier"]:
            w[f"{head}.weight"], w[f"{head}.bias"] = rnd(CLASSES, D) / D ** 0.5, 0.1 * rnd(CLASSES)
    else:
        w["classifier.weight"], w["classifier.bias"] = rnd(CLASSES, D) / D ** 0.5, 0.1 * rnd(CLASSES)
        w[f"{prefix}.pooler.dense.weight"], w[f"{prefix}.pooler.dense.bias"] = rnd(D, D) / D ** 0.5, 0.1 * rnd(D)
    return {k: v.float() for k, v in w.items()}


def finetune_det(bb, prefix, cfg, seed):
    """YOLOS's finetune_det on HF-named weights: returns (YOLOS weights in HF layout, the new tensors)."""
    tn = lambda *s: torch.nn.init.trunc_normal_(torch.empty(*s), std=0.02)  # the repo's trunc_normal_(std=.02)
    Q, (H, W) = cfg["num_detection_tokens"], cfg["image_size"]
    pe = bb[f"{prefix}.embeddings.position_embeddings"]
    # The repo's test: √(rows − 1) not an integer means [CLS, dist, patches]: drop row 0, so the
    # distillation token's PE becomes the [CLS] PE (spec §2.9).
    gsz = math.pow(pe.shape[1] - 1, 0.5)
    if int(gsz) - gsz != 0:
        pe = pe[:, 1:, :]
    cls_pe = pe[:, 0:1, :]
    g0 = IMAGE // PATCH
    patch = pe[:, 1:, :].transpose(1, 2).reshape(1, D, g0, g0)
    patch = F.interpolate(patch, size=(H // PATCH, W // PATCH), mode="bicubic", align_corners=False)
    patch = patch.flatten(2).transpose(1, 2)
    torch.manual_seed(seed)  # the new tensors, drawn in a fixed order
    new = {"detection_tokens": tn(1, Q, D), "det_position_embeddings": tn(1, Q, D)}
    if cfg["use_mid_position_embeddings"]:
        new["vit.encoder.mid_position_embeddings"] = tn(LAYERS - 1, 1, 1 + (H // PATCH) * (W // PATCH) + Q, D)
    for head, out in [("class_labels_classifier", cfg["num_labels"] + 1), ("bbox_predictor", 4)]:
        for j, (i, o) in enumerate([(D, D), (D, D), (D, out)]):
            lin = torch.nn.Linear(i, o)  # PyTorch's default init, as the repo's MLP heads
            new[f"{head}.layers.{j}.weight"], new[f"{head}.layers.{j}.bias"] = lin.weight.detach(), lin.bias.detach()
    new = {k: v.detach().float().contiguous() for k, v in new.items()}
    y = {
        "vit.embeddings.cls_token": bb[f"{prefix}.embeddings.cls_token"],
        "vit.embeddings.detection_tokens": new["detection_tokens"],
        "vit.embeddings.position_embeddings": torch.cat([cls_pe, patch, new["det_position_embeddings"]], 1).float().contiguous(),
    }
    for k, v in bb.items():
        if k.startswith(f"{prefix}.encoder.layer.") or k.startswith(f"{prefix}.layernorm.") or k.startswith(f"{prefix}.embeddings.patch_embeddings."):
            y["vit." + k[len(prefix) + 1:]] = v
    for k, v in new.items():
        if k.startswith("vit.encoder.") or k.startswith("class_labels") or k.startswith("bbox"):
            y[k] = v
    return y, new


def yolos_config(image_size, Q, mid, labels):
    return {
        "model_type": "yolos", "architectures": ["YolosForObjectDetection"], "hidden_size": D, "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS, "intermediate_size": MLP, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
        "image_size": image_size, "patch_size": PATCH, "num_channels": 3, "qkv_bias": True, "num_detection_tokens": Q,
        "use_mid_position_embeddings": mid, "num_labels": len(labels), "id2label": {str(i): n for i, n in enumerate(labels)},
    }


CASES = [
    # name, HF prefix, model_type, architecture, distilled, YOLOS target, inputs (the second re-interpolates)
    ("vit", "vit", "vit", "ViTForImageClassification", False, yolos_config([64, 80], 5, False, ["a", "b", "c"]), [(1, 64, 80), (2, 48, 96)]),
    ("deit", "deit", "deit", "DeiTForImageClassificationWithTeacher", True, yolos_config([80, 32], 4, True, ["x", "y"]), [(1, 80, 32), (1, 64, 64)]),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/transfer"
    for n, (name, prefix, mtype, arch, distilled, cfg, inputs) in enumerate(CASES):
        bb = classifier(prefix, distilled, seed=10 + n)
        os.makedirs(os.path.join(out, name), exist_ok=True)
        save_safetensors(os.path.join(out, name, "model.safetensors"), bb)
        with open(os.path.join(out, name, "config.json"), "w") as f:
            json.dump(backbone_config(mtype, arch), f, indent=2)
        y, new = finetune_det(bb, prefix, cfg, seed=20 + n)
        det = os.path.join(out, f"{name}-yolos")
        os.makedirs(det, exist_ok=True)
        with open(os.path.join(det, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        save_safetensors(os.path.join(det, "new.safetensors"), new)
        g = torch.Generator().manual_seed(30 + n)
        io = {"position_embeddings": y["vit.embeddings.position_embeddings"]}
        for i, (B, H, W) in enumerate(inputs):
            pix = torch.randn(B, 3, H, W, generator=g)
            logits, boxes = forward(y, cfg, pix.double())
            io[f"input{i}"] = pix
            for k, v in [(f"logits{i}", logits), (f"boxes{i}", boxes)]:
                hi = v.float()
                io[k], io[k + ".lo"] = hi, (v - hi.double()).float()  # f64 as an f32 pair
            print(name, f"input{i}", (B, 3, H, W), "max |logit|", float(logits.abs().max()))
        save_safetensors(os.path.join(det, "io.safetensors"), io)


if __name__ == "__main__":
    main()
