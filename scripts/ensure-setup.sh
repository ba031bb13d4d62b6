#!/usr/bin/env bash
# Run by `npm test` and `npm start` before anything else: installs node_modules on a fresh clone and,
# on a GPU-less Linux machine, the software WebGPU adapters (as root; otherwise prints the command).
#   usage: ensure-setup.sh [test|start]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-start}"
if [ ! -d node_modules ] || [ ! -d node_modules/webgpu ]; then
  echo "[setup] node_modules missing: npm ci" >&2
  # onnxruntime-node (a bench peer) would otherwise fetch a CUDA provider from outside the npm registry
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >&2
fi
[ "$(uname -s)" = Linux ] || exit 0
has_hw=0
{ ls /dev/nvidia0 || ls /dev/dri/renderD* || ls /dev/kfd; } >/dev/null 2>&1 && has_hw=1
need=0
# the browser tests always drive Debian's chromium (SwiftShader); Node needs lavapipe where no GPU is.
if [ "$what" = test ] && [ ! -x /usr/bin/chromium ]; then need=1; fi
if [ $has_hw = 0 ] && [ ! -f /usr/share/vulkan/icd.d/lvp_icd.json ] && [ ! -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then need=1; fi
if [ $need = 1 ]; then
  echo "[setup] installing the software WebGPU adapters (lavapipe, SwiftShader/chromium)" >&2
  bash scripts/setup-adapter.sh >&2
fi
