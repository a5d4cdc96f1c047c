#!/usr/bin/env python3
"""Writes tests/fixtures/NAME.probe.json: every intermediate of one teacher-forced pass, captured from
PyTorch with forward hooks, for the engine's step probe ("open the box") to be tested against.

    /usr/bin/python3 tools/make_fixtures.py && /usr/bin/python3 tools/make_probe_fixtures.py

For three fixture models (post-norm and pre-norm encoder-decoders, a decoder-only model) and the first
case of their golden file, with the causal mask, per decoder layer: the layer's input; for each residual
block (masked self-attention, cross-attention, feed-forward) its LayerNorm's output, the sub-layer's
output and the residual sum; for each attention the query, key and value (nn.MultiheadAttention's
in-projection of the hooked inputs), q.k per head, (q / sqrt(d_k)).k, the mask, the weights
(need_weights=True, per head) and the context (weights @ v, heads concatenated); the feed-forward's
hidden units after the activation; then the final LayerNorm's output and the embedding's two terms.

The hooks read what nn.Transformer's modules receive and return; the query/key/value, the scores and
the context, which nn.MultiheadAttention computes inside one fused call, are recomputed here from its
in-projection exactly as torch.nn.functional.multi_head_attention_forward does (q scaled before the
product). Each residual sum is the input of the next LayerNorm (post-norm: this block's own).
"""
from __future__ import annotations

import argparse
import json
import math
import os

import torch
import torch.nn.functional as F

from stepwise_py.export import load_model
from stepwise_py.model import causal_mask, record_attention

FIXTURES = ["postnorm_relu_sinusoidal", "prenorm_gelu_learned_tied", "decoder_only_prenorm_gelu"]


def rows(t: torch.Tensor):
    return t.detach().reshape(t.shape[-2], t.shape[-1]).tolist()


def attention_parts(mha, query_in, key_in, weights, mask):
    """q, k, v, q.k, (q/sqrt(dh)).k per head, mask, weights, context -- as multi_head_attention_forward."""
    d, heads = mha.embed_dim, mha.num_heads
    dh = d // heads
    W, b = mha.in_proj_weight, mha.in_proj_bias
    q = F.linear(query_in, W[:d], b[:d])[0]
    k = F.linear(key_in, W[d : 2 * d], b[d : 2 * d])[0]
    v = F.linear(key_in, W[2 * d :], b[2 * d :])[0]
    out = {"query": rows(q), "key": rows(k), "value": rows(v), "raw": [], "scaled": [], "weights": []}
    context = []
    for h in range(heads):
        qh, kh, vh = q[:, h * dh : (h + 1) * dh], k[:, h * dh : (h + 1) * dh], v[:, h * dh : (h + 1) * dh]
        out["raw"].append((qh @ kh.T).tolist())
        out["scaled"].append(((qh / math.sqrt(dh)) @ kh.T).tolist())
        w = weights[0, h]
        out["weights"].append(w.tolist())
        context.append(w @ vh)
    out["context"] = torch.cat(context, 1).tolist()
    n, m = q.shape[0], k.shape[0]
    out["mask"] = (mask == float("-inf")).int().tolist() if mask is not None else [[0] * m for _ in range(n)]
    return out


def probe(model, source, target):
    c = model.config
    decoder_only = c["architecture"] == "decoder-only"
    layers = model.decoder.layers if decoder_only else model.transformer.decoder.layers
    final_norm = model.decoder.norm if decoder_only else model.transformer.decoder.norm
    seen: dict[str, list] = {}
    handles = []

    def keep(name, what):
        def hook(module, inputs, output):
            seen[name] = (inputs[0] if what == "in" else output).detach()
        return hook

    for l, layer in enumerate(layers):
        handles.append(layer.register_forward_pre_hook(lambda m, i, l=l: seen.__setitem__(f"{l}.input", i[0].detach())))
        handles.append(layer.register_forward_hook(keep(f"{l}.output", "out")))
        norms = ["norm1", "norm2"] if decoder_only else ["norm1", "norm2", "norm3"]
        for n in norms:
            handles.append(getattr(layer, n).register_forward_hook(keep(f"{l}.{n}.out", "out")))
            handles.append(getattr(layer, n).register_forward_hook(keep(f"{l}.{n}.in", "in")))
        handles.append(layer.self_attn.register_forward_hook(lambda m, i, o, l=l: seen.update({f"{l}.sa.q": i[0].detach(), f"{l}.sa.kv": i[1].detach(), f"{l}.sa.out": o[0].detach()})))
        if not decoder_only:
            handles.append(layer.multihead_attn.register_forward_hook(lambda m, i, o, l=l: seen.update({f"{l}.ca.q": i[0].detach(), f"{l}.ca.kv": i[1].detach(), f"{l}.ca.out": o[0].detach()})))
        handles.append(layer.dropout.register_forward_hook(keep(f"{l}.hidden", "in")))  # activation(linear1(x))
        handles.append(layer.linear2.register_forward_hook(keep(f"{l}.ff.out", "out")))
    handles.append(final_norm.register_forward_hook(keep("final", "out")))

    src = torch.tensor([source]) if not decoder_only else None
    tgt = torch.tensor([target])
    with record_attention(model) as weights:
        logits = model(src, tgt) if not decoder_only else model.decode(tgt)
    for h in handles:
        h.remove()

    T = len(target)
    mask = causal_mask(T)
    d = c["d_model"]
    embed_scale = math.sqrt(d) if c["scale_embedding"] else 1.0
    pos = model.tgt_pos.weight[:T] if hasattr(model, "tgt_pos") else model.pe[:T]
    out = {
        "source": source,
        "target": target,
        "token_embedding": (model.tgt_embed(tgt)[0] * embed_scale).tolist(),
        "positional": pos.tolist(),
        "final_normed": rows(seen["final"]),
        "logits": rows(logits),
        "layers": [],
    }
    prefix = "decoder.layers" if decoder_only else "transformer.decoder.layers"
    for l, layer in enumerate(layers):
        blocks = ["self", "ff"] if decoder_only else ["self", "cross", "ff"]
        norms = ["norm1", "norm2"] if decoder_only else ["norm1", "norm2", "norm3"]
        outputs = {"self": seen[f"{l}.sa.out"], "cross": seen.get(f"{l}.ca.out"), "ff": seen[f"{l}.ff.out"]}
        rec = {"input": rows(seen[f"{l}.input"]), "hidden": rows(seen[f"{l}.hidden"])}
        for i, (block, norm) in enumerate(zip(blocks, norms)):
            if c["norm_first"]:  # x + f(norm(x)): the sum is what the next block's norm (or the layer) receives
                total = seen[f"{l}.{norms[i + 1]}.in"] if i + 1 < len(norms) else seen[f"{l}.output"]
            else:  # norm(x + f(x)): the sum is this norm's input
                total = seen[f"{l}.{norm}.in"]
            rec[f"{block}_block"] = {"normed": rows(seen[f"{l}.{norm}.out"]), "output": rows(outputs[block]), "sum": rows(total)}
        sa_w = weights[f"{prefix}.{l}.self_attn"][0]
        rec["self_attention"] = attention_parts(layer.self_attn, seen[f"{l}.sa.q"], seen[f"{l}.sa.kv"], sa_w, mask)
        if not decoder_only:
            ca_w = weights[f"{prefix}.{l}.multihead_attn"][0]
            rec["cross_attention"] = attention_parts(layer.multihead_attn, seen[f"{l}.ca.q"], seen[f"{l}.ca.kv"], ca_w, None)
        out["layers"].append(rec)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="tests/fixtures")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in FIXTURES:
        model = load_model(os.path.join(args.dir, f"{name}.safetensors"))
        with open(os.path.join(args.dir, f"{name}.golden.json")) as f:
            case = json.load(f)["cases"][0]
        with torch.no_grad():
            result = probe(model, case["source"], case["target"])
        path = os.path.join(args.dir, f"{name}.probe.json")
        with open(path, "w") as f:
            json.dump({"name": name, **result}, f, separators=(",", ":"))
        print(f"{path}: {len(result['layers'])} layers, {len(case['target'])} positions")


if __name__ == "__main__":
    main()
