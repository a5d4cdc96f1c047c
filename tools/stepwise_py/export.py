"""Write and read Stepwise model files: safetensors with the model configuration in `__metadata__`.

safetensors layout (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N,
N bytes of JSON header {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ..., "__metadata__":
{str: str}}, then the raw little-endian tensor bytes (offsets relative to the end of the header).
Stepwise stores its configuration (architecture, sizes, vocabularies) as a JSON string under
`__metadata__["stepwise"]`, so one file is a whole model. Written here by hand because Debian ships no
`safetensors` Python package; the format is small enough to write in a few lines.
"""
from __future__ import annotations

import json
import struct

import numpy as np
import torch

from .model import StepwiseTransformer

_DTYPES = {"F32": np.float32, "F16": np.float16, "I8": np.int8}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def write_safetensors(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    header: dict = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, array in tensors.items():
        dtype = _NAMES[array.dtype]
        blob = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # pad so the data section starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<"))
        tensors[name] = tensors[name].reshape(info["shape"]).astype(_DTYPES[info["dtype"]])
    return tensors, metadata


def exported_state(model: StepwiseTransformer) -> dict[str, torch.Tensor]:
    """state_dict() minus the tied generator.weight (it is tgt_embed.weight; the engine re-ties it)."""
    state = model.state_dict()
    if model.config["tie_output"]:
        del state["generator.weight"]
    return state


def quantize_rows(w: np.ndarray, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8: w[r] ~ q[r] * scale[r], q in [-L, L] with L = 2^(bits-1) - 1 (127 for 8 bits),
    scale = max|w[r]| / L stored as F16. Fewer bits keep the int8 container (the engine reads the file the
    same way) but use fewer levels, which a compressor then stores in fewer bits (gzip: about bits - 0.6)."""
    if not 2 <= bits <= 8:
        raise ValueError(f"bits must be in [2, 8], got {bits}")
    levels = 2 ** (bits - 1) - 1
    scale = (np.abs(w).max(axis=1) / levels).astype(np.float16)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / safe[:, None]), -levels, levels).astype(np.int8)
    return q, scale


def save_model(model: StepwiseTransformer, path: str, dtype: str = "F32", bits: int = 8) -> None:
    """Export `model` to one safetensors file. dtype "F16" halves the size (the engine widens on load);
    "Q8" stores every matrix as I8 with a per-row F16 scale tensor "NAME.scale" (about a quarter of
    F32) and the vectors (biases, LayerNorms) as F16. The engine keeps the matrices int8 (widened to float32
    inside its kernels) and dequantizes the embedding tables on load. `bits` < 8 (Q8 only): the matrices'
    int8 values use 2^bits - 1 levels (quantize_rows)."""
    if bits != 8 and dtype != "Q8":
        raise ValueError("bits applies to Q8 only")
    tensors = {}
    for k, v in exported_state(model).items():
        w = v.detach().cpu().numpy().astype(np.float32)
        if dtype == "Q8" and w.ndim == 2:
            tensors[k], tensors[k + ".scale"] = quantize_rows(w, bits)
        else:
            tensors[k] = w.astype(np.float16 if dtype == "Q8" else _DTYPES[dtype])
    config = {k: v for k, v in model.config.items() if k != "dropout"}
    write_safetensors(path, tensors, {"format": "pt", "stepwise": json.dumps(config)})


def load_model(path: str) -> StepwiseTransformer:
    """The inverse of save_model: a PyTorch module (eval mode, float32) with the file's weights."""
    tensors, metadata = read_safetensors(path)
    config = json.loads(metadata["stepwise"])
    config["dropout"] = 0.0
    model = StepwiseTransformer(config)
    state = {}
    for k, v in tensors.items():
        if k.endswith(".scale") and k[: -len(".scale")] in tensors:
            continue
        if v.dtype == np.int8:  # float32(q) * float32(scale), the product the engine computes
            v = v.astype(np.float32) * tensors[k + ".scale"].astype(np.float32)[:, None]
        state[k] = torch.from_numpy(v.astype(np.float32))
    if config["tie_output"]:
        state["generator.weight"] = state["tgt_embed.weight"]
    model.load_state_dict(state, strict=True)
    return model.eval()
