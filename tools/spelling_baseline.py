#!/usr/bin/env python3
"""Bits per letter of a character n-gram (interpolated Kneser-Ney) on CMUdict test headwords: the baseline
for the decoder-only Transformer's spellings.

    /usr/bin/python3 tools/spelling_baseline.py                                # 5-gram, data/cmudict
    /usr/bin/python3 tools/spelling_baseline.py --order 6 --json runs/spelling-6gram.json
    /usr/bin/python3 tools/spelling_baseline.py --modified                     # modified KN (D1, D2, D3+)
    /usr/bin/python3 tools/spelling_baseline.py --samples 1000                 # and how often it invents a new word

Trained on the train split's headwords, each once (not once per pronunciation); scored on the test
split's headwords, each once. The dev split is not read.

Definition (the Transformer is measured the same way): a word w = c1..cn is scored as P(c1..cn, </w>),
each character and the end symbol predicted from the previous order-1 characters, with order-1 start
symbols of left padding;

    bits per letter = -sum over test words of log2 P(w, </w>) / sum over test words of (n + 1)

where the +1 counts the end symbol (the Transformer likewise predicts the separator that ends the
spelling). Characters are the headword's as in the TSV (lowercase a-z, ', -, .); the distributions are
over those 29 characters (plus any other seen in training) and </w>, so a character never seen in training
still has probability through the uniform floor. Smoothing: see tools/stepwise_py/char_ngram.py.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

from stepwise_py.char_ngram import END, CharNgramKN
from stepwise_py.g2p_data import read_split


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/cmudict", help="folder with train.tsv and test.tsv")
    p.add_argument("--order", type=int, default=5, help="N of the N-gram (default: 5)")
    p.add_argument("--modified", action="store_true", help="modified Kneser-Ney (three discounts per order)")
    p.add_argument("--json", default=None, metavar="OUT", help="also write the result here as JSON")
    p.add_argument("--samples", type=int, default=0, metavar="N",
                   help="also sample N words (seeds 0..N-1, temperature 1) and count those that are no CMUdict "
                        "headword (train, dev and test), as `stepwise invent --known` counts a model's inventions")
    return p.parse_args()


def novelty(model, samples: int, known: set) -> float:
    """The share of `samples` words sampled from the model (seed i for sample i) that are not in `known`."""
    vocab = sorted(model.vocab)
    novel = 0
    for seed in range(samples):
        rng, word = random.Random(seed), ""
        while len(word) < 64:
            ch = rng.choices(vocab, [model.prob(c, word) for c in vocab])[0]
            if ch == END:
                break
            word += ch
        novel += word not in known
    return novel / samples


def main():
    args = parse_args()
    paths = {s: os.path.join(args.data, f"{s}.tsv") for s in ("train", "test")}
    for path in paths.values():
        if not os.path.exists(path):
            sys.exit(f"error: {path} not found; run `/usr/bin/python3 tools/g2p_data.py` first")
    train = sorted(read_split(paths["train"]))  # headwords, each once
    test = sorted(read_split(paths["test"]))
    t0 = time.perf_counter()
    model = CharNgramKN(order=args.order, modified=args.modified).fit(train)
    t1 = time.perf_counter()
    bpl, letters, bits = model.bits_per_letter(test)
    t2 = time.perf_counter()
    result = {
        "model": "char n-gram, " + ("modified" if args.modified else "interpolated") + " Kneser-Ney",
        "order": args.order,
        # discounts[k-1]: the discount of level k (k characters: k-1 of context, then the predicted one);
        # with --modified, the triple (D1, D2, D3+) of that level
        "discounts": [list(d) if args.modified else d[0] for d in model.discounts[1:]],
        "discount_fallback_levels": model.discount_fallback,
        "vocabulary": len(model.vocab),
        "train_words": len(train),
        "test_words": len(test),
        "test_letters": letters,  # sum of (len + 1): the end symbol counts as a letter
        "test_bits": bits,
        "bits_per_letter": bpl,
        "bits_per_word": bits / len(test),
        "fit_seconds": round(t1 - t0, 3),
        "score_seconds": round(t2 - t1, 3),
        "data": args.data,
    }
    if args.samples > 0:
        known = set(train) | set(test) | set(read_split(os.path.join(args.data, "dev.tsv")))
        result["samples"] = args.samples
        result["not_headwords"] = novelty(model, args.samples, known)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
    print(f"{result['model']}, order {args.order}: {bpl:.4f} bits per letter "
          f"({bits:.1f} bits over {letters} letters incl. end symbols, {len(test)} test words; "
          f"{len(train)} train words; fit {t1 - t0:.2f} s, score {t2 - t1:.2f} s)")
    if args.samples > 0:
        print(f"of {args.samples} words sampled from it (temperature 1, seeds 0-{args.samples - 1}), "
              f"{100 * result['not_headwords']:.1f} % are no CMUdict headword")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
