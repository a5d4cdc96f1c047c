#!/usr/bin/env python3
"""PyTorch (Debian's torch, CPU) on the same model and inputs as the other engines.

    /usr/bin/python3 tools/bench/torch_bench.py --model FILE --cases CASES.json [--threads 1,2]
                                                [--samples 5] [--min-seconds 0.05] [--max-new N]

CASES.json: {"sources": [[ids]], "targets": [[ids]]}: source ids and the teacher-forced decoder inputs
(<s> + output), as the engine benchmark wrote them. Measures, per thread count:
  greedy            StepwiseTransformer.greedy(): torch.nn.Transformer recomputing the whole prefix at
                    every step (no cache) -- how the lesson's own PyTorch code decodes;
  greedy_kv         the KV-cached decoder of kv_decoder.py, eager: the encoder and every layer's
                    cross-attention K/V once per word, the self-attention K/V appended at each step;
  greedy_kv_jit     the same with its step compiled by torch.jit.script (and frozen); the encoder, run
                    once per word, stays eager;
  forward           the teacher-forced pass, model(src, tgt) with the causal mask.
Every call under torch.inference_mode().
Timing as timing.h: warm-up calls for 0.2 s, then batches of at least --min-seconds; medians with min
and max. JSON on stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stepwise_py.export import load_model  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kv_decoder import KVEncoder, KVStep, empty_cache, greedy_cached  # noqa: E402

SECTIONS = ("greedy", "greedy_kv", "greedy_kv_jit", "forward")


def time_calls(call, samples: int, min_seconds: float, warmup_seconds: float = 0.2) -> dict:
    warm_end = time.perf_counter() + warmup_seconds
    call()
    while time.perf_counter() < warm_end:
        call()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            call()
        t = time.perf_counter() - t0
        if t >= min_seconds:
            break
        n = n * 16 if t <= 0 else max(n * 2, int(n * min_seconds * 1.2 / t) + 1)
    per_call = []
    for _ in range(max(1, samples)):
        t0 = time.perf_counter()
        for _ in range(n):
            call()
        per_call.append((time.perf_counter() - t0) / n)
    per_call.sort()
    k = len(per_call)
    median = per_call[k // 2] if k % 2 else 0.5 * (per_call[k // 2 - 1] + per_call[k // 2])
    return {"median": median, "min": per_call[0], "max": per_call[-1], "samples": k, "calls_per_sample": n}


def scaled(stats: dict, factor: float) -> dict:
    return {**stats, "median": stats["median"] * factor, "min": stats["min"] * factor, "max": stats["max"] * factor}


def rate(stats: dict, work: float) -> dict:
    return {**stats, "median": work / stats["median"], "min": work / stats["max"], "max": work / stats["min"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="weights/g2p-cmudict.safetensors")
    parser.add_argument("--cases", required=True)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=0.05)
    parser.add_argument("--warmup-seconds", type=float, default=0.2)
    parser.add_argument("--max-new", type=int, default=0, help="generated tokens at most (0: the model's limit)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"a comma list of {', '.join(SECTIONS)}")
    args = parser.parse_args()
    sections = args.sections.split(",")

    model = load_model(args.model).eval()
    vocab = model.config["target_vocab"]
    bos, eos = vocab["tokens"].index(vocab["bos"]), vocab["tokens"].index(vocab["eos"])
    limit = min(args.max_new or model.config["max_target_len"], model.config["max_target_len"])
    encoder, step = KVEncoder(model).eval(), KVStep(model).eval()
    step_jit = torch.jit.freeze(torch.jit.script(KVStep(model).eval())) if "greedy_kv_jit" in sections else None
    with open(args.cases) as f:
        cases = json.load(f)
    sources = [torch.tensor([s]) for s in cases["sources"]]
    targets = [torch.tensor([t]) for t in cases["targets"]]
    words = len(sources)
    result = {"torch": torch.__version__, "words": words, "threads": {}}
    decoders = {
        "greedy": lambda src: model.greedy(src, max_new=args.max_new or None),
        "greedy_kv": lambda src: greedy_cached(encoder, step, src, bos, eos, limit, empty_cache(step)),
        "greedy_kv_jit": lambda src: greedy_cached(encoder, step_jit, src, bos, eos, limit, empty_cache(step)),
    }
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        measured = result["threads"][str(threads)] = {}
        for section in sections:
            if section == "forward":
                def forward_pass():
                    with torch.inference_mode():
                        for src, tgt in zip(sources, targets):
                            model(src, tgt)

                forward = time_calls(forward_pass, args.samples, args.min_seconds, args.warmup_seconds)
                measured["forward"] = {"words": words, "us_per_word": scaled(forward, 1e6 / words)}
                continue
            outputs = []

            def greedy_pass(decode=decoders[section]):
                outputs.clear()
                with torch.inference_mode():
                    for src in sources:
                        outputs.append(decode(src))

            greedy = time_calls(greedy_pass, args.samples, args.min_seconds, args.warmup_seconds)
            tokens = sum(len(o) for o in outputs)
            measured[section] = {"words": words, "tokens": tokens, "us_per_token": scaled(greedy, 1e6 / tokens),
                                 "tokens_per_s": rate(greedy, tokens), "words_per_s": rate(greedy, words),
                                 "outputs": [list(o) for o in outputs]}
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
