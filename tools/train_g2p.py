#!/usr/bin/env python3
"""Train the English grapheme-to-phoneme Transformer on CMUdict (the model shipped in weights/).

    npm ci && /usr/bin/python3 tools/g2p_data.py                   # the split, into data/cmudict/
    /usr/bin/python3 tools/train_g2p.py --out runs/g2p             # full run (see weights/g2p-cmudict.md)
    /usr/bin/python3 tools/train_g2p.py --out runs/g2p --resume    # continue after an interruption
    /usr/bin/python3 tools/train_g2p.py --smoke --out /tmp/smoke   # a tiny model, a few steps (CI)
    /usr/bin/python3 tools/train_g2p.py --architecture decoder-only --out runs/decoder-only   # GPT-style
    python3 tools/train_g2p.py ... --device cuda                   # on a GPU (same options, same file)

Characters in, ARPAbet phonemes with stress out (<s> ... </s>). Training uses teacher forcing: the
decoder sees the reference prefix under the causal mask and predicts every next phoneme in one
parallel pass.

`--architecture decoder-only` trains the same task as one sequence, GPT-style: `<s> p h o e n i x <sep>
F IY1 N IH0 K S </s>` in a single vocabulary (letters, the separator, phonemes), with the ordinary
next-token loss on every position -- so the model learns spellings too, and can invent a word from
`<s>` alone. Prompted with `<s> letters <sep>`, it continues with the pronunciation; its only way to
read the letters is masked self-attention over them (there is no encoder and no cross-attention). Such a
run also logs, after each epoch, its bits per letter on the dev headwords (as `stepwise eval` counts them)
and the share of --samples words sampled from `<s>` that are no train or dev headword. Dev WER (greedy, batched, no teacher forcing) is logged after every epoch; the test split
is never read here. A checkpoint (model, optimiser, schedule, RNG) is written after every epoch, so a run
can be stopped and continued with --resume; the learning rate follows a fixed schedule (linear warm-up,
cosine decay to zero at the planned last step), so a resumed run ends exactly where an uninterrupted one
would. At the end the model is exported (Q8 by default: int8 matrices, see weights/README.md) with `--export`.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time

import torch
from torch import nn

from stepwise_py.export import save_model
from stepwise_py.g2p_data import read_split
from stepwise_py.metrics import score
from stepwise_py.model import StepwiseTransformer, default_config

PAD, BOS, EOS, SEP = "<pad>", "<s>", "</s>", "<sep>"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/cmudict", help="folder with train.tsv and dev.tsv")
    p.add_argument("--out", default="runs/g2p", help="checkpoints, log and history go here")
    p.add_argument("--export", default=None, help="write the final model here (.safetensors)")
    p.add_argument("--export-dtype", default="Q8", choices=["Q8", "F16", "F32"])
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--init-from", default=None, metavar="CKPT",
                   help="start from this checkpoint's weights (same model settings) with a fresh optimiser and "
                        "schedule: a second stage, e.g. --label-smoothing 0 to sharpen the probabilities")
    p.add_argument("--architecture", default="encoder-decoder", choices=["encoder-decoder", "decoder-only"])
    p.add_argument("--name", default=None, help="the model's name in its config (default: by architecture)")
    p.add_argument("--epochs", type=int, default=24)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--warmup", type=int, default=1500, help="warm-up steps")
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--encoder-layers", type=int, default=3)
    p.add_argument("--decoder-layers", type=int, default=3, help="decoder-only: the one stack's depth")
    p.add_argument("--d-ff", type=int, default=512)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="1 is fastest here: 0.39 s/step vs 0.69 with 2 (2 cores)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda: where the model trains; the file exported is the same kind")
    p.add_argument("--samples", type=int, default=1000,
                   help="decoder-only: words sampled from <s> after each epoch (temperature 1) to count how many are new")
    p.add_argument("--log-every", type=int, default=100, help="print the running loss every N batches")
    p.add_argument("--smoke", action="store_true", help="tiny model, few steps, small data: proves the pipeline")
    return p.parse_args()


def build_config(args, train_words) -> dict:
    chars = sorted({ch for word in train_words for ch in word})
    phonemes = sorted({p for prons in train_words.values() for pron in prons for p in pron.split()})
    # What both architectures share: the decoder's shape and its training-time dropout.
    common = dict(
        d_model=args.d_model,
        n_heads=args.heads,
        n_decoder_layers=args.decoder_layers,
        d_ff=args.d_ff,
        activation="relu",
        norm_first=True,
        positional_encoding="sinusoidal",
        scale_embedding=True,
        tie_output=False,
        dropout=args.dropout,
    )
    special = {"split": "space", "lowercase": False, "pad": PAD, "bos": BOS, "eos": EOS}
    if args.architecture == "decoder-only":
        # One vocabulary for the one sequence: letters are lowercase, phonemes uppercase, so they never clash.
        return default_config(
            name=args.name or "g2p-cmudict-decoder-only",
            architecture="decoder-only",
            max_target_len=68,  # <s> + up to 32 letters + <sep> + up to 33 phonemes + </s>
            target_vocab={"tokens": [PAD, BOS, EOS, SEP] + chars + phonemes, **special, "sep": SEP},
            **common,
        )
    return default_config(
        name=args.name or "g2p-cmudict",
        n_encoder_layers=args.encoder_layers,
        max_source_len=32,
        max_target_len=34,  # <s> + up to 32 phonemes + </s>
        source_vocab={"tokens": [PAD] + chars, "split": "chars", "lowercase": True, "pad": PAD},
        target_vocab={"tokens": [PAD, BOS, EOS] + phonemes, **special},
        **common,
    )


class Encoder:
    """Maps words and pronunciations to token ids with the model's vocabularies.

    Encoder-decoder: source() is the letters, target() is `<s> phonemes </s>`. Decoder-only: there is
    no source; prompt() is `<s> letters <sep>` and sequence() the whole `<s> letters <sep> phonemes </s>`."""

    def __init__(self, config):
        self.decoder_only = config["architecture"] == "decoder-only"
        self.tgt_tokens = config["target_vocab"]["tokens"]
        self.tgt = {t: i for i, t in enumerate(self.tgt_tokens)}
        self.src = self.tgt if self.decoder_only else {t: i for i, t in enumerate(config["source_vocab"]["tokens"])}

    def source(self, word):
        return [self.src[ch] for ch in word]

    def target(self, pron):
        return [self.tgt[BOS]] + [self.tgt[p] for p in pron.split()] + [self.tgt[EOS]]

    def prompt(self, word):
        return [self.tgt[BOS]] + self.source(word) + [self.tgt[SEP]]

    def sequence(self, word, pron):
        return self.prompt(word) + [self.tgt[p] for p in pron.split()] + [self.tgt[EOS]]


def make_batches(examples, batch_size, rng):
    """Buckets by length (less padding), then shuffles the batches."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]), len(examples[i][1]), rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def pad(seqs, value=0):
    n = max(len(s) for s in seqs)
    return torch.tensor([s + [value] * (n - len(s)) for s in seqs])


def lr_at(step, args, total_steps):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, total_steps - args.warmup)
    return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def chunks(words, batch_size, decoder_only):
    """Batches of words for batched decoding. Decoder-only prompts are batched by word length, so that
    every prompt of a batch has the same length and needs no padding."""
    if not decoder_only:
        return [words[i : i + batch_size] for i in range(0, len(words), batch_size)]
    by_length: dict[int, list[str]] = {}
    for w in words:
        by_length.setdefault(len(w), []).append(w)
    return [group[i : i + batch_size] for _, group in sorted(by_length.items()) for i in range(0, len(group), batch_size)]


@torch.no_grad()
def greedy_batch(model, enc, words, max_len, batch_size=500):
    """Batched greedy decoding (no teacher forcing): word -> phoneme list."""
    model.eval()
    device = next(model.parameters()).device
    eos = enc.tgt[EOS]
    out = {}
    for chunk in chunks(words, batch_size, enc.decoder_only):
        if enc.decoder_only:
            memory = src_padding = None
            tokens = torch.tensor([enc.prompt(w) for w in chunk])
        else:
            src = pad([enc.source(w) for w in chunk]).to(device)
            src_padding = src == 0
            memory = model.encode(src, src_padding)
            tokens = torch.full((len(chunk), 1), enc.tgt[BOS])
        tokens = tokens.to(device)
        start = tokens.shape[1]
        done = torch.zeros(len(chunk), dtype=torch.bool, device=device)
        while tokens.shape[1] < max_len:
            logits = model.decode(tokens, memory, src_padding=src_padding)[:, -1]
            nxt = logits.argmax(-1)
            nxt[done] = eos
            tokens = torch.cat([tokens, nxt[:, None]], 1)
            done |= nxt == eos
            if done.all():
                break
        for word, row in zip(chunk, tokens.tolist()):
            phones = []
            for t in row[start:]:
                if t == eos:
                    break
                phones.append(enc.tgt_tokens[t])
            out[word] = phones
    return out


def evaluate(model, enc, words: dict, max_len):
    outputs = greedy_batch(model, enc, sorted(words), max_len)
    return {"stress": score(outputs, words, stress=True), "no_stress": score(outputs, words, stress=False)}


@torch.no_grad()
def spelling_bits(model, enc, words, batch_size=500):
    """-log2 P(c1..cn, <sep> | <s>) summed over `words`, and the number of symbols scored (n + 1 each): the
    definition `stepwise eval` reports as bits per letter for a decoder-only model."""
    model.eval()
    device = next(model.parameters()).device
    bits, symbols = 0.0, 0
    for chunk in chunks(words, batch_size, decoder_only=True):
        seqs = torch.tensor([enc.prompt(w) for w in chunk], device=device)
        logp = torch.log_softmax(model.decode(seqs[:, :-1]).double(), -1)
        bits -= logp.gather(-1, seqs[:, 1:, None]).sum().item() / math.log(2)
        symbols += seqs.numel() - len(chunk)
    return bits, symbols


@torch.no_grad()
def sample_spellings(model, enc, count, seed, max_letters=32):
    """`count` spellings sampled from <s> at temperature 1, each up to its <sep>; None where a token other
    than a letter came first (or no <sep> within max_letters)."""
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    letters = {i: t for t, i in enc.tgt.items() if len(t) == 1 and not t.isupper()}
    is_letter = torch.zeros(len(enc.tgt_tokens), dtype=torch.bool, device=device)
    is_letter[list(letters)] = True
    tokens = torch.full((count, 1), enc.tgt[BOS], device=device)
    ended = torch.zeros(count, dtype=torch.bool, device=device)
    for _ in range(max_letters + 1):
        probs = torch.softmax(model.decode(tokens)[:, -1].double(), -1)
        nxt = torch.multinomial(probs, 1, generator=gen)
        tokens = torch.cat([tokens, nxt], 1)
        ended |= ~is_letter[nxt[:, 0]]
        if ended.all():
            break
    out = []
    for row in tokens[:, 1:].tolist():
        sep = row.index(enc.tgt[SEP]) if enc.tgt[SEP] in row else -1
        ok = sep >= 0 and all(t in letters for t in row[:sep])
        out.append("".join(letters[t] for t in row[:sep]) if ok else None)
    return out


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    train_words = read_split(os.path.join(args.data, "train.tsv"))
    dev_words = read_split(os.path.join(args.data, "dev.tsv"))
    if args.smoke:
        args.d_model, args.heads, args.encoder_layers, args.decoder_layers, args.d_ff = 32, 2, 1, 1, 64
        args.epochs, args.warmup, args.batch_size, args.samples = 1, 10, 64, 50
        train_words = dict(list(train_words.items())[:2000])
        dev_words = dict(list(dev_words.items())[:100])
    config = build_config(args, train_words)
    enc = Encoder(config)
    if enc.decoder_only:  # (no source: the whole sequence is the decoder's input, shifted by one)
        examples = [
            ([], enc.sequence(w, p))
            for w, prons in train_words.items()
            for p in prons
            if len(w) + len(p.split()) + 3 <= config["max_target_len"]
        ]
    else:
        examples = [
            (enc.source(w), enc.target(p))
            for w, prons in train_words.items()
            for p in prons
            if len(w) <= config["max_source_len"] and len(p.split()) + 2 <= config["max_target_len"]
        ]
    dev_words = {w: p for w, p in dev_words.items() if all(ch in enc.src for ch in w)}
    seen_headwords = set(train_words) | set(dev_words)  # (the test split is not read here)

    torch.manual_seed(args.seed)
    model = StepwiseTransformer(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
    loss_fn = nn.CrossEntropyLoss(ignore_index=0, label_smoothing=args.label_smoothing)
    steps_per_epoch = math.ceil(len(examples) / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    start_epoch, step, history = 0, 0, []
    checkpoint_path = os.path.join(args.out, "checkpoint.pt")
    if args.init_from and not args.resume:
        ckpt = torch.load(args.init_from, map_location=device)
        if ckpt["config"] != config:
            sys.exit(f"error: --init-from {args.init_from}: different model settings than this run's")
        model.load_state_dict(ckpt["model"])
        print(f"weights from {args.init_from} (after its epoch {ckpt['epoch']}); a fresh optimiser and schedule", flush=True)
    if args.resume:
        ckpt = torch.load(checkpoint_path, map_location=device)
        if ckpt["config"] != config:
            sys.exit("error: --resume with different model settings than the checkpoint's")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start_epoch, step, history = ckpt["epoch"], ckpt["step"], ckpt["history"]
        torch.set_rng_state(ckpt["torch_rng"].cpu())
        if device.type == "cuda" and "cuda_rng" in ckpt:
            torch.cuda.set_rng_state(ckpt["cuda_rng"].cpu())
        print(f"resumed after epoch {start_epoch} (step {step})", flush=True)
    params = sum(p.numel() for p in model.parameters())
    print(f"{params:,} parameters, {len(examples):,} training pairs, {steps_per_epoch} steps/epoch, "
          f"{args.epochs} epochs", flush=True)

    for epoch in range(start_epoch, args.epochs):
        model.train()
        rng = random.Random(args.seed * 1000 + epoch)  # the batches of an epoch do not depend on resuming
        t0, total_loss, n_batches = time.time(), 0.0, 0
        for batch in make_batches(examples, args.batch_size, rng):
            if args.smoke and n_batches == 20:
                break
            tgt = pad([examples[i][1] for i in batch]).to(device)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, args, total_steps)
            if enc.decoder_only:
                logits = model.decode(tgt[:, :-1], tgt_padding=tgt[:, :-1] == 0)
            else:
                src = pad([examples[i][0] for i in batch]).to(device)
                logits = model(src, tgt[:, :-1], src_padding=src == 0, tgt_padding=tgt[:, :-1] == 0)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            n_batches += 1
            total_loss += loss.item()
            if n_batches % args.log_every == 0:
                print(f"  epoch {epoch + 1} batch {n_batches}/{steps_per_epoch} loss {total_loss / n_batches:.4f} "
                      f"lr {optimizer.param_groups[0]['lr']:.2e} {(time.time() - t0) / n_batches:.3f} s/step",
                      flush=True)
        train_seconds = time.time() - t0
        dev = evaluate(model, enc, dev_words, config["max_target_len"])
        record = {
            "epoch": epoch + 1,
            "step": step,
            "train_loss": total_loss / max(1, n_batches),
            "train_seconds": round(train_seconds, 1),
            "dev_wer_no_stress": dev["no_stress"]["wer"],
            "dev_per_no_stress": dev["no_stress"]["per"],
            "dev_wer_stress": dev["stress"]["wer"],
            "dev_per_stress": dev["stress"]["per"],
        }
        if enc.decoder_only:  # it also models spellings: bits per letter on the dev headwords, and new words
            bits, symbols = spelling_bits(model, enc, sorted(dev_words))
            record["dev_bits_per_letter"] = bits / symbols
            if args.samples:
                spellings = sample_spellings(model, enc, args.samples, seed=args.seed)
                record["samples_not_train_or_dev"] = sum(w not in seen_headwords for w in spellings) / len(spellings)
        history.append(record)
        print(json.dumps(record), flush=True)
        torch.save({"config": config, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epoch": epoch + 1, "step": step, "history": history, "torch_rng": torch.get_rng_state(),
                    **({"cuda_rng": torch.cuda.get_rng_state()} if device.type == "cuda" else {})},
                   checkpoint_path + ".tmp")
        os.replace(checkpoint_path + ".tmp", checkpoint_path)
        with open(os.path.join(args.out, "history.json"), "w") as f:
            json.dump({"config": config, "args": vars(args), "parameters": params, "history": history}, f, indent=1)

    if args.export:
        model.eval()
        save_model(model, args.export, args.export_dtype)
        print(f"exported {args.export} ({os.path.getsize(args.export):,} bytes, {args.export_dtype})")


if __name__ == "__main__":
    main()
