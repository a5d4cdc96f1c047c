#!/usr/bin/env python3
"""Scores a Stepwise G2P model file with PyTorch (greedy), to check the C++ engine's `stepwise eval`.

    /usr/bin/python3 tools/eval_g2p_torch.py weights/g2p-cmudict.safetensors data/cmudict/test.tsv [--limit N] [--json OUT]

The weights are read from the same file the engine reads (F16 widened to float32), decoding is greedy
and batched, and WER/PER are computed by stepwise_py/metrics.py, the definitions `stepwise eval`
mirrors. The two should agree to the word (greedy outputs can differ only where two logits tie within
float rounding).
"""
import argparse
import json
import time

import torch

from stepwise_py.export import load_model
from stepwise_py.g2p_data import read_split
from stepwise_py.metrics import score
from train_g2p import Encoder, greedy_batch

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("model")
parser.add_argument("data")
parser.add_argument("--limit", type=int, default=0, help="only the first N words of the split")
parser.add_argument("--json", help="write the scores here")
parser.add_argument("--outputs", help="write word<TAB>phonemes lines here")
args = parser.parse_args()

torch.set_num_threads(1)
model = load_model(args.model)
words = read_split(args.data)
if args.limit:
    words = dict(list(words.items())[: args.limit])
t0 = time.time()
outputs = greedy_batch(model, Encoder(model.config), list(words), model.config["max_target_len"])
seconds = time.time() - t0
report = {"model": args.model, "data": args.data, "words": len(words), "decoding": "greedy (PyTorch, batched)",
          "stress": score(outputs, words, stress=True), "no_stress": score(outputs, words, stress=False),
          "seconds": round(seconds, 2)}
s, n = report["stress"], report["no_stress"]
print(f"{args.model} on {args.data}: {len(words)} words, PyTorch greedy")
print(f"WER {100 * s['wer']:.2f} %  PER {100 * s['per']:.2f} %  |  stress-stripped: WER {100 * n['wer']:.2f} %  PER {100 * n['per']:.2f} %")
if args.json:
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
if args.outputs:
    with open(args.outputs, "w") as f:
        for word in words:
            f.write(f"{word}\t{' '.join(outputs[word])}\n")
