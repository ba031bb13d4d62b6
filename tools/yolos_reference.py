#!/usr/bin/env python3
"""Independent YOLOS reference (PyTorch 1.13, Debian's python3-torch): builds YOLOS from the spec
(../shared/spec/yolos.md §2, following Hugging Face's YolosForObjectDetection), with seeded weights,
for a small config with mid position embeddings; saves the weights in the HF key layout as safetensors,
the config as a Hub-style config.json, and the logits/boxes for two inputs of different sizes (the
second forces the bicubic position-embedding interpolation, up on one axis and down on the other).

The forward runs in float64 on the f32 weights, so the recorded outputs are the exact answer the f32
GPU model is compared with.   Usage:  python3 tools/yolos_reference.py test/fixtures/yolos-ref
"""
import json, os, struct, sys
import torch
import torch.nn.functional as F

CONFIG = {
    "model_type": "yolos", "architectures": ["YolosForObjectDetection"],
    "hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 2, "intermediate_size": 64,
    "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
    "initializer_range": 0.02, "layer_norm_eps": 1e-12, "image_size": [48, 64], "patch_size": 16,
    "num_channels": 3, "qkv_bias": True, "num_detection_tokens": 5, "use_mid_position_embeddings": True,
    "auxiliary_loss": False, "num_labels": 4, "id2label": {"0": "a", "1": "b", "2": "c", "3": "d"},
    "torch_dtype": "float32",
}


def shapes(c):
    D, L_ = c["hidden_size"], c["num_hidden_layers"]
    gh, gw = c["image_size"][0] // c["patch_size"], c["image_size"][1] // c["patch_size"]
    Q, I, P = c["num_detection_tokens"], c["intermediate_size"], c["patch_size"]
    seq = 1 + gh * gw + Q
    s = {
        "vit.embeddings.cls_token": [1, 1, D], "vit.embeddings.detection_tokens": [1, Q, D],
        "vit.embeddings.position_embeddings": [1, seq, D],
        "vit.embeddings.patch_embeddings.projection.weight": [D, 3, P, P],
        "vit.embeddings.patch_embeddings.projection.bias": [D],
        "vit.encoder.mid_position_embeddings": [L_ - 1, 1, seq, D],
        "vit.layernorm.weight": [D], "vit.layernorm.bias": [D],
    }
    for i in range(L_):
        p = f"vit.encoder.layer.{i}."
        for n in ["attention.attention.query", "attention.attention.key", "attention.attention.value", "attention.output.dense"]:
            s[p + n + ".weight"], s[p + n + ".bias"] = [D, D], [D]
        s[p + "intermediate.dense.weight"], s[p + "intermediate.dense.bias"] = [I, D], [I]
        s[p + "output.dense.weight"], s[p + "output.dense.bias"] = [D, I], [D]
        for n in ["layernorm_before", "layernorm_after"]:
            s[p + n + ".weight"], s[p + n + ".bias"] = [D], [D]
    for head, out in [("class_labels_classifier", c["num_labels"] + 1), ("bbox_predictor", 4)]:
        s[f"{head}.layers.0.weight"], s[f"{head}.layers.0.bias"] = [D, D], [D]
        s[f"{head}.layers.1.weight"], s[f"{head}.layers.1.bias"] = [D, D], [D]
        s[f"{head}.layers.2.weight"], s[f"{head}.layers.2.bias"] = [out, D], [out]
    return s


def make_weights(c, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = {}
    for name, shape in shapes(c).items():
        if "layernorm" in name:
            base = 1.0 if name.endswith("weight") else 0.0
            t = base + 0.1 * torch.randn(shape, generator=g)
        elif name.endswith("bias"):
            t = 0.1 * torch.randn(shape, generator=g)
        elif "token" in name or "position" in name:
            t = 0.5 * torch.randn(shape, generator=g)
        else:
            fan_in = 1
            for d in shape[1:]:
                fan_in *= d
            t = torch.randn(shape, generator=g) / fan_in ** 0.5
        w[name] = t.float()
    return w


def interp_pe(table, c, H, W):
    """HF InterpolateInitialPositionEmbeddings: only the patch part, bicubic, align_corners=False."""
    Q, P = c["num_detection_tokens"], c["patch_size"]
    gh, gw = c["image_size"][0] // P, c["image_size"][1] // P
    cls, det, patch = table[:, :1], table[:, -Q:], table[:, 1:-Q]
    patch = patch.transpose(1, 2).reshape(1, -1, gh, gw)
    patch = F.interpolate(patch, size=(H // P, W // P), mode="bicubic", align_corners=False)
    patch = patch.flatten(2).transpose(1, 2)
    return torch.cat([cls, patch, det], dim=1)


def forward(w, c, pix):
    w = {k: v.double() for k, v in w.items()}
    B, _, H, W = pix.shape
    D, h = c["hidden_size"], c["num_attention_heads"]
    d, eps, Q = D // h, c["layer_norm_eps"], c["num_detection_tokens"]
    x = F.conv2d(pix, w["vit.embeddings.patch_embeddings.projection.weight"], w["vit.embeddings.patch_embeddings.projection.bias"], stride=c["patch_size"])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([w["vit.embeddings.cls_token"].expand(B, -1, -1), x, w["vit.embeddings.detection_tokens"].expand(B, -1, -1)], 1)
    x = x + interp_pe(w["vit.embeddings.position_embeddings"], c, H, W)
    L = x.shape[1]
    for i in range(c["num_hidden_layers"]):
        p = lambda n: w[f"vit.encoder.layer.{i}.{n}"]
        a = F.layer_norm(x, (D,), p("layernorm_before.weight"), p("layernorm_before.bias"), eps)
        split = lambda t: t.reshape(B, L, h, d).permute(0, 2, 1, 3)
        q = split(F.linear(a, p("attention.attention.query.weight"), p("attention.attention.query.bias")))
        k = split(F.linear(a, p("attention.attention.key.weight"), p("attention.attention.key.bias")))
        v = split(F.linear(a, p("attention.attention.value.weight"), p("attention.attention.value.bias")))
        att = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5, dim=-1) @ v
        att = att.permute(0, 2, 1, 3).reshape(B, L, D)
        x = x + F.linear(att, p("attention.output.dense.weight"), p("attention.output.dense.bias"))
        m = F.layer_norm(x, (D,), p("layernorm_after.weight"), p("layernorm_after.bias"), eps)
        m = F.gelu(F.linear(m, p("intermediate.dense.weight"), p("intermediate.dense.bias")))
        x = x + F.linear(m, p("output.dense.weight"), p("output.dense.bias"))
        if c["use_mid_position_embeddings"] and i < c["num_hidden_layers"] - 1:
            x = x + interp_pe(w["vit.encoder.mid_position_embeddings"][i], c, H, W)
    x = F.layer_norm(x, (D,), w["vit.layernorm.weight"], w["vit.layernorm.bias"], eps)
    t = x[:, -Q:]

    def mlp(head):
        y = F.relu(F.linear(t, w[f"{head}.layers.0.weight"], w[f"{head}.layers.0.bias"]))
        y = F.relu(F.linear(y, w[f"{head}.layers.1.weight"], w[f"{head}.layers.1.bias"]))
        return F.linear(y, w[f"{head}.layers.2.weight"], w[f"{head}.layers.2.bias"])

    return mlp("class_labels_classifier"), torch.sigmoid(mlp("bbox_predictor"))


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name].contiguous().float()
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/yolos-ref"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    w = make_weights(CONFIG)
    save_safetensors(os.path.join(out, "model.safetensors"), w)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    g = torch.Generator().manual_seed(1)
    inputs = {"input0": torch.randn(1, 3, 48, 64, generator=g), "input1": torch.randn(2, 3, 80, 32, generator=g)}
    io = dict(inputs)
    for k, pix in inputs.items():
        logits, boxes = forward(w, CONFIG, pix.double())
        io[k.replace("input", "logits")] = logits
        io[k.replace("input", "boxes")] = boxes
        print(k, tuple(pix.shape), "logits", tuple(logits.shape), "max |logit|", float(logits.abs().max()))
    # f64 outputs stored as f32 would lose the exactness we want: store as F32 pairs (hi, lo)
    tensors = {}
    for k, v in io.items():
        v = v.double()
        hi = v.float()
        tensors[k] = hi
        if not k.startswith("input"):
            tensors[k + ".lo"] = (v - hi.double()).float()
    save_safetensors(os.path.join(out, "io.safetensors"), tensors)


if __name__ == "__main__":
    main()
