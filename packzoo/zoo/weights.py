"""Shipped weights: safetensors files with a JSON card holding their sha256.

A card is ``weights/<name>.json``: {"name", "sha256", "config", "metrics", "dataset", "recipe",
...}. Loading recomputes the file's sha256 and refuses a mismatch; safetensors never unpickles.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from packzoo._io import atomic_write_bytes, atomic_write_text

WEIGHTS_DIR = Path(__file__).parent / "weights"


class WeightsError(ValueError):
    """Missing, corrupted or mismatched weights."""


def weights_path(name: str, directory: str | os.PathLike | None = None) -> Path:
    return Path(directory or WEIGHTS_DIR) / f"{name}.safetensors"


def _card_path(name: str, directory: str | os.PathLike | None = None) -> Path:
    return Path(directory or WEIGHTS_DIR) / f"{name}.json"


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_card(name: str, directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """The JSON card of shipped weights ``name``."""
    return json.loads(_card_path(name, directory).read_text())


def save_weights(
    name: str,
    tensors: dict[str, Any],
    card: dict[str, Any],
    directory: str | os.PathLike | None = None,
) -> Path:
    """Write ``tensors`` (str -> torch.Tensor) as safetensors and the card with its sha256.

    Both files are written atomically; the card is written last, so a crash never leaves a card
    that vouches for a missing or partial weights file.
    """
    from safetensors.torch import save

    data = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})
    path = weights_path(name, directory)
    atomic_write_bytes(path, data)
    full = {"name": name, **card, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    atomic_write_text(_card_path(name, directory), json.dumps(full, indent=2, sort_keys=True) + "\n")
    return path


def load_weights(name: str, directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """Tensors of shipped weights ``name`` after checking the file's sha256 against its card."""
    from safetensors.torch import load

    path = weights_path(name, directory)
    try:
        card = load_card(name, directory)
    except FileNotFoundError:
        raise WeightsError(f"no weights card for {name!r} in {path.parent}") from None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise WeightsError(f"weights file {path} is missing") from None
    got = hashlib.sha256(data).hexdigest()
    if got != card.get("sha256"):
        raise WeightsError(f"sha256 mismatch for {path}: card says {card.get('sha256')}, file is {got}")
    return load(data)
