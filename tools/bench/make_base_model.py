#!/usr/bin/env python3
"""Writes a Vaswani "base"-shaped model with seeded random weights, to show how cost grows with size.

    /usr/bin/python3 tools/bench/make_base_model.py [--like weights/g2p-cmudict.safetensors]
                                                    [--out build/bench/base-random.safetensors] [--tiny]
                                                    [--dtype F16|Q8]

d_model 512, 8 heads, d_ff 2048, 6 + 6 layers (Vaswani et al. 2017, Table 3 "base"), post-norm ReLU as
in the paper, sinusoidal positions, max_target_len 256 (the step-latency sweep goes to position 256).
The vocabularies are the --like model's, so the same words run through both. Built with the PyTorch
module whose state_dict is the weight format (tools/stepwise_py/model.py) and its default
initialisation, saved with save_model in F16 (88 MB; the engines widen it to float32, 176 MB), or with
--dtype Q8 as the shipped models are (every matrix int8 with a per-row F16 scale, the vectors F16: 44 MB,
which Stepwise keeps as int8 in memory; PyTorch and ONNX Runtime load it dequantized to float32). Not
committed: it is regenerated (same seed, same file) when missing. --tiny writes a small stand-in of the
same code path (d_model 64, 2 + 2 layers) for the benchmark's --quick setting.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stepwise_py.export import read_safetensors, save_model  # noqa: E402
from stepwise_py.model import StepwiseTransformer, default_config  # noqa: E402

BASE = dict(d_model=512, n_heads=8, n_encoder_layers=6, n_decoder_layers=6, d_ff=2048)
TINY = dict(d_model=64, n_heads=4, n_encoder_layers=2, n_decoder_layers=2, d_ff=256)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--like", default="weights/g2p-cmudict.safetensors", help="model whose vocabularies to use")
    parser.add_argument("--out", default="build/bench/base-random.safetensors")
    parser.add_argument("--tiny", action="store_true", help="a small stand-in for quick runs")
    parser.add_argument("--dtype", choices=["F16", "Q8"], default="F16", help="how the weights are stored")
    args = parser.parse_args()
    _, metadata = read_safetensors(args.like)
    like = json.loads(metadata["stepwise"])
    config = default_config(
        name="base-random-tiny" if args.tiny else "base-random",
        **(TINY if args.tiny else BASE),
        activation="relu",
        norm_first=False,
        positional_encoding="sinusoidal",
        max_source_len=like["max_source_len"],
        max_target_len=256,
        source_vocab=like["source_vocab"],
        target_vocab=like["target_vocab"],
        dropout=0.0,
    )
    torch.manual_seed(0)
    model = StepwiseTransformer(config).eval()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    save_model(model, args.out, args.dtype)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.out}: {config['name']}, {params:,} parameters, {os.path.getsize(args.out) / 1e6:.0f} MB ({args.dtype})")


if __name__ == "__main__":
    main()
