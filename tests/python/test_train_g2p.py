"""Tests of the decoder-only model's per-epoch spelling measurements in tools/train_g2p.py.

    /usr/bin/python3 -m unittest discover -s tests/python -t .      # from the repository root

spelling_bits() (bits per letter on the dev headwords, logged after every epoch) must count what
`stepwise eval` reports for the shipped model on the test split (weights/*.eval.json, written by the C++
engine), and sample_spellings() (the share of new words, logged likewise) must be reproducible by its seed
and return only spellings made of the model's letters.
"""
from __future__ import annotations

import json
import os
import sys
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

from stepwise_py.export import load_model  # noqa: E402
from stepwise_py.g2p_data import read_split  # noqa: E402
from train_g2p import Encoder, sample_spellings, spelling_bits  # noqa: E402

MODEL = os.path.join(REPO, "weights", "g2p-cmudict-decoder-only.safetensors")
EVALUATION = os.path.join(REPO, "weights", "g2p-cmudict-decoder-only.eval.json")
TEST_SPLIT = os.path.join(REPO, "data", "cmudict", "test.tsv")


@unittest.skipUnless(os.path.exists(TEST_SPLIT), "data/cmudict/test.tsv: run tools/g2p_data.py (the test command does)")
class SpellingMeasuresTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = load_model(MODEL)
        cls.enc = Encoder(cls.model.config)

    def test_bits_match_the_engines_evaluation(self):
        words = [w for w in read_split(TEST_SPLIT) if all(ch in self.enc.src for ch in w)]
        bits, symbols = spelling_bits(self.model, self.enc, sorted(words))
        with open(EVALUATION) as f:
            engine = json.load(f)["test_split"]["spelling"]
        self.assertEqual(symbols, engine["symbols"])
        self.assertAlmostEqual(bits / engine["bits"], 1.0, delta=1e-5)

    def test_samples_are_letters_and_reproducible(self):
        first = sample_spellings(self.model, self.enc, 64, seed=3)
        self.assertEqual(first, sample_spellings(self.model, self.enc, 64, seed=3))
        self.assertNotEqual(first, sample_spellings(self.model, self.enc, 64, seed=4))
        self.assertEqual(len(first), 64)
        spelled = [w for w in first if w is not None]
        self.assertGreater(len(spelled), 50)  # the shipped model writes a malformed sequence about 1 time in 1,000
        letters = set("abcdefghijklmnopqrstuvwxyz'-.")  # CMUdict's headword characters (tools/stepwise_py/g2p_data.py)
        for word in spelled:
            self.assertTrue(word and set(word) <= letters, word)


if __name__ == "__main__":
    unittest.main()
