"""Shipped weights: safetensors files with a JSON card (:class:`~packzoo.zoo.cards.WeightsCard`).

``weights/<name>.safetensors`` holds the tensors; ``weights/<name>.json`` the card, with the file's
sha256. Loading recomputes the hash and refuses a mismatch; safetensors never unpickles.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from packzoo._io import atomic_write_bytes, atomic_write_text
from packzoo.zoo.cards import CardError, WeightsCard

WEIGHTS_DIR = Path(__file__).parent / "weights"


class WeightsError(ValueError):
    """Missing, corrupted or mismatched weights; the message names the file."""


def weights_path(name: str, directory: str | os.PathLike | None = None) -> Path:
    """Where the safetensors file of ``name`` lives (the zoo's folder unless ``directory``)."""
    return Path(directory or WEIGHTS_DIR) / f"{name}.safetensors"


def card_path(name: str, directory: str | os.PathLike | None = None) -> Path:
    """Where the JSON card of ``name`` lives."""
    return Path(directory or WEIGHTS_DIR) / f"{name}.json"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_card(name: str, directory: str | os.PathLike | None = None) -> WeightsCard:
    """The card of weights ``name``. FileNotFoundError when there is none; a malformed card is a
    :class:`WeightsError` naming the file."""
    path = card_path(name, directory)
    text = path.read_text()
    try:
        return WeightsCard.from_json(text, source=str(path))
    except CardError as e:
        raise WeightsError(str(e)) from None


def has_weights(name: str, directory: str | os.PathLike | None = None) -> bool:
    """True when both the card and the safetensors file of ``name`` exist."""
    return card_path(name, directory).is_file() and weights_path(name, directory).is_file()


def save_weights(
    name: str,
    tensors: dict[str, Any],
    card: dict[str, Any],
    directory: str | os.PathLike | None = None,
) -> WeightsCard:
    """Write ``tensors`` (str -> torch.Tensor) as safetensors and their card with the sha256.

    ``card`` holds the :class:`WeightsCard` fields other than name, sha256 and bytes (``family``
    is required). Both files are written atomically, the card last, so a crash never leaves a card
    that vouches for a missing or partial weights file.
    """
    from safetensors.torch import save

    data = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})
    full = WeightsCard.from_dict(
        {**card, "name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)},
        source=f"card of {name!r}",
    )
    atomic_write_bytes(weights_path(name, directory), data)
    atomic_write_text(card_path(name, directory), full.to_json())
    return full


def load_weights(name: str, directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """Tensors of weights ``name`` after checking the file's sha256 against its card."""
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
    if got != card.sha256:
        raise WeightsError(f"sha256 mismatch for {path}: card says {card.sha256}, file is {got}")
    try:
        return load(data)
    except Exception as e:  # a file whose hash matches but is no safetensors (hand-made card)
        raise WeightsError(f"{path} is not a valid safetensors file: {e}") from None


def fit_weights(model: Any, tensors: dict[str, Any], name: str) -> Any:
    """Load ``tensors`` into the torch module ``model`` (strictly) and put it in eval mode.

    Every family's pretrained factory ends this way; a mismatch (the card describes another
    architecture) is a :class:`WeightsError` naming the weights, not torch's RuntimeError.
    """
    try:
        model.load_state_dict(tensors)
    except RuntimeError as exc:
        raise WeightsError(f"weights {name!r} do not fit the network: {exc}") from None
    model.eval()
    return model


def pretrained_arguments(name: str | None, overrides: dict[str, Any]) -> str:
    """Check the arguments of a pretrained factory: a name, and no architecture overrides."""
    if name is None:
        raise ValueError("pretrained needs a model name")
    if overrides:
        raise ValueError(f"pretrained weights {name!r} fix the architecture; cannot override {sorted(overrides)}")
    return name
