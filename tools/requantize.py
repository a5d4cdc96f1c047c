#!/usr/bin/env python3
"""Rewrites a Stepwise model file as Q8 whose int8 matrices use fewer levels (fewer bits per weight).

    /usr/bin/python3 tools/requantize.py IN.safetensors OUT.safetensors --bits 6

The file keeps the Q8 layout (int8 matrices, an F16 scale per row, F16 vectors), so the engine loads and
runs it exactly as before; with --bits 6 each row's values lie in [-31, 31], which gzip (what a static
host applies) stores in about 5.4 bits instead of 7.4. The weights are IN's as the engine computes them
(q x scale, or IN's floats), rounded again to the coarser grid. How the shipped G2P model was made this
way, and what it cost in accuracy (nothing measurable): weights/g2p-cmudict.md.
"""
import argparse
import gzip
import os

from stepwise_py.export import load_model, save_model

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("input")
parser.add_argument("output")
parser.add_argument("--bits", type=int, default=6, help="2..8 (default 6)")
args = parser.parse_args()
if not 2 <= args.bits <= 8:
    parser.error(f"--bits must be in [2, 8], got {args.bits}")
save_model(load_model(args.input), args.output, "Q8", bits=args.bits)
for path in (args.input, args.output):
    with open(path, "rb") as f:
        raw = f.read()
    print(f"{path}: {len(raw):,} bytes, {len(gzip.compress(raw, 9)):,} gzipped")
