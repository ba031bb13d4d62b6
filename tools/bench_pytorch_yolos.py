#!/usr/bin/env python3
"""The anchor for bench/yolos.ts on a GPU machine (../shared/GPU.md): Hugging Face's
YolosForObjectDetection (random weights, hustvl/yolos-tiny's config, no download) on the same GPU —
forward latency at 512×672, batch 1 and 8 (median of 20 after warm-up, CUDA-synchronised), and peak
memory; then one training step (forward + Hugging Face's set loss + backward + clip 0.1 + AdamW) at
batch 8, random images with 5 random boxes each (the counterpart of bench/train.ts --model tiny
--size 512x672 --batch 8).   python3 tools/bench_pytorch_yolos.py [out.json]"""
import json, statistics, sys, time
import torch
from transformers import YolosConfig, YolosForObjectDetection

cfg = YolosConfig(hidden_size=192, num_hidden_layers=12, num_attention_heads=3, intermediate_size=768,
                  image_size=[800, 1333], use_mid_position_embeddings=False, num_labels=91)
dev = "cuda" if torch.cuda.is_available() else "cpu"
model = YolosForObjectDetection(cfg).to(dev).eval()
rows = []
for batch in (1, 8):
    x = torch.randn(batch, 3, 512, 672, device=dev)
    with torch.no_grad():
        for _ in range(3):
            model(pixel_values=x)
        if dev == "cuda":
            torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(20):
            t = time.perf_counter(); model(pixel_values=x)
            if dev == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - t) * 1000)
    peak = torch.cuda.max_memory_allocated() / 2**20 if dev == "cuda" else None
    rows.append({"model": "tiny", "size": "512x672", "batch": batch, "msPerForward": statistics.median(times), "peakMiB": peak})
    print(rows[-1])


def train_step(batch=8, steps=10):
    """Median ms of a training step; HF's loss needs scipy (its matcher), so a failure is reported."""
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 512, 672, generator=gen).to(dev)
    labels = [{"class_labels": torch.randint(0, 91, (5,), generator=gen).to(dev),
               "boxes": torch.cat([0.2 + 0.6 * torch.rand(5, 2, generator=gen), 0.05 + 0.3 * torch.rand(5, 2, generator=gen)], 1).to(dev)}
              for _ in range(batch)]
    times = []
    for i in range(3 + steps):
        t = time.perf_counter()
        loss = model(pixel_values=x, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if dev == "cuda":
            torch.cuda.synchronize()
        if i >= 3:
            times.append((time.perf_counter() - t) * 1000)
    return {"model": "tiny", "size": "512x672", "batch": batch, "msPerTrainStep": statistics.median(times), "loss": float(loss)}


try:
    train = train_step()
except Exception as e:  # e.g. scipy missing for the matcher
    train = {"error": f"{type(e).__name__}: {e}"}
print(train)
out = {"device": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "torch": torch.__version__, "rows": rows, "train": train}
if len(sys.argv) > 1:
    json.dump(out, open(sys.argv[1], "w"), indent=2)
