#!/usr/bin/env bash
# Measures the shipped G2P model and writes weights/g2p-cmudict.eval.json, the numbers the model card
# (weights/g2p-cmudict.md) reports and CI checks against:
#   - the C++ engine on the whole test split, greedy and beam 5 (WER/PER with and without stress, words/s)
#   - the C++ engine on the fixed 1,000-word slice CI re-evaluates (the first 1,000 test words)
#   - PyTorch on the same weights and split, greedy (the cross-check)
#   - for a decoder-only model (it also models spellings): its bits per letter on the test headwords (in
#     `stepwise eval`'s report) beside character n-grams with interpolated Kneser-Ney smoothing of orders
#     3-6 trained on the train split (tools/spelling_baseline.py), and 1,000 words it invents (temperature 1,
#     seeds 0-999), counted against every CMUdict headword (stepwise invent --known)
#
#   bash tools/evaluate_g2p.sh [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-weights/g2p-cmudict.safetensors}
out=${model%.safetensors}.eval.json
mkdir -p build/eval
[ -f data/cmudict/test.tsv ] || /usr/bin/python3 tools/g2p_data.py
./build/stepwise eval --model "$model" --data data/cmudict/test.tsv --beam 5 --json build/eval/test.json
./build/stepwise eval --model "$model" --data data/cmudict/test.tsv --limit 1000 --beam 0 --json build/eval/slice.json
/usr/bin/python3 tools/eval_g2p_torch.py "$model" data/cmudict/test.tsv --json build/eval/torch.json
rm -f build/eval/ngram-*.json build/eval/invent.json
if ./build/stepwise info --model "$model" | grep -q 'decoder-only'; then
  for order in 3 4 5 6; do /usr/bin/python3 tools/spelling_baseline.py --order $order --samples 1000 --json build/eval/ngram-$order.json; done
  ./build/stepwise invent --model "$model" --count 1000 --seed 0 --temperature 1 \
    --known data/cmudict/train.tsv,data/cmudict/dev.tsv,data/cmudict/test.tsv --json build/eval/invent.json >/dev/null
fi
node -e '
const fs = require("fs");
const read = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
const [test, slice, torch] = ["test", "slice", "torch"].map((n) => read(`build/eval/${n}.json`));
const out = { model: process.argv[1], machine: process.argv[2], test_split: test, slice_1000: slice, pytorch_greedy: torch };
const ngrams = [3, 4, 5, 6].map((n) => `build/eval/ngram-${n}.json`).filter((f) => fs.existsSync(f)).map(read);
if (ngrams.length) out.spelling_baselines = ngrams;
if (fs.existsSync("build/eval/invent.json")) out.invent = read("build/eval/invent.json");
fs.writeFileSync(process.argv[3], JSON.stringify(out, null, 1) + "\n");
' "$model" "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores" "$out"
echo "wrote $out"
