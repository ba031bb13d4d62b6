#!/usr/bin/env bash
# Everything a GPU task measures, in one device run (../shared/GPU.md). Here, first:
#   ../shared/device/pack.sh bench/gpu.ts bench/yolos.ts bench/train.ts
# then one `run` with carry [".gpu"], command `bash bench/gpu-session.sh`, timeout_s 590 (the
# steps are capped at 240 + 60 + 45 + 90 + 120 s; on a GPU each should take well under its cap). Results
# land in $OUT: kernels-<gpu>.json (matmul to 4096³ and attention at 1445 tokens vs TF.js, f32 and
# f16, each kernel layout), yolos-<gpu>.json (YOLOS-Ti 512×672 forward, batch 1 and 8), train-<gpu>*.json
# (nano-16 step; YOLOS-Ti step at 512×672, batch 8) and pytorch-yolos.json (Hugging Face's
# YolosForObjectDetection on the same chip: forward and training step, the anchor).
# Copy them into bench/results/ and the figures into the README.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
export OUT=${OUT:-$root/bench/results}
# the fallback launcher (tries each NVIDIA ICD and the system Vulkan loader; see bench/gpu-run.sh)
cp "$root/bench/gpu-run.sh" "$root/.gpu/run.sh"
step() { local limit=$1; shift; echo "== $*"; timeout "$limit" "$@" || echo "== failed ($?): $*"; }
step 240 bash "$root/.gpu/run.sh" gpu.mjs
step 60 bash "$root/.gpu/run.sh" yolos.mjs --gpu
step 45 bash "$root/.gpu/run.sh" train.mjs
step 90 bash "$root/.gpu/run.sh" train.mjs --model tiny --size 512x672 --batch 8 --steps 5
step 120 python3 "$root/tools/bench_pytorch_yolos.py" "$OUT/pytorch-yolos.json"
ls -l "$OUT"
