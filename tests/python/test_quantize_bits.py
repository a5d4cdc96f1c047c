"""Tests of Q8 export with fewer levels (tools/stepwise_py/export.py quantize_rows / save_model bits=).

    /usr/bin/python3 -m unittest discover -s tests/python -t .      # from the repository root
"""
from __future__ import annotations

import os
import sys
import tempfile
import unittest

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

from stepwise_py.export import load_model, quantize_rows, read_safetensors, save_model  # noqa: E402
from stepwise_py.model import StepwiseTransformer, default_config  # noqa: E402


class QuantizeBitsTest(unittest.TestCase):
    def test_levels_and_error(self):
        w = np.random.default_rng(0).normal(size=(64, 96)).astype(np.float32)
        for bits, levels in ((8, 127), (6, 31), (4, 7)):
            q, scale = quantize_rows(w, bits)
            self.assertEqual(q.dtype, np.int8)
            self.assertEqual(int(np.abs(q).max()), levels)  # each row's largest weight lands on the last level
            err = np.abs(q.astype(np.float32) * scale.astype(np.float32)[:, None] - w)
            # half a step, plus the F16 rounding of the scale
            self.assertTrue(np.all(err <= 0.5 * scale.astype(np.float32)[:, None] * 1.01 + 1e-3 * np.abs(w)))
        with self.assertRaises(ValueError):
            quantize_rows(w, 9)

    def test_six_bit_file_loads_as_q8(self):
        config = default_config(d_model=32, n_heads=4, n_encoder_layers=1, n_decoder_layers=1, d_ff=64, dropout=0.0,
                                max_source_len=8, max_target_len=8,
                                source_vocab={"tokens": ["<pad>", "a", "b"], "split": "chars", "lowercase": True, "pad": "<pad>"},
                                target_vocab={"tokens": ["<pad>", "<s>", "</s>", "X"], "split": "space", "lowercase": False,
                                              "pad": "<pad>", "bos": "<s>", "eos": "</s>"})
        torch.manual_seed(0)
        model = StepwiseTransformer(config).eval()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.safetensors")
            save_model(model, path, "Q8", bits=6)
            tensors, _ = read_safetensors(path)
            matrices = [v for v in tensors.values() if v.dtype == np.int8]
            self.assertTrue(matrices)
            self.assertTrue(all(int(np.abs(m).max()) <= 31 for m in matrices))
            back = load_model(path)  # the products the engine computes
            for name, p in back.state_dict().items():
                ref = model.state_dict()[name]
                step = ref.abs().amax(dim=-1, keepdim=True) / 31 if ref.dim() == 2 else ref.abs() * 1e-3 + 1e-4
                self.assertTrue(torch.all((p - ref).abs() <= step * 0.51 + 1e-3 * ref.abs()), name)
            with self.assertRaises(ValueError):
                save_model(model, path, "F16", bits=6)


if __name__ == "__main__":
    unittest.main()
