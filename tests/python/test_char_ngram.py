"""Tests of the character n-gram Kneser-Ney baseline (tools/stepwise_py/char_ngram.py).

    /usr/bin/python3 -m unittest discover -s tests/python -t .      # from the repository root

Normalisation of every level's distribution, a hand-computed Kneser-Ney probability, the discount
estimates, and (when data/cmudict exists, written by tools/g2p_data.py) that higher orders do better on the
real test split.
"""
from __future__ import annotations

import math
import os
import random
import sys
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

from stepwise_py.char_ngram import END, START, CharNgramKN, estimate_discounts  # noqa: E402
from stepwise_py.g2p_data import read_split  # noqa: E402

DATA = os.path.join(REPO, "data", "cmudict")
HAVE_DATA = all(os.path.exists(os.path.join(DATA, f"{s}.tsv")) for s in ("train", "test"))
_TRAIN: list[str] | None = None


def train_words() -> list[str]:
    """The train split's headwords, each once (cached), or a small synthetic corpus without the data."""
    global _TRAIN
    if _TRAIN is None:
        if HAVE_DATA:
            _TRAIN = sorted(read_split(os.path.join(DATA, "train.tsv")))
        else:
            rng = random.Random(7)
            _TRAIN = sorted({"".join(rng.choice("aabcdeeilnorst'") for _ in range(rng.randint(1, 9)))
                             for _ in range(3000)})
    return _TRAIN


class Normalisation(unittest.TestCase):
    def check_sums(self, model: CharNgramKN, rng: random.Random, words: list[str]):
        letters = sorted(model.alphabet)
        contexts = []
        for _ in range(40):  # seen contexts: prefixes of training words, padded
            w = rng.choice(words)
            contexts.append(START * (model.order - 1) + w[:rng.randint(0, len(w))])
        for _ in range(40):  # random (mostly unseen) contexts, some partly padded
            pad = START * rng.randint(0, model.order - 1)
            contexts.append(pad + "".join(rng.choice(letters) for _ in range(model.order)))
        for context in contexts:
            context = (START * model.order + context)[-(model.order - 1):] if model.order > 1 else ""
            for k in range(0, model.order + 1):
                total = math.fsum(model.prob_at_level(k, w, context) for w in model.vocab)
                self.assertAlmostEqual(total, 1.0, delta=1e-9, msg=f"order {model.order} level {k} {context!r}")
                self.assertTrue(all(model.prob_at_level(k, w, context) > 0 for w in model.vocab))

    def test_every_level_sums_to_one(self):
        rng = random.Random(1)
        words = train_words()
        for modified in (False, True):
            for order in range(1, 6):
                model = CharNgramKN(order=order, modified=modified).fit(words)
                self.assertEqual(len(model.vocab), len(model.alphabet) + 1)
                self.check_sums(model, rng, words)

    def test_tiny_corpus_sums_to_one(self):
        # few counts: discounts fall back at some levels, contexts are mostly unseen
        words = ["ab", "abb", "ba", "b", "aab"]
        for modified in (False, True):
            for order in range(1, 6):
                self.check_sums(CharNgramKN(order, modified, alphabet="abc").fit(words), random.Random(2), words)


class HandComputed(unittest.TestCase):
    """Bigram model on {ab, abb, ba} over V = {a, b, </w>}, with S = <s> and E = </w>.

    Padded: S a b E | S a b b E | S b a E.
    Level 2 (top, raw counts): Sa 2, Sb 1, ab 2, bb 1, ba 1, bE 2, aE 1.
        counts of counts n1 = 4 (Sb bb ba aE), n2 = 3 (Sa ab bE)  ->  D2 = 4 / (4 + 2*3) = 0.4
    Level 1 (continuation counts: distinct left neighbours): a {S, b} 2, b {a, S, b} 3, E {b, a} 2; sum 7.
        n1 = 0, so D1 falls back to 0.5. 3 types, so the uniform floor gets 0.5 * 3 / 7.
        P1(a) = (2 - 0.5 + 1.5/3) / 7 = 2/7,  P1(b) = (3 - 0.5 + 0.5) / 7 = 3/7,  P1(E) = 2/7.
        (The raw unigram counts would be a 3, b 4, E 3: the continuation counts are what is tested.)
    P2(b | a) = (c(ab) - D2 + D2 * N1+(a.) * P1(b)) / c(a.) = (2 - 0.4 + 0.4 * 2 * 3/7) / 3 = 13.6 / 21
    P2(a | S) = (2 - 0.4 + 0.4 * 2 * 2/7) / 3 = 12.8 / 21
    P2(E | b) = (2 - 0.4 + 0.4 * 3 * 2/7) / 4 = 13.6 / 28
    P2(a | b) = (1 - 0.4 + 0.4 * 3 * 2/7) / 4 = (0.6 + 2.4/7) / 4 = 6.6 / 28
    """

    def setUp(self):
        self.model = CharNgramKN(order=2, alphabet="").fit(["ab", "abb", "ba"])

    def test_counts_and_discounts(self):
        m = self.model
        self.assertEqual(m.vocab, ["a", "b", END])
        self.assertEqual(m.counts[1], {"a": 2, "b": 3, END: 2})
        self.assertAlmostEqual(m.discounts[2][0], 0.4, delta=1e-15)
        self.assertEqual(m.discounts[1], (0.5, 0.5, 0.5))
        self.assertEqual(m.discount_fallback, [1])

    def test_probabilities(self):
        m = self.model
        self.assertAlmostEqual(m.prob_at_level(1, "a", ""), 2 / 7, delta=1e-12)
        self.assertAlmostEqual(m.prob_at_level(1, "b", ""), 3 / 7, delta=1e-12)
        self.assertAlmostEqual(m.prob("b", "a"), 13.6 / 21, delta=1e-12)
        self.assertAlmostEqual(m.prob("a", "b"), 6.6 / 28, delta=1e-12)
        expected = math.log2(12.8 / 21) + math.log2(13.6 / 21) + math.log2(13.6 / 28)
        self.assertAlmostEqual(m.log2prob("ab"), expected, delta=1e-12)
        bpl, letters, bits = m.bits_per_letter(["ab", "ba"])
        self.assertEqual(letters, 6)
        self.assertAlmostEqual(bits, -(m.log2prob("ab") + m.log2prob("ba")), delta=1e-12)
        self.assertAlmostEqual(bpl, bits / 6, delta=1e-12)

    def test_unseen_character_gets_the_floor(self):
        m = CharNgramKN(order=2, alphabet="abc").fit(["ab", "abb", "ba"])
        # c is never seen: level 1 gives it only the floor's share, 0.5 * 3 / 7 * 1/4; at level 2 after a,
        # only the back-off mass 0.4 * 2 / 3 of that.
        self.assertAlmostEqual(m.prob_at_level(1, "c", ""), 0.5 * 3 / 7 / 4, delta=1e-15)
        self.assertAlmostEqual(m.prob("c", "a"), 0.4 * 2 / 3 * (0.5 * 3 / 7 / 4), delta=1e-15)
        self.assertTrue(math.isfinite(m.log2prob("cc")))
        with self.assertRaises(ValueError):
            m.log2prob("ad")  # d is outside the alphabet: no silent probability


class Discounts(unittest.TestCase):
    def test_estimates(self):
        counts = [1] * 10 + [2] * 4 + [3] * 3 + [4] * 2 + [9] * 5
        y = 10 / (10 + 2 * 4)
        self.assertEqual(estimate_discounts(counts, modified=False), ((y, y, y), False))
        (d1, d2, d3), fell_back = estimate_discounts(counts, modified=True)
        self.assertFalse(fell_back)
        self.assertAlmostEqual(d1, 1 - 2 * y * 4 / 10, delta=1e-15)
        self.assertAlmostEqual(d2, 2 - 3 * y * 3 / 4, delta=1e-15)
        self.assertAlmostEqual(d3, 3 - 4 * y * 2 / 3, delta=1e-15)
        self.assertEqual(estimate_discounts([2, 3, 5], modified=False), ((0.5, 0.5, 0.5), True))
        self.assertEqual(estimate_discounts([1, 1, 2], modified=True), ((0.5, 1.0, 1.5), True))


class RealData(unittest.TestCase):
    def test_frequent_word_beats_its_scrambles(self):
        rng = random.Random(3)
        for word, orders in (("zqxjvkw", range(2, 6)), ("stepwise", range(3, 6))):
            scrambles = set()
            while len(scrambles) < 5:
                letters = list(word)
                rng.shuffle(letters)
                scrambles.add("".join(letters))
            scrambles.discard(word)
            words = train_words() + [word] * 30
            for order in (1, *orders):
                m = CharNgramKN(order=order).fit(words)
                for other in sorted(scrambles):
                    if order == 1:  # a unigram model cannot tell the order of the letters
                        self.assertAlmostEqual(m.log2prob(word), m.log2prob(other), delta=1e-9)
                    else:
                        self.assertGreater(m.log2prob(word), m.log2prob(other) + 10, msg=f"{other} {order}")
                if order == 5:  # 30 of 113k words is 2^-11.9; the 5-gram should come close
                    self.assertGreater(m.log2prob(word), -16, msg=word)

    def test_log2prob_is_the_sum_of_conditionals(self):
        m = CharNgramKN(order=5).fit(train_words())
        for word in ("a", "x", "phoenix", "o'brien", "re-enter"):
            total = sum(math.log2(m.prob(ch, word[:i])) for i, ch in enumerate(word + END))
            self.assertAlmostEqual(m.log2prob(word), total, delta=1e-9)

    @unittest.skipUnless(HAVE_DATA, f"{DATA}/{{train,test}}.tsv missing: run /usr/bin/python3 tools/g2p_data.py")
    def test_five_gram_beats_lower_orders_on_test(self):
        test = sorted(read_split(os.path.join(DATA, "test.tsv")))
        bpl = {n: CharNgramKN(order=n).fit(train_words()).bits_per_letter(test)[0] for n in (1, 2, 5)}
        self.assertLess(bpl[5], bpl[2] - 0.3, msg=str(bpl))
        self.assertLess(bpl[2], bpl[1] - 0.3, msg=str(bpl))
        # a sanity range for English spellings: well under log2(30) = 4.9 bits, well over 1 bit
        self.assertTrue(1.5 < bpl[5] < 4.0, msg=str(bpl))


if __name__ == "__main__":
    unittest.main()
