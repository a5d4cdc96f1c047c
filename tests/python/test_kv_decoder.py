"""Tests of the benchmark's KV-cached PyTorch decoder (tools/bench/kv_decoder.py) against the module itself.

    /usr/bin/python3 -m unittest discover -s tests/python -t .      # from the repository root

On seeded random models of every layer variant the engine supports (pre-norm and post-norm, ReLU and
GELU, sinusoidal and learned positions, tied output): each cached step's logits equal the teacher-forced
pass's at that position (float32 summation order differs: 1e-5), greedy decoding chooses the same tokens
as StepwiseTransformer.greedy() (which recomputes the whole prefix), and the TorchScript step agrees.
"""
from __future__ import annotations

import os
import sys
import unittest

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tools", "bench"))

from kv_decoder import KVEncoder, KVStep, empty_cache, greedy_cached  # noqa: E402
from stepwise_py.model import StepwiseTransformer, default_config  # noqa: E402

VARIANTS = {
    "pre-norm, relu": dict(norm_first=True, activation="relu"),
    "post-norm, gelu": dict(norm_first=False, activation="gelu"),
    "post-norm, learned positions, tied output": dict(norm_first=False, positional_encoding="learned", tie_output=True),
}


def random_model(seed: int, **overrides) -> StepwiseTransformer:
    source = ["<pad>"] + list("abcdefgh")
    target = ["<pad>", "<s>", "</s>"] + [f"P{i}" for i in range(9)]
    config = default_config(d_model=32, n_heads=4, n_encoder_layers=2, n_decoder_layers=2, d_ff=64, dropout=0.0,
                            max_source_len=12, max_target_len=10,
                            source_vocab={"tokens": source, "split": "chars", "lowercase": True, "pad": "<pad>"},
                            target_vocab={"tokens": target, "split": "space", "lowercase": False, "pad": "<pad>",
                                          "bos": "<s>", "eos": "</s>"}, **overrides)
    torch.manual_seed(seed)
    model = StepwiseTransformer(config).eval()
    with torch.no_grad():  # no </s> bias: random models then decode to the length limit more often
        model.generator.bias[2] -= 1.0
    return model


class KVDecoderTest(unittest.TestCase):
    def test_steps_match_the_teacher_forced_pass_and_greedy(self):
        for name, overrides in VARIANTS.items():
            for seed in range(3):
                with self.subTest(variant=name, seed=seed), torch.inference_mode():
                    model = random_model(seed, **overrides)
                    encoder, step = KVEncoder(model).eval(), KVStep(model).eval()
                    scripted = torch.jit.script(KVStep(model).eval())
                    src = torch.randint(1, 9, (1, 3 + seed * 3))
                    expected = model.greedy(src)
                    for decoder in (step, scripted):
                        self.assertEqual(greedy_cached(encoder, decoder, src, 1, 2, 10, empty_cache(step)), expected)
                    # every position's logits against the full pass over <s> + the greedy output
                    fed = [1] + expected[:-1]
                    full = model(src, torch.tensor([fed]))[0]
                    _, cross_k, cross_v = encoder(src)
                    self_k, self_v = empty_cache(step)
                    for p, token in enumerate(fed):
                        logits, self_k, self_v = step(torch.tensor([token]), torch.tensor([p]), self_k, self_v, cross_k, cross_v)
                        self.assertEqual(self_k[0].shape[1], p + 1)
                        torch.testing.assert_close(logits, full[p], atol=1e-5, rtol=1e-5)


if __name__ == "__main__":
    unittest.main()
