"""The model zoo: models behind one registry (the same pattern as the solvers).

``list_models("ptrnet*")``, ``create_model(name, pretrained=False, **overrides)``,
``model_card(name)``, ``evaluate_model(name, **limits)``. Shipped weights live in
``packzoo/zoo/weights`` as safetensors beside a JSON card holding their sha256; loading checks the
hash and never unpickles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from packzoo.registry import Registry
from packzoo.zoo.weights import WeightsError, load_card, load_weights, save_weights, weights_path

MODELS = Registry("model")


def register_model(
    name: str,
    factory: Callable[..., Any] | None = None,
    *,
    evaluate: Callable[..., dict[str, Any]] | None = None,
    **card: Any,
):
    """Register a model factory ``factory(pretrained: bool, **overrides)``.

    ``evaluate(**limits) -> dict`` computes the model's headline metrics (used by
    :func:`evaluate_model`). Card facts (summary, source, ...) go in ``card``.
    """
    return MODELS.register(name, factory, evaluate=evaluate, **card)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching the wildcard ``pattern``."""
    _load_plugins()
    return MODELS.list(pattern)


def create_model(name: str, pretrained: bool = False, **overrides: Any) -> Any:
    """Build the model ``name``; with ``pretrained=True`` load its shipped, hash-checked weights."""
    _load_plugins()
    return MODELS.create(name, pretrained=pretrained, **overrides)


def model_card(name: str) -> dict[str, Any]:
    """The registry card of ``name``, merged with its weights card when weights are shipped."""
    _load_plugins()
    card = MODELS.card(name)
    card.pop("evaluate", None)
    try:
        card["weights"] = load_card(name)
    except FileNotFoundError:
        card["weights"] = None
    return card


def evaluate_model(name: str, **limits: Any) -> dict[str, Any]:
    """Metrics of the pretrained model ``name`` (limits, e.g. ``instances=20``, keep it quick)."""
    _load_plugins()
    fn = MODELS.card(name).get("evaluate")
    if fn is None:
        raise ValueError(f"model {name!r} has no evaluation")
    return fn(**limits)


_PLUGINS: tuple[str, ...] = ("packzoo.zoo.ptrnet", "packzoo.zoo.sb3_agents")
_loaded = False


def _load_plugins() -> None:
    """Import the modules that register models (lazily: they pull in torch)."""
    global _loaded
    if _loaded:
        return
    import importlib

    for mod in _PLUGINS:
        importlib.import_module(mod)
    _loaded = True


__all__ = [
    "MODELS",
    "WeightsError",
    "create_model",
    "evaluate_model",
    "list_models",
    "load_card",
    "load_weights",
    "model_card",
    "register_model",
    "save_weights",
    "weights_path",
]
