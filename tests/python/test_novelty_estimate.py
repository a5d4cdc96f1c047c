"""Tests of tools/novelty_estimate.py's counting and estimate (the model card's "new words without memorising").

    /usr/bin/python3 -m unittest discover -s tests/python -t .      # from the repository root
"""
from __future__ import annotations

import os
import sys
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

from novelty_estimate import estimate, sort_samples  # noqa: E402


class NoveltyEstimateTest(unittest.TestCase):
    def test_samples_are_sorted_into_train_unseen_and_new(self):
        counts = sort_samples(["cat", "dog", "zorp", "cat", "emu"], train={"cat", "dog"}, unseen={"emu"})
        self.assertEqual(counts, {"train": 3, "unseen": 1, "new": 1})

    def test_a_model_that_memorises_nothing_is_estimated_as_it_is(self):
        # 1,000 samples; unseen words are 10 % of the headwords and 12 samples are unseen words: without
        # memorising, 120 samples would be headwords, whatever the train count is.
        for train in (108, 175, 400):
            share, error = estimate({"train": train, "unseen": 12, "new": 1000 - train - 12}, 0.1)
            self.assertAlmostEqual(share, 0.88)
            self.assertAlmostEqual(error, (12 ** 0.5) / 0.1 / 1000)


if __name__ == "__main__":
    unittest.main()
