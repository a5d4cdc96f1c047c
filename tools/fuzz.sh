#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer (clang-14):
# the model loader (inputs up to 64 kB; and, as loader-large, up to 4 MB from deep and wide JSON seeds),
# the decoding API and the tokenizer. Each target runs SECONDS seconds (default 60)
# from its seeds plus the corpus it grew in earlier runs (build-fuzz/corpus/), then prints its totals.
# A crash stops with the reproducer in build-fuzz/artifacts/: add it to tests/fuzz/regressions/TARGET/.
#
#   bash tools/fuzz.sh [SECONDS] [TARGET...]      e.g. bash tools/fuzz.sh 600 loader
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(loader loader-large api tokenizer)

if [ ! -f build-fuzz/CMakeCache.txt ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEPWISE_FUZZ=ON > /dev/null
fi
# loader-large is the loader's binary on large inputs: its own run, so that megabyte inputs do not slow
# the loader's main run (thousands of executions a second on inputs up to 64 kB) to a few a second.
binaries=$(printf 'fuzz_%s\n' "${targets[@]%-large}" | sort -u)
cmake --build build-fuzz -j "$(nproc)" --target $binaries

for target in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$target
  artifacts=build-fuzz/artifacts/$target/
  mkdir -p "$corpus" "$artifacts"
  # The loader reads whole model files: from the fixtures and shipped models (cut to 64 kB), and in
  # loader-large from deep and wide JSON up to 4 MB (tools/fuzz_seeds.py) as well as the whole models.
  # The other targets read words and options.
  max_len=65536
  binary=fuzz_${target%-large}
  case $target in
    loader) seeds=(tests/fixtures weights) ;;
    loader-large)
      /usr/bin/python3 tools/fuzz_seeds.py build-fuzz/seeds/loader > /dev/null
      seeds=(build-fuzz/seeds/loader tests/fixtures weights)
      max_len=4194304 ;;
    *) seeds=(tests/fuzz/seeds/$target) ;;
  esac
  log=build-fuzz/$target.log
  echo "fuzz_$target: ${seconds}s"
  status=0
  # -dict: the header's vocabulary helps the loader target reach past the JSON parser
  extra=()
  [ "$binary" = fuzz_loader ] && extra=(-dict=tests/fuzz/loader.dict)
  ./build-fuzz/tests/fuzz/$binary "$corpus" "${seeds[@]}" "tests/fuzz/regressions/${target%-large}" -max_total_time="$seconds" \
    -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts" -print_final_stats=1 "${extra[@]}" \
    > "$log" 2>&1 || status=$?
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+' || true)
  largest=$(find "$corpus" "${seeds[@]}" -type f -printf '%s\n' 2>/dev/null | sort -n | tail -1)
  [ "${largest:-0}" -gt "$max_len" ] && largest=$max_len  # (libFuzzer cuts longer seeds to max_len)
  echo "  executions ${execs:-?}, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) files, largest input ${largest:-?} bytes" \
       "(max_len $max_len), crashes $(ls "$artifacts" | wc -l)"
  if [ $status -ne 0 ]; then
    tail -40 "$log"
    echo "fuzz_$target FAILED: reproducer in $artifacts" >&2
    exit 1
  fi
done
