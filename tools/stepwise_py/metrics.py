"""G2P metrics, defined once for the PyTorch side (the C++ engine's `stepwise eval` mirrors them).

WER: a word is correct when the output equals any of its reference pronunciations.
PER: edit distance to the closest reference, divided by that reference's length, summed over the split
     (sum of distances / sum of reference lengths).
Stress-stripped variants remove the digits 0/1/2 from output and references first.
"""
from __future__ import annotations

import re


def strip_stress(phonemes: list[str]) -> list[str]:
    return [re.sub(r"\d", "", p) for p in phonemes]


def edit_distance(a: list[str], b: list[str]) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def score(outputs: dict[str, list[str]], references: dict[str, list[str]], stress: bool) -> dict:
    """outputs: word -> phonemes; references: word -> list of pronunciations (space-separated strings)."""
    errors = distance = length = 0
    for word, refs in references.items():
        hyp = outputs[word] if stress else strip_stress(outputs[word])
        candidates = [r.split() if stress else strip_stress(r.split()) for r in refs]
        # the closest reference; on a tie, the first in dictionary order
        d, best = min(((edit_distance(hyp, r), i) for i, r in enumerate(candidates)))
        best = candidates[best]
        errors += d != 0
        distance += d
        length += len(best)
    return {"words": len(references), "wer": errors / len(references), "per": distance / length}
