#!/usr/bin/env python3
"""Runs several tools/train_g2p.py trainings side by side and collects what each produced.

    /usr/bin/python3 tools/sweep.py --out runs/sweep --device cuda --deadline 480 \\
        "v2: --architecture decoder-only --decoder-layers 6 --d-model 160 --heads 5 --d-ff 640 --dropout 0.15" ...

Each argument is `NAME: train_g2p.py options`; the run writes runs/sweep/NAME/ (log, history.json,
checkpoint.pt) and exports NAME.safetensors (Q8) when it finishes. A run still going at --deadline seconds
is stopped and its last epoch's checkpoint exported instead; its history then shows where it stopped (the
learning-rate schedule had not reached its end). At the end a summary table of the last epoch of every run
is printed and written to OUT/summary.json.

This is how the decoder-only model's settings were chosen (weights/g2p-cmudict-decoder-only.md); it
needs no GPU, but on two CPU cores several runs at once are slow.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help='"NAME: options for train_g2p.py"')
    p.add_argument("--out", default="runs/sweep")
    p.add_argument("--device", default="cpu")
    p.add_argument("--deadline", type=float, default=None, help="seconds after which unfinished runs are stopped")
    args = p.parse_args()

    procs = {}
    start = time.time()
    for spec in args.runs:
        name, _, options = spec.partition(":")
        name = name.strip()
        if not name.replace("-", "").replace("_", "").isalnum():
            sys.exit(f"error: run name {name!r}: use letters, digits, - and _")
        out = os.path.join(args.out, name)
        os.makedirs(out, exist_ok=True)
        cmd = [sys.executable, os.path.join(HERE, "train_g2p.py"), *shlex.split(options), "--device", args.device,
               "--out", out, "--export", os.path.join(args.out, f"{name}.safetensors")]
        log = open(os.path.join(out, "log.txt"), "w")
        log.write(" ".join(shlex.quote(c) for c in cmd) + "\n")
        log.flush()
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), out)
        print(f"started {name}: {options.strip()}", flush=True)

    while any(proc.poll() is None for proc, _ in procs.values()):
        if args.deadline and time.time() - start > args.deadline:
            for name, (proc, _) in procs.items():
                if proc.poll() is None:
                    print(f"deadline: stopping {name}", flush=True)
                    proc.terminate()
            for proc, _ in procs.values():
                proc.wait()
            break
        time.sleep(2)

    summary = {}
    for name, (proc, out) in procs.items():
        model = os.path.join(args.out, f"{name}.safetensors")
        finished = proc.returncode == 0 and os.path.exists(model)
        if not finished and os.path.exists(os.path.join(out, "checkpoint.pt")):
            subprocess.run([sys.executable, os.path.join(HERE, "export_checkpoint.py"),
                            os.path.join(out, "checkpoint.pt"), model, "--dtype", "Q8"], check=False)
        history = []
        if os.path.exists(os.path.join(out, "history.json")):
            with open(os.path.join(out, "history.json")) as f:
                saved = json.load(f)
            history = saved["history"]
            summary[name] = {"finished": finished, "parameters": saved["parameters"], "args": saved["args"],
                             "last": history[-1] if history else None,
                             "train_seconds": round(sum(r["train_seconds"] for r in history), 1)}
        else:
            summary[name] = {"finished": False, "last": None}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"\n{'run':<12} {'done':<5} {'params':>9} {'epoch':>5} {'dev WER':>8} {'dev WER ns':>10} "
          f"{'bits/let':>8} {'new':>6} {'train s':>8}")
    for name, s in summary.items():
        last = s["last"] or {}
        print(f"{name:<12} {str(s['finished']):<5} {s.get('parameters', 0):>9,} {last.get('epoch', 0):>5} "
              f"{last.get('dev_wer_stress', float('nan')):>8.4f} {last.get('dev_wer_no_stress', float('nan')):>10.4f} "
              f"{last.get('dev_bits_per_letter', float('nan')):>8.4f} "
              f"{last.get('samples_not_train_or_dev', float('nan')):>6.3f} {s.get('train_seconds', 0):>8}")
    print(f"({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
