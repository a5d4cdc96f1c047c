#!/usr/bin/env bash
# Sets everything up, then runs every test: the native build's tests, the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer, a short fuzzing run, the WebAssembly build under Node, ...
#
#   bash tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
jobs=$(nproc)

step() { printf '\n=== %s\n' "$*"; }

step "native build and tests (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$jobs"
ctest --test-dir build -j "$jobs" --output-on-failure

step "the same tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEPWISE_SANITIZE=ON > /dev/null
cmake --build build-asan -j "$jobs"
ctest --test-dir build-asan -j "$jobs" --output-on-failure

step "fuzzing: loader, decoding API, tokenizer (libFuzzer + ASan + UBSan, ${FUZZ_SECONDS:-45} s each)"
bash tools/fuzz.sh "${FUZZ_SECONDS:-45}"

step "WebAssembly build (build-wasm/) against the same fixtures, under Node"
bash tools/build_wasm.sh
node --test tests/wasm/

step "all tests passed"
