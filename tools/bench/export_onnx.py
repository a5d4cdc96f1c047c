#!/usr/bin/env python3
"""Exports a Stepwise model file to ONNX with torch.onnx.export, for ONNX Runtime Web and native (ort.mjs).

    /usr/bin/python3 tools/bench/export_onnx.py [--model weights/g2p-cmudict.safetensors] [--out DIR]

The weights are read back into the PyTorch module they came from (tools/stepwise_py: embeddings +
torch.nn.Transformer + output projection), so ONNX Runtime runs exactly the network Stepwise runs.
Five graphs, opset 14, batch 1, sequence lengths dynamic, token ids int64:

  forward.onnx   src [1, S], tgt [1, T] -> logits [1, T, V]   the teacher-forced pass, causal mask inside
  encoder.onnx   src [1, S]             -> memory [1, S, d]
  decoder.onnx   tgt [1, T], memory     -> logits [1, T, V]   greedy generation the way an exported
                                                               nn.Transformer decoder is run: the whole
                                                               prefix again at every step (no KV cache)
  encoder_kv.onnx  src [1, S] -> memory [1, S, d], cross_k_l, cross_v_l [H, S, dh] for each decoder layer l:
                 the encoder and the cross-attention keys/values, once per word
  step_kv.onnx   token [1], position [1] (0-based), self_k_l, self_v_l [H, P, dh], cross_k_l, cross_v_l
                 -> logits [V], present_k_l, present_v_l [H, P + 1, dh]: one decoder step with a KV cache
                 (kv_decoder.py: the same layers, pre- or post-norm as the model; past in, present out)

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kv_decoder import KVEncoder, KVStep, empty_cache  # noqa: E402


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


class EncoderKV(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.encoder = KVEncoder(model)

    def forward(self, src):
        memory, keys, values = self.encoder(src)
        return (memory, *keys, *values)


class StepKV(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.step = KVStep(model)
        self.layers = model.config["n_decoder_layers"]

    def forward(self, token, position, *caches):  # self_k..., self_v..., cross_k..., cross_v... (L each)
        n = self.layers
        lists = [list(caches[i * n : (i + 1) * n]) for i in range(4)]
        logits, present_k, present_v = self.step(token, position, *lists)
        return (logits, *present_k, *present_v)


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
    # The KV-cached pair, traced with two cached positions (P, S dynamic).
    def names(prefix):  # one tensor per decoder layer
        return [f"{prefix}_{i}" for i in range(model.config["n_decoder_layers"])]

    export(EncoderKV(model), (src,), os.path.join(out, "encoder_kv.onnx"), ["src"],
           ["memory", *names("cross_k"), *names("cross_v")],
           {"src": {1: "S"}, "memory": {1: "S"}, **{n: {1: "S"} for n in names("cross_k") + names("cross_v")}})
    step = StepKV(model)
    with torch.no_grad():
        _, cross_k, cross_v = KVEncoder(model)(src)
        self_k, self_v = empty_cache(step.step)
        for p, token in enumerate(tgt[0, :2].tolist()):
            _, self_k, self_v = step.step(torch.tensor([token]), torch.tensor([p]), self_k, self_v, cross_k, cross_v)
    export(step, (tgt[0, 2:3], torch.tensor([2]), *self_k, *self_v, *cross_k, *cross_v), os.path.join(out, "step_kv.onnx"),
           ["token", "position", *names("self_k"), *names("self_v"), *names("cross_k"), *names("cross_v")],
           ["logits", *names("present_k"), *names("present_v")],
           {**{n: {1: "P"} for n in names("self_k") + names("self_v")}, **{n: {1: "S"} for n in names("cross_k") + names("cross_v")},
            **{n: {1: "P1"} for n in names("present_k") + names("present_v")}})
    sizes = ", ".join(f"{n} {os.path.getsize(os.path.join(out, n)) / 1e6:.1f} MB"
                      for n in ("forward.onnx", "encoder.onnx", "decoder.onnx", "encoder_kv.onnx", "step_kv.onnx"))
    print(f"{out}: {sizes}")


if __name__ == "__main__":
    main()
