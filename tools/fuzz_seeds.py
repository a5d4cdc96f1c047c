#!/usr/bin/env python3
"""Hostile seeds for the loader fuzzer: model files with deep and wide JSON, up to several MB.

    /usr/bin/python3 tools/fuzz_seeds.py OUT_DIR      (tools/fuzz.sh runs it into build-fuzz/seeds/loader)

libFuzzer grows inputs slowly from small seeds and never reached these shapes on its own: a header
nested tens of thousands of levels deep (once a stack overflow), a vocabulary of hundreds of thousands of
tokens, millions of values in one array, repeated keys. Each seed starts from a valid fixture, so the
mutations around it also reach the checks that come after the JSON. Standard library only.
"""
import json
import os
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "postnorm_relu_sinusoidal.safetensors")


def split(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    return raw[8 : 8 + n].decode(), raw[8 + n :]


def join(header_text, data):
    encoded = header_text.encode("utf-8", "surrogatepass")
    return struct.pack("<Q", len(encoded)) + encoded + data


def wide_vocab(config, n):
    config["target_vocab"]["tokens"] = config["target_vocab"]["tokens"] + [f"t{i}" for i in range(n)]
    return config


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build-fuzz/seeds/loader"
    os.makedirs(out, exist_ok=True)
    header_text, data = split(FIXTURE)
    header = json.loads(header_text)
    config_text = header["__metadata__"]["stepwise"]
    deep = "[" * 30000 + "]" * 30000

    def with_config(text):
        h = dict(header)
        h["__metadata__"] = {"stepwise": text}
        return join(json.dumps(h), data)

    seeds = {
        # nesting
        "deep_dtype": join(header_text.replace('"dtype":"F32"', '"dtype":' + deep, 1), data),
        "deep_shape": join(header_text.replace('"shape":[', '"shape":[' + deep + ",", 1), data),
        "deep_config_field": with_config(config_text.replace('"d_model":', '"d_model":' + deep + ',"x":', 1)),
        "open_brackets_3mb": join("[" * 3_000_000, b""),
        "deep_objects": join('{"a":' * 20000 + "1" + "}" * 20000, b""),
        # width
        "wide_vocab_300k": with_config(json.dumps(wide_vocab(json.loads(config_text), 300_000))),
        "wide_array_1m": join('{"a":[' + ",".join("0" for _ in range(1_000_000)) + "]}", b""),
        "many_tensors": join(
            json.dumps({**header, **{f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(50_000)}}),
            data,
        ),
        # repetition and strangers
        "duplicate_tensor": join('{"generator.bias":' + json.dumps(header["generator.bias"]) + "," + header_text[1:], data),
        "duplicate_config_key": with_config('{"d_model":32,' + config_text[1:]),
        "unknown_config_key": with_config(config_text.replace('"norm_first"', '"norm_frist"', 1)),
        "long_name": join('{"' + "n" * 2_000_000 + '":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},' + header_text[1:], data),
        "control_name": join('{"evil\\u001b[2J\\n":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},' + header_text[1:], data),
    }
    for name, blob in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)
    print(f"{len(seeds)} seeds in {out}, largest {max(len(b) for b in seeds.values()):,} bytes")


if __name__ == "__main__":
    main()
