"""How many new words would a decoder-only model invent if it memorised nothing?

Samples COUNT words from `<s>` with the C++ engine (`stepwise invent`, temperature 1, seeds 0..COUNT-1)
and sorts them: train headwords (the model saw them), dev or test headwords (it never did) and new words.
A model that wrote train words no more often than words it never saw would write headwords at the rate of
the unseen ones divided by their share of all headwords; one minus that is its share of new words with
memorising taken out (the model card's figure; issue 12's goal is >= 90 % new words).

    /usr/bin/python3 tools/novelty_estimate.py [--model FILE] [--count N] [--json OUT]

Needs the native build (build/stepwise) and data/cmudict/ (tools/g2p_data.py).
"""
import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

from stepwise_py.g2p_data import read_split

ROOT = Path(__file__).resolve().parent.parent
SPLITS = ROOT / "data" / "cmudict"


def headwords(split):
    return set(read_split(str(SPLITS / f"{split}.tsv")))


def sort_samples(words, train, unseen):
    """Counts of the samples that are train headwords, unseen (dev/test) headwords, and neither."""
    counts = {"train": 0, "unseen": 0, "new": 0}
    for w in words:
        counts["train" if w in train else "unseen" if w in unseen else "new"] += 1
    return counts


def estimate(counts, unseen_share):
    """Share of new words (and its standard error) if train words were written no more often than unseen ones."""
    n = sum(counts.values())
    headword_samples = counts["unseen"] / unseen_share
    # Poisson error of the unseen count, carried through the division.
    return 1.0 - headword_samples / n, math.sqrt(counts["unseen"]) / unseen_share / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(ROOT / "weights" / "g2p-cmudict-decoder-only.safetensors"))
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--json", help="also write the counts and the estimate here")
    args = ap.parse_args()
    if args.count < 1:
        sys.exit("novelty_estimate.py: --count must be at least 1")
    train, dev, test = headwords("train"), headwords("dev"), headwords("test")
    unseen = (dev | test) - train
    unseen_share = len(unseen) / len(train | unseen)
    run = subprocess.run([str(ROOT / "build" / "stepwise"), "invent", "--model", args.model, "--count", str(args.count),
                          "--seed", "0", "--temperature", "1"], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"novelty_estimate.py: stepwise invent failed: {run.stderr.strip()}")
    words = [line.split("\t", 1)[0] for line in run.stdout.splitlines() if line]
    if len(words) != args.count:
        sys.exit(f"novelty_estimate.py: expected {args.count} samples, got {len(words)}")
    counts = sort_samples(words, train, unseen)
    share, error = estimate(counts, unseen_share)
    result = {"model": Path(args.model).name, "samples": args.count, "temperature": 1.0, "first_seed": 0,
              "train_headwords": counts["train"], "unseen_headwords": counts["unseen"], "new": counts["new"],
              "unseen_share_of_headwords": unseen_share, "new_share": counts["new"] / args.count,
              "new_share_without_memorising": share, "standard_error": error}
    print(f"{args.count} samples: {counts['new']} new ({100 * counts['new'] / args.count:.1f} %), "
          f"{counts['train']} train headwords, {counts['unseen']} dev/test headwords "
          f"({100 * unseen_share:.2f} % of the headwords)")
    print(f"new words if train words were written no more often than unseen ones: {100 * share:.1f} % "
          f"(± {100 * error:.1f}, one standard error)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
