#!/usr/bin/env bash
# The GPU machine side of bench/gpu-session.sh: unpacks Node and dawn.node from .gpu/, finds a Vulkan setup Dawn
# accepts (each NVIDIA ICD with the system loader, then with the Debian one, then the loader default), remembers it
# in /tmp/gpu-env for the next steps, and runs .gpu/SCRIPT.mjs. Based on shared/device/run.sh.
set -uo pipefail
cd "$(dirname "$0")"
script=$1; shift
bin=/tmp/gpu-bin; mkdir -p $bin; node_bin=$bin/node
[ -x "$node_bin" ] || { xz -dc node.xz > "$node_bin" && chmod +x "$node_bin"; }
[ -f node_modules/webgpu/dist/linux-x64/dawn.node.xz ] && xz -d -f node_modules/webgpu/dist/linux-x64/dawn.node.xz
export XDG_RUNTIME_DIR=$bin
probe() { "$node_bin" -e "import('webgpu').then(async ({create,globals})=>{Object.assign(globalThis,globals);const a=await create([]).requestAdapter({powerPreference:'high-performance'});console.log('adapter:',a?JSON.stringify({vendor:a.info.vendor,arch:a.info.architecture,desc:a.info.description,features:[...a.features]}):'none');process.exit(0)})" 2>/dev/null; }
if [ -f /tmp/gpu-env ]; then . /tmp/gpu-env; else
  echo "== diagnostics"; nvidia-smi -L 2>&1 | head -2
  ls -l /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>&1 | head -20
  ldconfig -p | grep -iE "libvulkan|GLX_nvidia|nvidia-glcore|nvidia-gpucomp" | head
  ok=0
  for loader in system debian; do
    if [ $loader = debian ]; then for f in debs/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
    ldconfig -p | grep -q "libvulkan.so.1 " || continue
    for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/*.json default; do
      if [ "$icd" = default ]; then unset VK_ICD_FILENAMES VK_DRIVER_FILES; else [ -f "$icd" ] || continue; export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; fi
      r=$(probe); echo "loader $loader, icd $icd: $r"
      if [ -n "$r" ] && [ "$r" != "adapter: none" ]; then ok=1; break 2; fi
    done
  done
  { [ -n "${VK_ICD_FILENAMES:-}" ] && echo "export VK_ICD_FILENAMES=$VK_ICD_FILENAMES VK_DRIVER_FILES=$VK_DRIVER_FILES" || echo "unset VK_ICD_FILENAMES VK_DRIVER_FILES"; } > /tmp/gpu-env
  [ $ok = 1 ] || echo "== no adapter with any ICD"
fi
"$node_bin" --enable-source-maps "$script" "$@"
