#!/usr/bin/env python3
"""Exports a Stepwise model file to ONNX with torch.onnx.export, for ONNX Runtime Web (tools/bench/ort.mjs).

    /usr/bin/python3 tools/bench/export_onnx.py [--model weights/g2p-cmudict.safetensors] [--out DIR]

The weights are read back into the PyTorch module they came from (tools/stepwise_py: embeddings +
torch.nn.Transformer + output projection), so ONNX Runtime runs exactly the network Stepwise runs.
Three graphs, opset 14, batch 1, sequence lengths dynamic, token ids int64:

  forward.onnx   src [1, S], tgt [1, T] -> logits [1, T, V]   the teacher-forced pass, causal mask inside
  encoder.onnx   src [1, S]             -> memory [1, S, d]
  decoder.onnx   tgt [1, T], memory     -> logits [1, T, V]   greedy generation the way an exported
                                                               nn.Transformer decoder is run: the whole
                                                               prefix again at every step (no KV cache)

DIR defaults to build/bench/onnx/<model file name without extension>.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stepwise_py.export import load_model  # noqa: E402


class Forward(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, src, tgt):
        return self.model(src, tgt, causal=True)


class Encoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, src):
        return self.model.encode(src)


class Decoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tgt, memory):
        return self.model.decode(tgt, memory, causal=True)


def export(module, args, path, input_names, output_names, dynamic_axes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python values
        # Grad enabled keeps nn.TransformerEncoderLayer off its fused inference fast path, which has no
        # ONNX export; the graph is the same computation.
        with torch.enable_grad():
            torch.onnx.export(module, args, path, opset_version=14, input_names=input_names,
                              output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="weights/g2p-cmudict.safetensors")
    parser.add_argument("--out", help="output folder (default build/bench/onnx/NAME)")
    args = parser.parse_args()
    model = load_model(args.model)
    if not model.encoder_decoder:
        sys.exit("export_onnx.py: only encoder-decoder models are benchmarked against ONNX Runtime")
    out = args.out or os.path.join("build", "bench", "onnx", os.path.splitext(os.path.basename(args.model))[0])
    os.makedirs(out, exist_ok=True)
    src = torch.tensor([[1, 2, 3, 4, 5]], dtype=torch.int64) % len(model.config["source_vocab"]["tokens"])
    tgt = torch.tensor([[model.config["target_vocab"]["tokens"].index(model.config["target_vocab"]["bos"]), 3, 4]])
    with torch.no_grad():
        memory = model.encode(src)
    export(Forward(model), (src, tgt), os.path.join(out, "forward.onnx"), ["src", "tgt"], ["logits"],
           {"src": {1: "S"}, "tgt": {1: "T"}, "logits": {1: "T"}})
    export(Encoder(model), (src,), os.path.join(out, "encoder.onnx"), ["src"], ["memory"],
           {"src": {1: "S"}, "memory": {1: "S"}})
    export(Decoder(model), (tgt, memory), os.path.join(out, "decoder.onnx"), ["tgt", "memory"], ["logits"],
           {"tgt": {1: "T"}, "memory": {1: "S"}, "logits": {1: "T"}})
    sizes = ", ".join(f"{n} {os.path.getsize(os.path.join(out, n)) / 1e6:.1f} MB"
                      for n in ("forward.onnx", "encoder.onnx", "decoder.onnx"))
    print(f"{out}: {sizes}")


if __name__ == "__main__":
    main()
