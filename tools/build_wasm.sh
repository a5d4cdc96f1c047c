#!/usr/bin/env bash
# Builds the WebAssembly module into build-wasm/stepwise-wasm.js (Emscripten 3.1.6 from Debian).
#
#   bash tools/build_wasm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's emscripten finds its JS dependencies (acorn) only here, not from NodeSource's node.
export NODE_PATH=/usr/share/nodejs
if [ ! -f build-wasm/CMakeCache.txt ]; then
  # emcmake's default test emulator ("node --experimental-wasm-threads") is rejected by Node 20.
  emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release -DSTEPWISE_TESTS=OFF \
    -DCMAKE_CROSSCOMPILING_EMULATOR=node > /dev/null
fi
cmake --build build-wasm -j "$(nproc)"
