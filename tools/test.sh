#!/usr/bin/env bash
# Sets everything up, then runs every test: the native build's tests, the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer, ...
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

step "all tests passed"
