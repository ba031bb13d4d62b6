#!/usr/bin/env python3
"""Exports a YOLOS ONNX graph from safetensors weights (Hub key layout) and a Hub config.json, for
bench/ort.ts (ONNX Runtime on the same adapter). Debian's PyTorch 1.13 (/usr/bin/python3) does it;
the onnx package is not needed (torch.onnx serialises itself).

  /usr/bin/python3 tools/export_yolos_onnx.py WEIGHTS.safetensors CONFIG.json OUT.onnx HxW [--fused-attention]

The graph is float32 with static shapes: input `pixel_values` [1, 3, H, W], outputs `logits`
[1, Q, num_labels + 1] and `pred_boxes` [1, Q, 4]. The position embeddings are resized for H×W here
(bicubic, as tools/yolos_reference.py), which is what ORT's constant folding would make of an in-graph
Resize of a constant table. --fused-attention emits each block's attention as one
com.microsoft.MultiHeadAttention node (ORT's contrib op; its WebGPU kernels are the "fused" peer),
otherwise it is MatMul/Softmax/MatMul as PyTorch writes it.
"""
import json, os, struct, sys
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yolos_reference import interp_pe  # noqa: E402  (the reference's bicubic PE resize)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        sys.exit(f"export_yolos_onnx: {path}: too short for a safetensors file ({len(raw)} bytes)")
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base, out = 8 + n, {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            sys.exit(f"export_yolos_onnx: {path}: tensor '{name}' is {meta['dtype']}, expected F32")
        a, b = meta["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + a:base + b]), dtype=torch.float32)
        out[name] = t.reshape(meta["shape"]).clone()
    return out


class MultiHeadAttention(torch.autograd.Function):
    """softmax(q kᵀ/√d) v over [B, L, D] inputs; exported as com.microsoft.MultiHeadAttention."""

    @staticmethod
    def forward(ctx, q, k, v, heads):
        B, L, D = q.shape
        split = lambda t: t.reshape(B, L, heads, D // heads).permute(0, 2, 1, 3)
        att = torch.softmax(split(q) @ split(k).transpose(-1, -2) / (D // heads) ** 0.5, dim=-1) @ split(v)
        return att.permute(0, 2, 1, 3).reshape(B, L, D)

    @staticmethod
    def symbolic(g, q, k, v, heads):
        out = g.op("com.microsoft::MultiHeadAttention", q, k, v, num_heads_i=heads)
        out.setType(q.type())  # [B, L, D] like the query (torch cannot infer a contrib op's shape)
        return out


class Yolos(torch.nn.Module):
    def __init__(self, w, c, H, W, fused):
        super().__init__()
        self.w, self.c, self.fused = w, c, fused
        self.pe = interp_pe(w["vit.embeddings.position_embeddings"].double(), c, H, W).float()
        mid = w.get("vit.encoder.mid_position_embeddings")
        self.mid = [interp_pe(mid[i].double(), c, H, W).float() for i in range(mid.shape[0])] if c.get("use_mid_position_embeddings") else []

    def forward(self, pix):
        w, c = self.w, self.c
        B = pix.shape[0]
        D, h = c["hidden_size"], c["num_attention_heads"]
        d, eps, Q = D // h, c["layer_norm_eps"], c["num_detection_tokens"]
        x = F.conv2d(pix, w["vit.embeddings.patch_embeddings.projection.weight"], w["vit.embeddings.patch_embeddings.projection.bias"], stride=c["patch_size"])
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([w["vit.embeddings.cls_token"].expand(B, -1, -1), x, w["vit.embeddings.detection_tokens"].expand(B, -1, -1)], 1)
        x = x + self.pe
        L = x.shape[1]
        for i in range(c["num_hidden_layers"]):
            p = lambda n: w[f"vit.encoder.layer.{i}.{n}"]
            a = F.layer_norm(x, (D,), p("layernorm_before.weight"), p("layernorm_before.bias"), eps)
            q = F.linear(a, p("attention.attention.query.weight"), p("attention.attention.query.bias"))
            k = F.linear(a, p("attention.attention.key.weight"), p("attention.attention.key.bias"))
            v = F.linear(a, p("attention.attention.value.weight"), p("attention.attention.value.bias"))
            if self.fused:
                att = MultiHeadAttention.apply(q, k, v, h)
            else:
                split = lambda t: t.reshape(B, L, h, d).permute(0, 2, 1, 3)
                att = (torch.softmax(split(q) @ split(k).transpose(-1, -2) / d ** 0.5, dim=-1) @ split(v)).permute(0, 2, 1, 3).reshape(B, L, D)
            x = x + F.linear(att, p("attention.output.dense.weight"), p("attention.output.dense.bias"))
            m = F.layer_norm(x, (D,), p("layernorm_after.weight"), p("layernorm_after.bias"), eps)
            m = F.gelu(F.linear(m, p("intermediate.dense.weight"), p("intermediate.dense.bias")))
            x = x + F.linear(m, p("output.dense.weight"), p("output.dense.bias"))
            if i < len(self.mid):
                x = x + self.mid[i]
        x = F.layer_norm(x, (D,), w["vit.layernorm.weight"], w["vit.layernorm.bias"], eps)
        t = x[:, -Q:]

        def mlp(head):
            y = F.relu(F.linear(t, w[f"{head}.layers.0.weight"], w[f"{head}.layers.0.bias"]))
            y = F.relu(F.linear(y, w[f"{head}.layers.1.weight"], w[f"{head}.layers.1.bias"]))
            return F.linear(y, w[f"{head}.layers.2.weight"], w[f"{head}.layers.2.bias"])

        return mlp("class_labels_classifier"), torch.sigmoid(mlp("bbox_predictor"))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    if len(args) != 4 or any(f != "--fused-attention" for f in flags):
        sys.exit(__doc__)
    weights, config, out, size = args
    try:
        H, W = (int(s) for s in size.lower().split("x"))
    except ValueError:
        sys.exit(f"export_yolos_onnx: size '{size}' must be HxW, e.g. 512x672")
    with open(config) as f:
        c = json.load(f)
    if H % c["patch_size"] or W % c["patch_size"]:
        sys.exit(f"export_yolos_onnx: size {H}x{W} must be multiples of the patch size {c['patch_size']}")
    w = read_safetensors(weights)
    model = Yolos(w, c, H, W, "--fused-attention" in flags).eval()
    pix = torch.zeros(1, c["num_channels"], H, W)
    tmp = out + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, (pix,), tmp, input_names=["pixel_values"], output_names=["logits", "pred_boxes"],
                          opset_version=17, do_constant_folding=True, custom_opsets={"com.microsoft": 1})
    os.replace(tmp, out)  # atomic: a half-written graph never has the final name
    print(f"wrote {out} ({os.path.getsize(out) / 2**20:.1f} MiB, {H}x{W}, {'fused' if model.fused else 'unfused'} attention)")


if __name__ == "__main__":
    main()
