#!/usr/bin/env bash
# The settings tried for the decoder-only G2P model (weights/g2p-cmudict-decoder-only.md has the table of
# what each reached): eight trainings side by side, all with the G2P model's data, batch size, Adam and
# schedule, no label smoothing, every one at most 2 M parameters.
#
#   bash tools/sweep_decoder_only.sh [--device cuda] [--deadline SECONDS] [--out runs/sweep-decoder-only]
#
# On a GPU the eight run at once in a few minutes; on two CPU cores they take days (run them one by one
# with tools/train_g2p.py and the same options instead).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f data/cmudict/train.tsv ] || /usr/bin/python3 tools/g2p_data.py
python=${PYTHON:-/usr/bin/python3}
common="--architecture decoder-only --label-smoothing 0"
exec "$python" tools/sweep.py --out runs/sweep-decoder-only "$@" \
  "L6-d160-p15-e20: $common --decoder-layers 6 --d-model 160 --heads 5 --d-ff 640 --dropout 0.15 --epochs 20" \
  "L6-d160-p10-e30: $common --decoder-layers 6 --d-model 160 --heads 5 --d-ff 640 --dropout 0.1 --epochs 30" \
  "L6-d160-p20-e30: $common --decoder-layers 6 --d-model 160 --heads 5 --d-ff 640 --dropout 0.2 --epochs 30" \
  "L6-d160-p30-e30: $common --decoder-layers 6 --d-model 160 --heads 5 --d-ff 640 --dropout 0.3 --epochs 30" \
  "L4-d192-p20-e30: $common --decoder-layers 4 --d-model 192 --heads 6 --d-ff 768 --dropout 0.2 --epochs 30" \
  "L8-d136-p20-e30: $common --decoder-layers 8 --d-model 136 --heads 4 --d-ff 544 --dropout 0.2 --epochs 30" \
  "L5-d176-p20-e30: $common --decoder-layers 5 --d-model 176 --heads 4 --d-ff 704 --dropout 0.2 --epochs 30" \
  "L4-d128-p10-e30: $common --decoder-layers 4 --d-model 128 --heads 4 --d-ff 512 --dropout 0.1 --epochs 30"
