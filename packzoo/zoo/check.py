"""``check_model(name)``: the conformance check every registered model passes.

Like :func:`packzoo.solvers.check_solver`, it is a list of named rules; a failure raises
:class:`ModelCheckError` naming the rule, and the tests run every rule on every registered model
(parametrised from the registry), so a new family is checked by registering.

Rules:
- ``card``: the registry card has its fields; shipped weights have a complete, consistent card.
- ``fresh-deterministic``: two fresh models built under the same torch seed have equal tensors.
- ``pretrained-shapes``: the pretrained model has the fresh model's tensor names and shapes.
- ``sha256``: a tampered copy of the weights is refused by ``create_model(pretrained=True)``.
- ``evaluate``: ``evaluate_model(name, **card.check["limits"])`` reproduces the card's
  ``check["metrics"]`` and gives the same result twice.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from packzoo.zoo.cards import REQUIRED_WEIGHTS_FIELDS, ModelCard


class ModelCheckError(AssertionError):
    """A model that breaks a conformance rule; ``rule`` names it."""

    def __init__(self, name: str, rule: str, message: str) -> None:
        super().__init__(f"{name}: rule {rule!r}: {message}")
        self.rule = rule


def model_tensors(model: Any) -> dict[str, Any]:
    """The named tensors of a zoo model: a torch module's state dict, or an SB3 model's policy's."""
    if hasattr(model, "state_dict"):
        return dict(model.state_dict())
    if hasattr(model, "policy") and hasattr(model.policy, "state_dict"):
        return dict(model.policy.state_dict())
    raise TypeError(f"cannot read the tensors of a {type(model).__name__}")


@contextlib.contextmanager
def _weights_dir(directory: Path) -> Iterator[None]:
    from packzoo.zoo import weights

    old = weights.WEIGHTS_DIR
    weights.WEIGHTS_DIR = directory
    try:
        yield
    finally:
        weights.WEIGHTS_DIR = old


def _fresh(name: str, seed: int = 0) -> Any:
    import torch

    from packzoo.zoo import create_model

    torch.manual_seed(seed)
    return create_model(name, pretrained=False)


def rule_card(name: str, card: ModelCard) -> None:
    for key in ("family", "summary"):
        if not getattr(card, key):
            raise ModelCheckError(name, "card", f"registry card has no {key}")
    w = card.weights
    if w is None:
        return
    for key in REQUIRED_WEIGHTS_FIELDS:
        if not getattr(w, key):
            raise ModelCheckError(name, "card", f"weights card has an empty {key!r}")
    if w.name != name or w.family != card.family:
        raise ModelCheckError(name, "card", f"weights card says {w.name!r} of family {w.family!r}")
    if not w.recipe.startswith("packzoo "):
        raise ModelCheckError(name, "card", f"recipe is not a packzoo command: {w.recipe!r}")
    check = w.check
    if not isinstance(check.get("limits"), dict) or not isinstance(check.get("metrics"), dict) or not check["metrics"]:
        raise ModelCheckError(name, "card", "weights card has no check {'limits': {...}, 'metrics': {...}}")


def rule_fresh_deterministic(name: str, card: ModelCard) -> None:
    import torch

    a, b = model_tensors(_fresh(name)), model_tensors(_fresh(name))
    if list(a) != list(b) or not all(torch.equal(a[k], b[k]) for k in a):
        raise ModelCheckError(name, "fresh-deterministic", "two fresh models under torch.manual_seed(0) differ")


def rule_pretrained_shapes(name: str, card: ModelCard) -> None:
    if card.weights is None:
        return
    from packzoo.zoo import create_model

    fresh = {k: tuple(v.shape) for k, v in model_tensors(_fresh(name)).items()}
    pre = {k: tuple(v.shape) for k, v in model_tensors(create_model(name, pretrained=True)).items()}
    if fresh != pre:
        diff = sorted(set(fresh.items()) ^ set(pre.items()))[:6]
        raise ModelCheckError(name, "pretrained-shapes", f"fresh and pretrained tensors differ: {diff}")


def rule_sha256(name: str, card: ModelCard) -> None:
    if card.weights is None:
        return
    from packzoo.zoo import WeightsError, create_model
    from packzoo.zoo.weights import card_path, weights_path

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        shutil.copy(card_path(name), d / card_path(name).name)
        data = bytearray(weights_path(name).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (d / weights_path(name).name).write_bytes(bytes(data))
        with _weights_dir(d):
            try:
                create_model(name, pretrained=True)
            except WeightsError:
                return
        raise ModelCheckError(name, "sha256", "a tampered weights file was loaded without complaint")


def _close(a: Any, b: Any, rtol: float) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_close(a[k], b[k], rtol) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y, rtol) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=rtol * 1e-3)
    return a == b


def rule_evaluate(name: str, card: ModelCard) -> None:
    if card.weights is None:
        return
    from packzoo.zoo import evaluate_model

    limits = dict(card.weights.check["limits"])
    want = card.weights.check["metrics"]
    rtol = float(card.weights.check.get("rtol", 1e-6))
    got = evaluate_model(name, **limits)
    sub = {k: got.get(k) for k in want}
    if not _close(sub, want, rtol):
        raise ModelCheckError(name, "evaluate", f"evaluate_model(**{limits}) gave {sub}, the card says {want}")
    again = {k: v for k, v in evaluate_model(name, **limits).items() if k in want}
    if not _close(again, sub, 0.0):
        raise ModelCheckError(name, "evaluate", f"two evaluations differ: {sub} then {again}")


RULES: dict[str, Callable[[str, ModelCard], None]] = {
    "card": rule_card,
    "fresh-deterministic": rule_fresh_deterministic,
    "pretrained-shapes": rule_pretrained_shapes,
    "sha256": rule_sha256,
    "evaluate": rule_evaluate,
}


def check_model(name: str, rules: tuple[str, ...] | None = None) -> ModelCard:
    """Run the conformance ``rules`` (default all) on the registered model ``name``; returns its card."""
    from packzoo.zoo import model_card

    card = model_card(name)
    for rule in rules or tuple(RULES):
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}; rules: {', '.join(RULES)}")
        RULES[rule](name, card)
    return card


__all__ = ["RULES", "ModelCheckError", "check_model", "model_tensors"]
