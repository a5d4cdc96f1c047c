#!/usr/bin/env python3
"""Prints a model card's tables (weights/g2p-cmudict.md, weights/g2p-cmudict-decoder-only.md) from the training history and the evaluation:

    /usr/bin/python3 tools/model_card_tables.py runs/g2p/history.json weights/g2p-cmudict.eval.json
    /usr/bin/python3 tools/model_card_tables.py STAGE1/history.json STAGE2/history.json ... MODEL.eval.json
"""
import json
import sys

# One history.json per training stage (a second stage starts from the first's weights: train_g2p.py --init-from)
stages = [json.load(open(f)) for f in sys.argv[1:-1]]
evaluation = json.load(open(sys.argv[-1]))
pct = lambda x: f"{100 * x:.1f} %"

many = len(stages) > 1
# Decoder-only runs since 2026-11-30 also log spelling measurements (bits per letter on the dev headwords,
# the share of sampled words that are no train or dev headword): shown when every epoch has them.
spelling = all("dev_bits_per_letter" in r for history in stages for r in history["history"])
print(("| stage " if many else "") + "| epoch | train loss | dev WER (no stress) | dev PER (no stress) | dev WER | dev PER | "
      + ("dev bits per letter | samples new | " if spelling else "") + "epoch time |")
print(("|---" if many else "") + "|---|---|---|---|---|---|" + ("---|---|" if spelling else "") + "---|")
for n, history in enumerate(stages, 1):
    a = history["args"]
    for r in history["history"]:
        stage = f"| {n}: label smoothing {a['label_smoothing']:g}, peak lr {a['lr']:g} " if many else ""
        print(f"{stage}| {r['epoch']} | {r['train_loss']:.3f} | {pct(r['dev_wer_no_stress'])} | {pct(r['dev_per_no_stress'])} | "
              f"{pct(r['dev_wer_stress'])} | {pct(r['dev_per_stress'])} | "
              + (f"{r['dev_bits_per_letter']:.3f} | {pct(r['samples_not_train_or_dev'])} | " if spelling else "")
              + f"{r['train_seconds'] / 60:.1f} min |")
total = sum(r["train_seconds"] for history in stages for r in history["history"])
print(f"\nTraining time (sum of epochs, evaluation excluded): {total / 3600:.2f} h\n")

t = evaluation["test_split"]
print(f"Test split: {t['words']} words, {evaluation['machine']}\n")
print("| decoding | WER (no stress) | PER (no stress) | WER (with stress) | PER (with stress) | words/s |")
print("|---|---|---|---|---|---|")
for key, name in (("greedy", "greedy"), ("beam", f"beam {t.get('beam', {}).get('width', '')}")):
    if key in t:
        r = t[key]
        print(f"| {name} | **{pct(r['wer_no_stress'])}** | **{pct(r['per_no_stress'])}** | {pct(r['wer'])} | {pct(r['per'])} | {r['words_per_second']:.0f} |")
p = evaluation["pytorch_greedy"]
print(f"| PyTorch, greedy, same weights | {pct(p['no_stress']['wer'])} | {pct(p['no_stress']['per'])} | "
      f"{pct(p['stress']['wer'])} | {pct(p['stress']['per'])} | – |")
s = evaluation["slice_1000"]["greedy"]
print(f"\nCI slice (first 1,000 test words), greedy: WER {pct(s['wer_no_stress'])} without stress, {pct(s['wer'])} with stress; "
      f"CI fails above {pct(s['wer_no_stress'] + 0.02)}.")

# A decoder-only model also models spellings: its bits per letter beside the character n-grams, and what it
# invents (tools/evaluate_g2p.sh writes both for such a model).
spelling = t.get("spelling")
invent = evaluation.get("invent")
if spelling:
    print(f"\nSpelling, bits per letter on the {t['words']} test headwords (the letters and <sep> after <s>, {spelling['symbols']} symbols), "
          "and of 1,000 words sampled at temperature 1 (seeds 0-999), the share that is no CMUdict headword:\n")
    print("| model | bits per letter | samples that are no headword |")
    print("|---|---|---|")
    mine = pct(invent["not_headwords"] / invent["samples"]) if invent else "–"
    print(f"| **this model** | **{spelling['bits_per_letter']:.3f}** | {mine} |")
    for b in evaluation.get("spelling_baselines", []):
        novel = pct(b["not_headwords"]) if "not_headwords" in b else "–"
        print(f"| character {b['order']}-gram, interpolated Kneser–Ney (train split) | {b['bits_per_letter']:.3f} | {novel} |")
if invent:
    n = invent["samples"]
    print(f"\nInvented words ({n} samples from <s> alone, temperature {invent['temperature']:g}, seeds "
          f"{invent['first_seed']}–{invent['first_seed'] + n - 1}): {pct(invent['not_headwords'] / n)} are not CMUdict headwords "
          f"(of {invent['known_headwords']:,}); {n - invent['malformed']} are well-formed (letters, <sep>, phonemes, </s>); "
          f"{pct(invent['well_formed_new'] / n)} are well-formed new words.")
