#!/usr/bin/python3
"""The PyTorch CPU counterpart of `npx tsx bench/train.ts` (nano-16, 64×64, batch 16) on the same
machine: the YOLOS of tools/yolos_reference.py (its parameter shapes and fan-in init) in f32, then
forward + DETR's Hungarian-matched set loss (scipy's linear_sum_assignment on the class/L1/GIoU cost;
CE with no-object weight 0.1, L1 ×5, GIoU ×2) + backward + clip_grad_norm_(0.1) + AdamW (foreach).
Targets are 3 random boxes per image over the 3 classes (bench/train.ts draws them from the shapes
data; the matcher and loss take ≈ 1 ms either way). Median of --steps after 3 warm-ups, torch's
default CPU threads.   python3 tools/pytorch_train_step.py [--steps 20] [--batch 16] [--out file.json]"""
import argparse, json, os, statistics, sys, time
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yolos_reference import make_weights  # noqa: E402

NANO16 = {"hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 2, "intermediate_size": 256,
          "image_size": [64, 64], "patch_size": 16, "num_detection_tokens": 10, "num_labels": 3,
          "layer_norm_eps": 1e-12, "use_mid_position_embeddings": False}


def forward(w, c, pix):
    B = pix.shape[0]
    D, h, Q, eps = c["hidden_size"], c["num_attention_heads"], c["num_detection_tokens"], c["layer_norm_eps"]
    d = D // h
    x = F.conv2d(pix, w["vit.embeddings.patch_embeddings.projection.weight"], w["vit.embeddings.patch_embeddings.projection.bias"], stride=c["patch_size"]).flatten(2).transpose(1, 2)
    x = torch.cat([w["vit.embeddings.cls_token"].expand(B, -1, -1), x, w["vit.embeddings.detection_tokens"].expand(B, -1, -1)], 1)
    x = x + w["vit.embeddings.position_embeddings"]
    L = x.shape[1]
    split = lambda t: t.reshape(B, L, h, d).permute(0, 2, 1, 3)
    for i in range(c["num_hidden_layers"]):
        p = lambda n: w[f"vit.encoder.layer.{i}.{n}"]
        a = F.layer_norm(x, (D,), p("layernorm_before.weight"), p("layernorm_before.bias"), eps)
        q, k, v = (split(F.linear(a, p(f"attention.attention.{n}.weight"), p(f"attention.attention.{n}.bias"))) for n in ("query", "key", "value"))
        att = (torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5, dim=-1) @ v).permute(0, 2, 1, 3).reshape(B, L, D)
        x = x + F.linear(att, p("attention.output.dense.weight"), p("attention.output.dense.bias"))
        m = F.gelu(F.linear(F.layer_norm(x, (D,), p("layernorm_after.weight"), p("layernorm_after.bias"), eps), p("intermediate.dense.weight"), p("intermediate.dense.bias")))
        x = x + F.linear(m, p("output.dense.weight"), p("output.dense.bias"))
    t = F.layer_norm(x, (D,), w["vit.layernorm.weight"], w["vit.layernorm.bias"], eps)[:, -Q:]

    def mlp(head):
        y = F.relu(F.linear(t, w[f"{head}.layers.0.weight"], w[f"{head}.layers.0.bias"]))
        y = F.relu(F.linear(y, w[f"{head}.layers.1.weight"], w[f"{head}.layers.1.bias"]))
        return F.linear(y, w[f"{head}.layers.2.weight"], w[f"{head}.layers.2.bias"])

    return mlp("class_labels_classifier"), torch.sigmoid(mlp("bbox_predictor"))


def xyxy(b):
    cx, cy, bw, bh = b.unbind(-1)
    return torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)


def giou(a, b):
    """Pairwise generalized IoU of xyxy boxes a [n, 4], b [m, 4]."""
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
    lt, rb = torch.max(a[:, None, :2], b[:, :2]), torch.min(a[:, None, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area(a)[:, None] + area(b) - inter
    lt2, rb2 = torch.min(a[:, None, :2], b[:, :2]), torch.max(a[:, None, 2:], b[:, 2:])
    hull = (rb2 - lt2).clamp(min=0).prod(-1)
    return inter / union - (hull - union) / hull


def set_loss(logits, boxes, targets, num_classes):
    B, Q, _ = logits.shape
    with torch.no_grad():  # the matcher: one cost matrix per image, solved on the host
        prob = logits.softmax(-1)
        idx = []
        for b, (lab, box) in enumerate(targets):
            cost = 5 * torch.cdist(boxes[b], box, p=1) - prob[b][:, lab] - 2 * giou(xyxy(boxes[b]), xyxy(box))
            idx.append(linear_sum_assignment(cost.numpy()))
    target_classes = torch.full((B, Q), num_classes, dtype=torch.long)
    for b, (q, t) in enumerate(idx):
        target_classes[b, q] = targets[b][0][t]
    weight = torch.ones(num_classes + 1)
    weight[-1] = 0.1
    loss_ce = F.cross_entropy(logits.transpose(1, 2), target_classes, weight)
    src = torch.cat([boxes[b, q] for b, (q, _) in enumerate(idx)])
    tgt = torch.cat([targets[b][1][t] for b, (_, t) in enumerate(idx)])
    n = max(len(tgt), 1)
    loss_bbox = F.l1_loss(src, tgt, reduction="sum") / n
    loss_giou = (1 - torch.diag(giou(xyxy(src), xyxy(tgt)))).sum() / n
    return loss_ce + 5 * loss_bbox + 2 * loss_giou


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--out")
    args = ap.parse_args()
    c = NANO16
    w = {k: torch.nn.Parameter(v) for k, v in make_weights(c).items() if "mid_position" not in k}  # nano-16 has none
    opt = torch.optim.AdamW(w.values(), lr=5e-4, weight_decay=1e-4, foreach=True)
    g = torch.Generator().manual_seed(0)
    times = []
    for step in range(args.steps + 3):
        pix = torch.rand(args.batch, 3, *c["image_size"], generator=g) * 2 - 1
        targets = [(torch.randint(0, c["num_labels"], (3,), generator=g), torch.cat([0.2 + 0.6 * torch.rand(3, 2, generator=g), 0.05 + 0.3 * torch.rand(3, 2, generator=g)], 1)) for _ in range(args.batch)]
        t0 = time.perf_counter()
        logits, boxes = forward(w, c, pix)
        loss = set_loss(logits, boxes, targets, c["num_labels"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(w.values(), 0.1)
        opt.step()
        if step >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    result = {"framework": f"PyTorch {torch.__version__} CPU", "threads": torch.get_num_threads(), "model": "nano16", "size": c["image_size"],
              "batch": args.batch, "steps": args.steps, "msPerStep": statistics.median(times), "loadavg": os.getloadavg()[0]}
    print(json.dumps(result))
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps(result, indent=2) + "\n")
        os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
