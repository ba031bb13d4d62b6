#!/usr/bin/env bash
# Installs the software WebGPU adapters on a GPU-less Debian 12 machine (as root):
#   lavapipe   — Mesa 25 Vulkan on the CPU, from bookworm-backports (Debian 12's own Mesa 22 is refused by Dawn)
#   SwiftShader — shipped in Debian's chromium package (also the browser the browser tests drive)
# Idempotent: does nothing when both are present. Prints the command instead when not root.
set -euo pipefail
need_lvp=1; need_swift=1
[ -f /usr/share/vulkan/icd.d/lvp_icd.json ] && need_lvp=0
[ -f /usr/lib/chromium/vk_swiftshader_icd.json ] && [ -x /usr/bin/chromium ] && need_swift=0
[ $need_lvp = 0 ] && [ $need_swift = 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "The software WebGPU adapters are missing. Install them once, as root:" >&2
  echo "  sudo bash scripts/setup-adapter.sh" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ $need_lvp = 1 ] && [ ! -f /etc/apt/sources.list.d/backports.sources ]; then
  cat > /etc/apt/sources.list.d/backports.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
[ $need_lvp = 1 ] && apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
[ $need_swift = 1 ] && apt-get install -y -qq chromium >/dev/null
echo "software WebGPU adapters installed (lavapipe, SwiftShader)"
