#!/usr/bin/env bash
# Installs everything Stepwise needs on a fresh Debian 12 machine (run as root): the Debian packages and
# the npm packages pinned in package-lock.json. Safe to rerun: it skips what is already installed.
#
#   bash tools/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake g++ make                                   # native build
  libeigen3-dev nlohmann-json3-dev catch2          # the engine's libraries and its tests
  emscripten                                       # the WebAssembly build (clang-14, binaryen)
  clang-14 libclang-rt-14-dev                      # libFuzzer and the sanitizers
  python3-torch python3-numpy libopenblas0-pthread # training and reference outputs (OpenBLAS: 15x faster torch)
  chromium                                         # browser tests and benchmarks
  firefox-esr webkit2gtk-driver xvfb               # the page in Firefox and WebKit (tests/engines/; the driver runs under xvfb-run)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  echo "setup: Node.js 20 and npm are required (they come preinstalled on the target machines)" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
