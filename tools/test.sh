#!/usr/bin/env bash
# Sets everything up, then runs every test:
#   1. the native build's tests (engine, parity with PyTorch, invariants, decoding, loader, CLI, G2P)
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. a short fuzzing run of the loader, the decoding API and the tokenizer
#   4. the G2P pipeline: smoke training runs (encoder-decoder and decoder-only) through export and C++
#      load, the spelling baseline's unit tests, and the shipped weights' WER on a fixed 1,000-word
#      test slice against the model card
#   5. the WebAssembly build under Node: golden fixtures, endurance, native/WASM agreement
#   6. the benchmark on a tiny setting, to keep it working
#   7. the page in headless Chromium, served under a sub-path and opened from file://
#   8. the page's core in Firefox ESR and WebKit (WebKitGTK), sub-path and file://; serve.mjs's root
#
#   bash tools/test.sh          (FUZZ_SECONDS=N to fuzz longer than the default 45 s per target)
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

step "fuzzing: loader (to 64 kB, and to 4 MB), decoding API, tokenizer (libFuzzer + ASan + UBSan, ${FUZZ_SECONDS:-45} s each)"
bash tools/fuzz.sh "${FUZZ_SECONDS:-45}"

step "G2P: training smoke runs (tiny models, a few steps, export, C++ load), the spelling baseline, the shipped weights on 1,000 test words"
/usr/bin/python3 tools/g2p_data.py --out data/cmudict
/usr/bin/python3 tools/train_g2p.py --smoke --out build/smoke --export build/smoke/g2p-smoke.safetensors
./build/stepwise generate --model build/smoke/g2p-smoke.safetensors phoenix
/usr/bin/python3 tools/train_g2p.py --smoke --architecture decoder-only --out build/smoke-decoder-only \
  --export build/smoke-decoder-only/g2p-smoke.safetensors
./build/stepwise generate --model build/smoke-decoder-only/g2p-smoke.safetensors phoenix
/usr/bin/python3 -m unittest discover -s tests/python -t .   # the spelling baseline (character n-gram, Kneser-Ney)
for model in g2p-cmudict g2p-cmudict-decoder-only; do   # each shipped model on the slice its card reports
  allowed=$(node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
                     console.log((m.slice_1000.greedy.wer_no_stress + 0.02).toFixed(4))' "weights/$model.eval.json")
  ./build/stepwise eval --model "weights/$model.safetensors" --data data/cmudict/test.tsv --limit 1000 --beam 0 \
    --max-wer "$allowed"
done
./build/stepwise invent --model weights/g2p-cmudict-decoder-only.safetensors --count 3 --seed 0   # it invents

step "WebAssembly build (build-wasm/) under Node: golden fixtures, endurance, agreement with the native build"
bash tools/build_wasm.sh
node --test tests/wasm/

step "the benchmark still runs (a tiny setting; the real run is node tools/bench/run.mjs)"
node tools/bench/run.mjs --quick --no-build --out build/bench-quick > /dev/null

step "the page in headless Chromium (site/, tests/browser/): sub-path and file://, parity with the CLI, abuse"
node tools/build_site.mjs
node --test tests/browser/

step "the page's core in Firefox ESR and WebKitGTK (tests/engines/): sub-path and file://, CLI parity, bad files; serve.mjs stays in its root"
node --test tests/engines/

step "all tests passed"
