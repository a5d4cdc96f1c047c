"""CMUdict for grapheme-to-phoneme training: loading, cleaning, and the fixed train/dev/test split.

Source: the npm package cmu-pronouncing-dictionary@3.0.0 (ISC licence), installed by `npm ci` into
node_modules/. Its index.js is `export const dictionary = {...}`: a JSON object from key to an ARPAbet
string with stress digits. Keys `word(2)`, `word(3)`, ... are pronunciation variants of `word`; a few
values end in a `# comment`, which is stripped.

The split is by a stable hash of the lowercase headword, so every pronunciation of a word lands in the
same split and the split never changes when the data is re-read:

    h = FNV-1a 32-bit over the headword's UTF-8 bytes
    h % 20 == 0 -> test,  h % 20 == 1 -> dev,  otherwise -> train

This is the only implementation of the split; everything else (training, evaluation, the page's
"surprise me" words) reads the TSV files written by `python3 tools/g2p_data.py`.
"""
from __future__ import annotations

import json
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DICTIONARY_JS = os.path.join(REPO, "node_modules", "cmu-pronouncing-dictionary", "index.js")
SPLITS = ("train", "dev", "test")


def fnv1a_32(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def split_of(headword: str) -> str:
    r = fnv1a_32(headword.lower()) % 20
    return "test" if r == 0 else "dev" if r == 1 else "train"


def load_cmudict(path: str = DICTIONARY_JS) -> dict[str, list[str]]:
    """headword -> its pronunciations (ARPAbet with stress, space-separated), in dictionary order."""
    if not os.path.exists(path):
        raise SystemExit(f"error: {path} not found; run `npm ci` in the repository root first")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = text.index("dictionary = {") + len("dictionary = ")
    raw: dict[str, str] = json.loads(text[start:].rstrip().rstrip(";"))
    words: dict[str, list[str]] = {}
    for key, value in raw.items():
        headword = re.sub(r"\(\d+\)$", "", key).lower()
        pron = " ".join(value.split("#", 1)[0].split())
        if pron and pron not in words.setdefault(headword, []):
            words[headword].append(pron)
    return words


def read_split(path: str) -> dict[str, list[str]]:
    """Reads a split TSV (one `word<TAB>pronunciation` line per pronunciation)."""
    words: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, pron = line.rstrip("\n").split("\t")
            words.setdefault(word, []).append(pron)
    return words


def write_splits(out_dir: str) -> dict[str, int]:
    words = load_cmudict()
    os.makedirs(out_dir, exist_ok=True)
    files = {s: open(os.path.join(out_dir, f"{s}.tsv"), "w", encoding="utf-8") for s in SPLITS}
    counts = dict.fromkeys(SPLITS, 0)
    for word in sorted(words):
        split = split_of(word)
        counts[split] += 1
        for pron in words[word]:
            files[split].write(f"{word}\t{pron}\n")
    for f in files.values():
        f.close()
    return counts
