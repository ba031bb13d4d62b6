#!/usr/bin/env bash
# Installs the software WebGPU adapters on a GPU-less Debian 12 machine (as root):
#   lavapipe   — Mesa 25 Vulkan on the CPU, from bookworm-backports (Debian 12's own Mesa 22 is refused by Dawn)
#   SwiftShader — shipped in Debian's chromium package (also the browser the browser tests drive)
# Idempotent: does nothing when both are present. Prints the command instead when not root.
#
# The backports entry reuses the URI(s) and key of the machine's own `bookworm` entry (deb822
# sources.list.d/*.sources, or the classic sources.list / sources.list.d/*.list), so a machine behind a
# mirror or proxy fetches backports from there too. No bookworm entry: deb.debian.org, with a note.
#   bash scripts/setup-adapter.sh --print-backports-source   # shows the entry; APT_SOURCES_DIR=/etc/apt
set -euo pipefail
SUITE=bookworm
APT_DIR=${APT_SOURCES_DIR:-/etc/apt}

# Prints the first enabled `deb` entry for suite $1 as "URIS<TAB>SIGNED_BY" (Signed-By's continuation
# lines, an inline key, joined with \n); returns 1 when there is none.
find_apt_entry() {
  local suite=$1 f
  for f in "$APT_DIR"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      function has(list, word,   n, i, a) { n = split(list, a, /[ \t]+/); for (i = 1; i <= n; i++) if (a[i] == word) return 1; return 0 }
      function flush(   k) {
        for (k in f) if (k != "signed-by") gsub(/\\n/, " ", f[k])   # multi-line lists are one list
        if (has(f["types"], "deb") && has(f["suites"], suite) && tolower(f["enabled"]) != "no" && f["uris"] != "") { print f["uris"] "\t" f["signed-by"]; found = 1; exit }
        split("", f); key = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { if (key != "") f[key] = f[key] "\\n" $0; next }   # continuation, e.g. an inline key
      { i = index($0, ":"); key = tolower(substr($0, 1, i - 1)); v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); f[key] = v }
      END { if (!found) flush(); exit !found }
    ' "$f" && return 0
  done
  for f in "$APT_DIR"/sources.list "$APT_DIR"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      { sub(/#.*/, "") }
      $1 != "deb" { next }
      {
        i = 2; key = ""
        if ($2 ~ /^\[/) {   # [opt=v opt=v]: may hold spaces, e.g. "[ signed-by=/k.gpg ]"
          for (; i <= NF; i++) {
            o = $i; gsub(/[\[\]]/, "", o)
            if (o ~ /^signed-by=/) key = substr(o, 11)
            if ($i ~ /\]$/) { i++; break }
          }
        }
        if ($(i + 1) == suite) { print $i "\t" key; found = 1; exit }
      }
      END { exit !found }
    ' "$f" && return 0
  done
  return 1
}

# The deb822 stanza for $SUITE-backports, from the machine's $SUITE entry.
backports_source() {
  local entry uris key
  if entry=$(find_apt_entry "$SUITE"); then
    uris=${entry%%$'\t'*}; key=${entry#*$'\t'}
  else
    echo "setup-adapter: no '$SUITE' entry in $APT_DIR/sources.list{,.d/}; using http://deb.debian.org/debian for backports" >&2
    uris=http://deb.debian.org/debian; key=/usr/share/keyrings/debian-archive-keyring.gpg
  fi
  printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\n' "$uris" "$SUITE"
  if [ -n "$key" ]; then printf 'Signed-By: %b\n' "$key"; fi
}

if [ "${1:-}" = --print-backports-source ]; then backports_source; exit 0; fi

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
if [ $need_lvp = 1 ] && ! find_apt_entry "$SUITE-backports" >/dev/null; then
  target=$APT_DIR/sources.list.d/backports.sources
  backports_source > "$target.tmp"
  mv "$target.tmp" "$target"   # atomic: apt never reads half an entry
fi
apt-get update -qq
[ $need_lvp = 1 ] && apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
[ $need_swift = 1 ] && apt-get install -y -qq chromium >/dev/null
echo "software WebGPU adapters installed (lavapipe, SwiftShader)"
