#!/usr/bin/env python3
"""Writes tests/fixtures/g2p_parity.json: PyTorch's outputs for the shipped G2P model, for the C++ test
that pins the engine to PyTorch on real weights (tests/test_g2p.cpp).

    /usr/bin/python3 tools/g2p_data.py && /usr/bin/python3 tools/make_g2p_fixture.py
    /usr/bin/python3 tools/make_g2p_fixture.py --model weights/g2p-cmudict-decoder-only.safetensors \
        --out tests/fixtures/g2p_decoder_only_parity.json

For a decoder-only model the word is its prompt, `<s> letters <sep>` (tools/train_g2p.py), and the greedy
tokens are the ones chosen after it.

For the first 200 words of the test split: PyTorch's greedy tokens (no cache, the whole prefix
recomputed each step); for the first 20: the teacher-forced logits of that greedy sequence, and the
training loss (F.cross_entropy, per position, mean, and with label smoothing 0.1) of the dictionary's
first pronunciation, teacher-forced. The file
records the SHA-256 (and FNV-1a 64) of the weights it was made from; rerun this script whenever the weights change.
"""
import argparse
import hashlib
import json

import torch
import torch.nn.functional as F

from stepwise_py.export import load_model
from stepwise_py.g2p_data import read_split

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--model", default="weights/g2p-cmudict.safetensors")
parser.add_argument("--data", default="data/cmudict/test.tsv")
parser.add_argument("--out", default="tests/fixtures/g2p_parity.json")
args = parser.parse_args()

torch.set_num_threads(1)
model = load_model(args.model)
c = model.config
decoder_only = c["architecture"] == "decoder-only"
tgt_tokens = c["target_vocab"]["tokens"]
src_index = {t: i for i, t in enumerate(tgt_tokens if decoder_only else c["source_vocab"]["tokens"])}
bos = tgt_tokens.index(c["target_vocab"]["bos"])
references = read_split(args.data)
words = list(references)[:200]
cases = []
with torch.no_grad():
    for i, word in enumerate(words):
        letters = [src_index[ch] for ch in word]
        if decoder_only:
            prompt = letters + [tgt_tokens.index(c["target_vocab"]["sep"])]
            greedy = model.greedy(None, prefix=prompt)
        else:
            src = torch.tensor([letters])
            greedy = model.greedy(src)
        case = {"word": word, "greedy": greedy}
        if i < 20:
            # the training loss of the dictionary's (first) pronunciation, teacher-forced
            ref = [tgt_tokens.index(p) for p in references[word][0].split()]
            eos = tgt_tokens.index(c["target_vocab"]["eos"])
            full = [bos] + (prompt if decoder_only else []) + ref + [eos]
            logits = model.decode(torch.tensor([full[:-1]])) if decoder_only else model(src, torch.tensor([full[:-1]]))
            gold = torch.tensor(full[1:])
            case["reference"] = full
            case["nll"] = F.cross_entropy(logits[0], gold, reduction="none").tolist()
            case["cross_entropy"] = F.cross_entropy(logits[0], gold).item()
            case["smoothed_0.1"] = F.cross_entropy(logits[0], gold, label_smoothing=0.1).item()
            if decoder_only:
                case["logits"] = model.decode(torch.tensor([[bos] + prompt + greedy[:-1]]))[0].tolist()
            else:
                case["logits"] = model(src, torch.tensor([[bos] + greedy[:-1]]))[0].tolist()
        cases.append(case)
with open(args.model, "rb") as f:
    raw = f.read()
digest = hashlib.sha256(raw).hexdigest()
fnv = 0xCBF29CE484222325  # FNV-1a 64: what the C++ test recomputes to notice stale fixtures
for byte in raw:
    fnv = ((fnv ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
with open(args.out, "w") as f:
    json.dump({"model": args.model, "sha256": digest, "fnv1a64": f"{fnv:016x}", "data": args.data, "cases": cases},
              f, separators=(",", ":"))
print(f"{args.out}: {len(cases)} words, weights sha256 {digest[:16]}...")
