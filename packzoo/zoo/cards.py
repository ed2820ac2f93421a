"""Typed cards: what the registry knows of a model, and what shipped weights say about themselves.

Every family fills the same fields, so ``packzoo models``, the report's zoo section and
:func:`packzoo.zoo.check_model` read any model the same way (timm's ``PretrainedCfg`` is the model
for this: a typed record, not a free dict). Family-specific facts go into ``extra``.

A weights card is the JSON file beside ``<name>.safetensors``. Its ``check`` field makes every
shipped model testable in one way: ``evaluate_model(name, **check["limits"])`` must give back
``check["metrics"]`` (within ``check["rtol"]``), on a slice small enough for the test suite.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Facts every shipped weights card states; the conformance check requires them non-empty.
REQUIRED_WEIGHTS_FIELDS = ("name", "family", "sha256", "config", "metrics", "dataset", "recipe")


class CardError(ValueError):
    """A card that is malformed or lacks a required field; the message names the card."""


@dataclass(frozen=True)
class WeightsCard:
    """The card of shipped weights (``packzoo/zoo/weights/<name>.json``).

    Attributes:
        name: the zoo name the weights belong to.
        family: the model family (``ptrnet``, ``sb3``, ``quant``, ...).
        sha256: hash of the safetensors file; loading refuses a mismatch.
        bytes: size of the safetensors file.
        config: the architecture config: everything needed to rebuild the model's tensors.
        train_config: the training config of the run that made the weights.
        metrics: the headline metrics, measured when the weights were shipped.
        dataset: what the model was trained and evaluated on.
        recipe: the command that reproduces the weights.
        training: facts of the run (steps, seconds, cpu_seconds, hardware, ...).
        check: ``{"limits": {...}, "metrics": {...}, "rtol": float}``: a small evaluation the tests
            repeat (``evaluate_model(name, **limits)`` must give ``metrics``).
        extra: anything else the family records.
    """

    name: str
    family: str
    sha256: str
    bytes: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    dataset: str = ""
    recipe: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "card") -> WeightsCard:
        """Parse a card; a missing required field or an unknown key is a :class:`CardError`."""
        if not isinstance(data, dict):
            raise CardError(f"{source}: a weights card must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CardError(f"{source}: unknown keys {unknown} (known: {sorted(known)}; family facts go in 'extra')")
        missing = [k for k in REQUIRED_WEIGHTS_FIELDS if k not in data]
        if missing:
            raise CardError(f"{source}: missing required keys {missing}")
        for k in ("config", "train_config", "metrics", "training", "check", "extra"):
            if not isinstance(data.get(k, {}), dict):
                raise CardError(f"{source}: {k!r} must be an object, got {type(data[k]).__name__}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str, *, source: str = "card") -> WeightsCard:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise CardError(f"{source}: not valid JSON ({e})") from None
        return cls.from_dict(data, source=source)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class ModelCard:
    """What the registry knows of a model, plus its weights card when weights are shipped.

    Attributes:
        name: the zoo name.
        family: the folder under ``packzoo/zoo/`` that registers it.
        summary: one line: what the model is.
        source: the papers or libraries it follows.
        task: what it does (env id, dataset and metric, ...).
        weights: the shipped weights' card, or None when none are shipped.
        extra: family-specific registry facts.
    """

    name: str
    family: str
    summary: str
    source: str = ""
    task: str = ""
    weights: WeightsCard | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = ["REQUIRED_WEIGHTS_FIELDS", "CardError", "ModelCard", "WeightsCard"]
