"""A KV-cached greedy decoder over a StepwiseTransformer's own weights (the benchmark's fair baseline).

    KVEncoder(model)(src)   src [1, S] -> memory [1, S, d], cross_k, cross_v
    KVStep(model)(token, position, self_k, self_v, cross_k, cross_v) -> logits [V], self_k, self_v
    greedy_cached(encoder, step, src, bos, eos, limit) -> the chosen tokens, like model.greedy()

Per decoder layer l (lists of L tensors, batch 1, no batch axis): cross_k[l], cross_v[l] [H, S, dh] are
memory @ W_k / W_v of its encoder-decoder attention, computed once per word (whisper.cpp's `kv_cross`);
self_k[l], self_v[l] [H, P, dh] are the keys and values of the P tokens fed so far (`kv_self`). A step
embeds one token at `position`, appends its keys and values (torch.cat: what goes in comes back one
longer, the way ONNX graphs with past/present tensors run) and attends over the P + 1 of them -- no
mask: a step only ever sees the past. The layer is nn.TransformerDecoderLayer's computation, pre-norm
(norm_first) or post-norm as the model's config says, then the decoder's final LayerNorm and the
generator; the parameters are the model's own tensors, not copies. Written for torch.jit.script and
for torch.onnx.export (export_onnx.py), so plain tensor code: no Python state between calls.
"""
from __future__ import annotations

import math
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import nn


class _Attention(nn.Module):
    """One nn.MultiheadAttention's weights, split into the query, key and value projections."""

    def __init__(self, mha: nn.MultiheadAttention):
        super().__init__()
        d = mha.embed_dim
        self.heads = mha.num_heads
        self.head_dim = d // mha.num_heads
        w, b = mha.in_proj_weight, mha.in_proj_bias  # [3d, d], [3d]: query, key, value rows
        # Views of the module's parameters (slices share storage): the weights are not copied.
        self.w_q, self.w_k, self.w_v = w[:d].detach(), w[d : 2 * d].detach(), w[2 * d :].detach()
        self.b_q, self.b_k, self.b_v = b[:d].detach(), b[d : 2 * d].detach(), b[2 * d :].detach()
        self.w_o, self.b_o = mha.out_proj.weight.detach(), mha.out_proj.bias.detach()
        self.scale = 1.0 / math.sqrt(self.head_dim)

    def heads_of(self, x: torch.Tensor) -> torch.Tensor:
        """[n, d] -> [H, n, dh]"""
        return x.view(x.shape[0], self.heads, self.head_dim).transpose(0, 1)

    def keys_values(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """x [n, d] -> K, V [H, n, dh]"""
        return self.heads_of(F.linear(x, self.w_k, self.b_k)), self.heads_of(F.linear(x, self.w_v, self.b_v))

    def attend(self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """One query x [1, d] over K, V [H, n, dh]: softmax(q k^T / sqrt(dh)) v, heads joined, out_proj."""
        q = self.heads_of(F.linear(x, self.w_q, self.b_q) * self.scale)  # [H, 1, dh]
        weights = torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1)  # [H, 1, n]
        heads = torch.bmm(weights, v)  # [H, 1, dh]
        return F.linear(heads.transpose(0, 1).reshape(1, -1), self.w_o, self.b_o)


class _Layer(nn.Module):
    """nn.TransformerDecoderLayer for one new token, with its self-attention keys/values cached."""

    def __init__(self, layer: nn.TransformerDecoderLayer):
        super().__init__()
        self.norm_first = layer.norm_first
        self.self_attn = _Attention(layer.self_attn)
        self.cross_attn = _Attention(layer.multihead_attn)
        self.norm1, self.norm2, self.norm3 = layer.norm1, layer.norm2, layer.norm3
        self.linear1, self.linear2 = layer.linear1, layer.linear2
        # nn.TransformerDecoderLayer keeps its activation as a function: F.relu or F.gelu (exact)
        self.gelu = layer.activation is F.gelu or isinstance(layer.activation, nn.GELU)

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear1(x)
        return self.linear2(F.gelu(h) if self.gelu else F.relu(h))

    def self_attention(self, x: torch.Tensor, past_k: torch.Tensor, past_v: torch.Tensor):
        k, v = self.self_attn.keys_values(x)
        k, v = torch.cat([past_k, k], dim=1), torch.cat([past_v, v], dim=1)  # append at position P
        return self.self_attn.attend(x, k, v), k, v

    def forward(self, x, past_k, past_v, cross_k, cross_v) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.norm_first:  # pre-norm: x + sublayer(norm(x))
            a, k, v = self.self_attention(self.norm1(x), past_k, past_v)
            x = x + a
            x = x + self.cross_attn.attend(self.norm2(x), cross_k, cross_v)
            x = x + self.feed_forward(self.norm3(x))
        else:  # post-norm (the paper's): norm(x + sublayer(x))
            a, k, v = self.self_attention(x, past_k, past_v)
            x = self.norm1(x + a)
            x = self.norm2(x + self.cross_attn.attend(x, cross_k, cross_v))
            x = self.norm3(x + self.feed_forward(x))
        return x, k, v


class KVEncoder(nn.Module):
    """src [1, S] -> memory [1, S, d], and per decoder layer the cross-attention K and V [H, S, dh]."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.cross = nn.ModuleList([_Attention(layer.multihead_attn) for layer in model.transformer.decoder.layers])

    def forward(self, src: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor], List[torch.Tensor]]:
        memory = self.model.encode(src)
        keys: List[torch.Tensor] = []
        values: List[torch.Tensor] = []
        for attention in self.cross:
            k, v = attention.keys_values(memory[0])
            keys.append(k)
            values.append(v)
        return memory, keys, values


class KVStep(nn.Module):
    """One decoder step: token [1] at position [1] (0-based) -> logits [V] and the caches one longer."""

    def __init__(self, model):
        super().__init__()
        c = model.config
        self.embed = model.tgt_embed
        self.embed_scale = float(model.embed_scale)
        learned = getattr(model, "tgt_pos", None)
        self.positions = (learned.weight if learned is not None else model.pe).detach()  # [max positions, d]
        self.layers = nn.ModuleList([_Layer(layer) for layer in model.transformer.decoder.layers])
        self.final_norm = model.transformer.decoder.norm  # nn.Transformer always has one
        self.generator = model.generator
        self.n_layers = c["n_decoder_layers"]

    def forward(self, token: torch.Tensor, position: torch.Tensor, self_k: List[torch.Tensor], self_v: List[torch.Tensor],
                cross_k: List[torch.Tensor], cross_v: List[torch.Tensor]) -> Tuple[torch.Tensor, List[torch.Tensor], List[torch.Tensor]]:
        x = self.embed(token) * self.embed_scale + self.positions.index_select(0, position)  # [1, d]
        present_k: List[torch.Tensor] = []
        present_v: List[torch.Tensor] = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, self_k[i], self_v[i], cross_k[i], cross_v[i])
            present_k.append(k)
            present_v.append(v)
        return self.generator(self.final_norm(x))[0], present_k, present_v


def empty_cache(step: KVStep) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    """The self-attention caches before the first step: [H, 0, dh] per layer."""
    attention = step.layers[0].self_attn
    shape = (attention.heads, 0, attention.head_dim)
    return [torch.zeros(shape) for _ in step.layers], [torch.zeros(shape) for _ in step.layers]


def greedy_cached(encoder, step, src: torch.Tensor, bos: int, eos: int, limit: int, empty) -> List[int]:
    """Greedy decoding of one word with the caches: the tokens after <s>, ending with </s> if chosen.
    `encoder`, `step`: KVEncoder, KVStep or their TorchScript versions; `empty`: empty_cache(step)."""
    _, cross_k, cross_v = encoder(src)
    self_k, self_v = empty
    token = torch.tensor([bos])
    out: List[int] = []
    while len(out) < limit:
        logits, self_k, self_v = step(token, torch.tensor([len(out)]), self_k, self_v, cross_k, cross_v)
        nxt = int(torch.argmax(logits))
        out.append(nxt)
        if nxt == eos:
            break
        token = torch.tensor([nxt])
    return out
