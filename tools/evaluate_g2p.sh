#!/usr/bin/env bash
# Measures the shipped G2P model and writes weights/g2p-cmudict.eval.json, the numbers the model card
# (weights/g2p-cmudict.md) reports and CI checks against:
#   - the C++ engine on the whole test split, greedy and beam 5 (WER/PER with and without stress, words/s)
#   - the C++ engine on the fixed 1,000-word slice CI re-evaluates (the first 1,000 test words)
#   - PyTorch on the same weights and split, greedy (the cross-check)
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
node -e '
const fs = require("fs");
const read = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
const [test, slice, torch] = ["test", "slice", "torch"].map((n) => read(`build/eval/${n}.json`));
const out = { model: process.argv[1], machine: process.argv[2], test_split: test, slice_1000: slice, pytorch_greedy: torch };
fs.writeFileSync(process.argv[3], JSON.stringify(out, null, 1) + "\n");
' "$model" "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores" "$out"
echo "wrote $out"
