"""The PyTorch module whose state_dict *is* Stepwise's weight format.

    StepwiseTransformer(config)
      src_embed        nn.Embedding(source vocab, d_model)          encoder-decoder only
      src_pos          nn.Embedding(max_source_len, d_model)        "learned" positions only
      transformer      nn.Transformer(batch_first=True, ...)        encoder-decoder only
      decoder          nn.TransformerEncoder(+ final LayerNorm)     decoder-only (GPT-style: no cross-attention)
      tgt_embed        nn.Embedding(target vocab, d_model)
      tgt_pos          nn.Embedding(max_target_len, d_model)        "learned" positions only
      generator        nn.Linear(d_model, target vocab)             weight shared with tgt_embed when tied

Every tensor of `state_dict()` is exported under its own key (see export.py); the C++ engine binds
exactly these names, so a model trained here runs there 1:1. The embedding of token t at position p is

    x = embed(t) * (sqrt(d_model) if scale_embedding else 1) + position(p)

where position() is the sinusoidal table of Vaswani et al. (2017) §3.5 -- computed in float64 and
rounded once to float32, the same way the C++ engine computes it -- or a learned table.

The configuration is a plain dict (JSON-serialisable); its schema is documented in weights/README.md and
validated on load by the engine. `default_config()` lists every field.
"""
from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

FORMAT = "stepwise-transformer"
FORMAT_VERSION = 1


def default_config(**overrides) -> dict:
    """Every configuration field with its default value (an encoder-decoder like the G2P model)."""
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": "unnamed",
        "architecture": "encoder-decoder",  # or "decoder-only"
        "d_model": 128,
        "n_heads": 4,
        "n_encoder_layers": 3,
        "n_decoder_layers": 3,
        "d_ff": 512,
        "activation": "relu",  # or "gelu" (exact, erf-based, as torch's "gelu")
        "norm_first": False,  # False: post-norm (PyTorch's default); True: pre-norm
        "layer_norm_eps": 1e-5,
        "positional_encoding": "sinusoidal",  # or "learned"
        "scale_embedding": True,  # multiply token embeddings by sqrt(d_model)
        "tie_output": False,  # generator.weight is tgt_embed.weight
        "max_source_len": 32,
        "max_target_len": 32,
        "dropout": 0.1,  # training only; the engine ignores it
        "source_vocab": {"tokens": ["<pad>"], "split": "chars", "lowercase": True, "pad": "<pad>"},
        "target_vocab": {
            "tokens": ["<pad>", "<s>", "</s>"],
            "split": "space",
            "lowercase": False,
            "pad": "<pad>",
            "bos": "<s>",
            "eos": "</s>",
        },
    }
    config.update(overrides)
    if config["architecture"] == "decoder-only":
        config["n_encoder_layers"] = 0
        config.pop("source_vocab", None)
        config.pop("max_source_len", None)
    return config


def sinusoidal_table(length: int, d_model: int) -> torch.Tensor:
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)); float64, then float32."""
    position = torch.arange(length, dtype=torch.float64)[:, None]
    inv_freq = torch.pow(10000.0, -torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    table = torch.zeros(length, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * inv_freq)
    table[:, 1::2] = torch.cos(position * inv_freq)[:, : d_model // 2]
    return table.to(torch.float32)


def causal_mask(n: int) -> torch.Tensor:
    """0 where a query may look, -inf on the future: nn.Transformer.generate_square_subsequent_mask(n)."""
    return torch.zeros(n, n).masked_fill(torch.triu(torch.ones(n, n), diagonal=1) == 1, float("-inf"))


class StepwiseTransformer(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.config = dict(config)
        c = self.config
        d = c["d_model"]
        self.encoder_decoder = c["architecture"] == "encoder-decoder"
        self.embed_scale = math.sqrt(d) if c["scale_embedding"] else 1.0
        learned = c["positional_encoding"] == "learned"
        layer_args = dict(
            d_model=d,
            nhead=c["n_heads"],
            dim_feedforward=c["d_ff"],
            dropout=c.get("dropout", 0.0),
            activation=c["activation"],
            layer_norm_eps=c["layer_norm_eps"],
            batch_first=True,
            norm_first=c["norm_first"],
        )
        if self.encoder_decoder:
            self.src_embed = nn.Embedding(len(c["source_vocab"]["tokens"]), d)
            if learned:
                self.src_pos = nn.Embedding(c["max_source_len"], d)
            self.transformer = nn.Transformer(
                num_encoder_layers=c["n_encoder_layers"], num_decoder_layers=c["n_decoder_layers"], **layer_args
            )
        else:
            self.decoder = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(**layer_args),
                c["n_decoder_layers"],
                norm=nn.LayerNorm(d, eps=c["layer_norm_eps"]),
                enable_nested_tensor=False,
            )
        self.tgt_embed = nn.Embedding(len(c["target_vocab"]["tokens"]), d)
        if learned:
            self.tgt_pos = nn.Embedding(c["max_target_len"], d)
        self.generator = nn.Linear(d, len(c["target_vocab"]["tokens"]))
        if c["tie_output"]:
            self.generator.weight = self.tgt_embed.weight
        if not learned:
            longest = max(c.get("max_source_len", 0), c["max_target_len"])
            self.register_buffer("pe", sinusoidal_table(longest, d), persistent=False)
        self.dropout = nn.Dropout(c.get("dropout", 0.0))
        # Embeddings start at N(0, 1/d) so that, scaled by sqrt(d), tokens enter with unit variance.
        for embedding in (getattr(self, "src_embed", None), self.tgt_embed):
            if embedding is not None:
                nn.init.normal_(embedding.weight, std=d**-0.5)

    # -- embeddings --------------------------------------------------------------------------------
    def _embed(self, tokens: torch.Tensor, embed: nn.Embedding, pos: nn.Embedding | None) -> torch.Tensor:
        n = tokens.shape[1]
        positions = pos.weight[:n] if pos is not None else self.pe[:n]
        return self.dropout(embed(tokens) * self.embed_scale + positions)

    # -- the three calls the engine mirrors -----------------------------------------------------------
    def encode(self, src: torch.Tensor, src_padding: torch.Tensor | None = None) -> torch.Tensor:
        """src [B, S] -> memory [B, S, d] (after the final encoder LayerNorm)."""
        x = self._embed(src, self.src_embed, getattr(self, "src_pos", None))
        return self.transformer.encoder(x, src_key_padding_mask=src_padding)

    def decode(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor | None = None,
        causal: bool = True,
        tgt_padding: torch.Tensor | None = None,
        src_padding: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """tgt [B, T] (starting with <s>) -> logits [B, T, target vocab] of the token after each position."""
        x = self._embed(tgt, self.tgt_embed, getattr(self, "tgt_pos", None))
        mask = causal_mask(tgt.shape[1]).to(x.device) if causal else None
        if self.encoder_decoder:
            h = self.transformer.decoder(
                x, memory, tgt_mask=mask, tgt_key_padding_mask=tgt_padding, memory_key_padding_mask=src_padding
            )
        else:
            h = self.decoder(x, mask=mask, src_key_padding_mask=tgt_padding)
        return self.generator(h)

    def forward(self, src, tgt, causal=True, src_padding=None, tgt_padding=None):
        memory = self.encode(src, src_padding) if self.encoder_decoder else None
        return self.decode(tgt, memory, causal, tgt_padding, src_padding)

    @torch.no_grad()
    def greedy(self, src: torch.Tensor | None, prefix: list[int] | None = None, max_new: int | None = None) -> list[int]:
        """Greedy decoding of one sequence (batch 1), recomputing the whole prefix every step (no cache).

        Returns the chosen tokens after <s> and `prefix`, ending with </s> if it was chosen. Like the
        engine, it stops when every decoder position (max_target_len) has been used."""
        vocab = self.config["target_vocab"]["tokens"]
        bos, eos = vocab.index(self.config["target_vocab"]["bos"]), vocab.index(self.config["target_vocab"]["eos"])
        memory = self.encode(src) if self.encoder_decoder else None
        tokens = [bos] + list(prefix or [])
        limit = self.config["max_target_len"] - len(prefix or [])
        if max_new is not None:
            limit = min(limit, max_new)
        out: list[int] = []
        while len(out) < limit:
            nxt = int(torch.argmax(self.decode(torch.tensor([tokens]), memory)[0, -1]))
            out.append(nxt)
            if nxt == eos:
                break
            tokens.append(nxt)
        return out


@contextlib.contextmanager
def record_attention(model: nn.Module):
    """Within this context every nn.MultiheadAttention of `model` records its per-head weights.

    Yields a dict: module name -> list of [B, heads, queries, keys] tensors, one per call. nn.Transformer's
    layers call attention with need_weights=False, and in eval mode the encoder may take a fused fast path
    that skips MultiheadAttention.forward entirely; grad is enabled here so that path is never taken."""
    records: dict[str, list[torch.Tensor]] = {}
    originals = []
    for name, module in model.named_modules():
        if isinstance(module, nn.MultiheadAttention):
            original = module.forward

            def patched(*args, _original=original, _name=name, **kwargs):
                kwargs["need_weights"] = True
                kwargs["average_attn_weights"] = False
                output, weights = _original(*args, **kwargs)
                records.setdefault(_name, []).append(weights.detach())
                return output, weights

            module.forward = patched
            originals.append((module, original))
    try:
        with torch.enable_grad():
            yield records
    finally:
        for module, original in originals:
            module.forward = original
