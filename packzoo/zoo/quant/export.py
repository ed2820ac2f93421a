"""Compact export: quantized weights as integer codes packed at ``bits`` per weight, plus alpha.

A quantized tensor ``P`` becomes three small tensors: ``P::codes`` (uint8, the level index of
every weight packed little-endian at ``levels.bits`` bits each: 1 for binary, 2 for ternary, 3
for pow2-3bit), ``P::alpha`` (float64, so decoding gives back the very same float32 weights) and
``P::shape``. ``__quant__::levels`` holds the level set. Every other ``state_dict`` entry (first and
last layers, biases, BatchNorm) stays as it is. :func:`compact_tensors` / :func:`expand_tensors`
convert; the dict is plain safetensors-compatible, which is how the zoo ships quantized models.

:func:`save_compact` / :func:`load_compact` write and read a standalone file: the magic
``PZQUANT1``, the sha256 of the payload, then the payload (safetensors). A file whose hash does not
match, that is truncated, or that is no such file is refused with :class:`CompactFileError`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from packzoo._io import atomic_write_bytes
from packzoo.zoo.quant.core import QuantSpec
from packzoo.zoo.quant.levels import Levels, QuantError, as_levels, nearest_codes

MAGIC = b"PZQUANT1"
SEP = "::"
LEVELS_KEY = f"__quant__{SEP}levels"
METHOD_KEY = f"__quant__{SEP}method"
_METHODS = ("admm", "ste", "round")


class CompactFileError(QuantError):
    """A compact file or tensor dict that is corrupted, truncated or inconsistent."""


def pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """Pack non-negative integer ``codes`` < 2**bits into a uint8 array of ceil(n * bits / 8) bytes."""
    c = np.asarray(codes, dtype=np.int64).reshape(-1)
    if not 1 <= bits <= 8:
        raise QuantError(f"bits must be 1..8, got {bits}")
    if c.size and (c.min() < 0 or c.max() >= 1 << bits):
        raise QuantError(f"codes must lie in 0..{(1 << bits) - 1}")
    planes = ((c[:, None] >> np.arange(bits)) & 1).astype(np.uint8)  # (n, bits), least significant first
    return np.packbits(planes.reshape(-1), bitorder="little")


def unpack_codes(packed: np.ndarray, bits: int, n: int) -> np.ndarray:
    """Inverse of :func:`pack_codes` for ``n`` codes."""
    need = (n * bits + 7) // 8
    if packed.size != need:
        raise CompactFileError(f"packed codes hold {packed.size} bytes, {n} codes at {bits} bits need {need}")
    flat = np.unpackbits(np.asarray(packed, dtype=np.uint8), bitorder="little", count=n * bits)
    planes = flat.reshape(n, bits).astype(np.int64)
    return (planes << np.arange(bits)).sum(axis=1)


def compact_tensors(model: nn.Module, spec: QuantSpec | None = None) -> dict[str, torch.Tensor]:
    """The model's state as compact tensors (see the module docstring).

    Args:
        spec: what was quantized; default ``model.quant_spec`` (set by :func:`quantize`). Every
            quantized weight must lie on its grid, else a :class:`QuantError` names the tensor.
    """
    spec = spec or getattr(model, "quant_spec", None)
    if spec is None:
        raise QuantError("model has no quant_spec: quantize it first (packzoo.zoo.quantize) or pass spec=")
    lv = spec.levels
    L = lv.tensor(torch.float64)
    sd = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    for name, t in sd.items():
        if name not in spec.params:
            out[name] = t.detach().clone()
            continue
        alpha = float(spec.alphas[name])
        w = t.detach().to(torch.float64)
        codes = nearest_codes(w / alpha, L)
        if not torch.equal((L[codes] * alpha).to(t.dtype), t.detach()):
            raise QuantError(f"{name} is not on its grid levels x {alpha}: cannot export it exactly")
        out[f"{name}{SEP}codes"] = torch.from_numpy(pack_codes(codes.numpy(), lv.bits))
        out[f"{name}{SEP}alpha"] = torch.tensor([alpha], dtype=torch.float64)
        out[f"{name}{SEP}shape"] = torch.tensor(list(t.shape), dtype=torch.int64)
    out[LEVELS_KEY] = L.clone()
    out[METHOD_KEY] = torch.tensor([_METHODS.index(spec.method)], dtype=torch.int64)
    return out


def expand_tensors(tensors: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], QuantSpec]:
    """Inverse of :func:`compact_tensors`: a float ``state_dict`` and the :class:`QuantSpec`."""
    if LEVELS_KEY not in tensors:
        raise CompactFileError(f"not compact tensors: no {LEVELS_KEY!r}")
    try:
        lv: Levels = as_levels([float(v) for v in tensors[LEVELS_KEY].tolist()])
    except QuantError as e:
        raise CompactFileError(f"bad level set in compact tensors: {e}") from None
    L = lv.tensor(torch.float64)
    m = tensors.get(METHOD_KEY)
    method = _METHODS[int(m[0])] if m is not None and m.numel() == 1 and 0 <= int(m[0]) < len(_METHODS) else "unknown"
    sd: dict[str, torch.Tensor] = {}
    alphas: dict[str, float] = {}
    names = []
    for key in tensors:
        if key.endswith(f"{SEP}codes"):
            names.append(key[: -len(SEP) - 5])
    for name in names:
        try:
            shape = [int(s) for s in tensors[f"{name}{SEP}shape"].tolist()]
            alpha = float(tensors[f"{name}{SEP}alpha"].reshape(-1)[0])
        except KeyError as e:
            raise CompactFileError(f"compact tensor {name!r} lacks {e.args[0]!r}") from None
        if not (alpha > 0 and np.isfinite(alpha)) or any(s < 0 for s in shape):
            raise CompactFileError(f"compact tensor {name!r}: bad alpha {alpha} or shape {shape}")
        n = int(np.prod(shape))
        codes = unpack_codes(tensors[f"{name}{SEP}codes"].numpy(), lv.bits, n)
        if codes.size and codes.max() >= len(lv.values):
            raise CompactFileError(f"compact tensor {name!r}: code {int(codes.max())} but only {len(lv.values)} levels")
        sd[name] = (L[torch.from_numpy(codes)] * alpha).to(torch.float32).reshape(shape)
        alphas[name] = alpha
    reserved = {f"{n}{SEP}{s}" for n in names for s in ("codes", "alpha", "shape")} | {LEVELS_KEY, METHOD_KEY}
    for key, t in tensors.items():
        if key not in reserved:
            sd[key] = t
    return sd, QuantSpec(lv, method, tuple(names), alphas, {})


def compact_bytes(model: nn.Module, spec: QuantSpec | None = None) -> bytes:
    """The standalone compact file's bytes: magic, sha256 of the payload, safetensors payload."""
    from safetensors.torch import save

    payload = save({k: v.contiguous() for k, v in compact_tensors(model, spec).items()})
    return MAGIC + hashlib.sha256(payload).digest() + payload


def save_compact(model: nn.Module, path: str | os.PathLike, spec: QuantSpec | None = None) -> int:
    """Write the compact file of a quantized model (atomically); returns its size in bytes."""
    data = compact_bytes(model, spec)
    atomic_write_bytes(Path(path), data)
    return len(data)


def read_compact(data: bytes, source: str = "compact file") -> tuple[dict[str, torch.Tensor], QuantSpec]:
    """Check and decode a compact file's bytes into a float ``state_dict`` and its :class:`QuantSpec`."""
    from safetensors.torch import load

    head = len(MAGIC) + 32
    if len(data) < head or data[: len(MAGIC)] != MAGIC:
        raise CompactFileError(f"{source}: not a packzoo compact file (no {MAGIC.decode()} header)")
    digest, payload = data[len(MAGIC):head], data[head:]
    if hashlib.sha256(payload).digest() != digest:
        raise CompactFileError(f"{source}: checksum mismatch: the file is corrupted or truncated")
    try:
        tensors = load(payload)
    except Exception as e:  # noqa: BLE001 - a payload whose hash matches but does not parse (hand-made)
        raise CompactFileError(f"{source}: payload is not valid safetensors: {e}") from None
    return expand_tensors(tensors)


def load_compact(path: str | os.PathLike, model: nn.Module | None = None) -> Any:
    """Read a compact file. With ``model``, load the weights into it (strict), attach the spec and
    return the model; without, return ``(state_dict, spec)``."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CompactFileError(f"{p}: no such file") from None
    sd, spec = read_compact(data, str(p))
    if model is None:
        return sd, spec
    try:
        model.load_state_dict(sd)
    except RuntimeError as e:
        raise CompactFileError(f"{p}: tensors do not fit {type(model).__name__}: {e}") from None
    model.quant_spec = spec
    model.eval()
    return model


__all__ = ["MAGIC", "CompactFileError", "compact_bytes", "compact_tensors", "expand_tensors", "load_compact",
           "pack_codes", "read_compact", "save_compact", "unpack_codes"]
