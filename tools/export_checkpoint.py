#!/usr/bin/env python3
"""Exports a training checkpoint (tools/train_g2p.py) to a Stepwise model file.

    /usr/bin/python3 tools/export_checkpoint.py runs/g2p/checkpoint.pt weights/g2p-cmudict.safetensors [--dtype F16|F32|Q8]
"""
import argparse
import os

import torch

from stepwise_py.export import save_model
from stepwise_py.model import StepwiseTransformer

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("checkpoint")
parser.add_argument("out")
parser.add_argument("--dtype", default="F16", choices=["F16", "F32", "Q8"])
args = parser.parse_args()
ckpt = torch.load(args.checkpoint, map_location="cpu")
model = StepwiseTransformer(ckpt["config"])
model.load_state_dict(ckpt["model"])
model.eval()
save_model(model, args.out, args.dtype)
print(f"{args.out}: epoch {ckpt['epoch']}, {os.path.getsize(args.out):,} bytes ({args.dtype})")
