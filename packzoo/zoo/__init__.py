"""The model zoo: models behind one registry, one folder per family.

``list_models("ptrnet*", family=None)``, ``create_model(name, pretrained=False, **overrides)``,
``model_card(name)`` (a typed :class:`ModelCard`), ``evaluate_model(name, **limits)`` and
``check_model(name)``, the conformance check every registered model passes.

Each family is a subpackage ``packzoo/zoo/<family>/`` whose ``__init__`` registers its models with
:func:`register_model`; families are found by walking this package, so a new family joins the
zoo by existing. Shipped weights live in ``packzoo/zoo/weights`` as safetensors beside a JSON
:class:`WeightsCard` holding their sha256; loading checks the hash and never unpickles.

The zoo imports ``packzoo.envs`` and nothing else of packzoo: no solvers, no training code.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from packzoo.registry import Registry
from packzoo.zoo.cards import CardError, ModelCard, WeightsCard
from packzoo.zoo.weights import WeightsError, has_weights, load_card, load_weights, save_weights, weights_path

MODELS = Registry("model")

# Subpackages of packzoo.zoo that are shared services, not model families.
_NOT_FAMILIES = frozenset({"data", "weights"})


def register_model(
    name: str,
    factory: Callable[..., Any] | None = None,
    *,
    family: str,
    summary: str,
    evaluate: Callable[..., dict[str, Any]] | None = None,
    source: str = "",
    task: str = "",
    **extra: Any,
):
    """Register ``factory(pretrained: bool = False, **overrides)`` as the model ``name``.

    Args:
        family: the family folder that registers it (``ptrnet``, ``quant``, ...).
        summary: one line saying what the model is.
        evaluate: ``evaluate(**limits) -> dict`` computes the pretrained model's metrics (used by
            :func:`evaluate_model`; small ``limits`` keep it quick).
        source: the papers or libraries it follows.
        task: what it does (env id, dataset and metric).
        extra: family-specific facts, kept in the card's ``extra``.
    """
    for key, value in (("family", family), ("summary", summary)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"model {name!r}: {key} must be a non-empty string, got {value!r}")
    return MODELS.register(name, factory, family=family, summary=summary, evaluate=evaluate,
                           source=source, task=task, extra=dict(extra))


def list_models(pattern: str = "*", family: str | None = None) -> list[str]:
    """Registered model names matching the wildcard ``pattern`` (and ``family`` when given)."""
    _load_families()
    names = MODELS.list(pattern)
    if family is not None:
        if family not in families():
            raise ValueError(f"unknown family {family!r}; families: {', '.join(families())}")
        names = [n for n in names if MODELS.card(n)["family"] == family]
    return names


def families() -> list[str]:
    """The families that registered at least one model, sorted."""
    _load_families()
    return sorted({MODELS.card(n)["family"] for n in MODELS.list()})


def create_model(name: str, pretrained: bool = False, **overrides: Any) -> Any:
    """Build the model ``name``; with ``pretrained=True`` load its shipped, hash-checked weights."""
    _load_families()
    if not isinstance(pretrained, bool):
        raise ValueError(f"pretrained must be True or False, got {pretrained!r}")
    return MODELS.create(name, pretrained=pretrained, **overrides)


def model_card(name: str) -> ModelCard:
    """The typed card of ``name``, with its weights card when weights are shipped."""
    _load_families()
    c = MODELS.card(name)
    weights = load_card(name) if has_weights(name) else None
    return ModelCard(name=name, family=c["family"], summary=c["summary"], source=c["source"],
                     task=c["task"], weights=weights, extra=dict(c["extra"]))


def evaluate_model(name: str, **limits: Any) -> dict[str, Any]:
    """Metrics of the pretrained model ``name`` (``limits``, e.g. ``instances=20``, keep it quick)."""
    _load_families()
    fn = MODELS.card(name)["evaluate"]
    if fn is None:
        raise ValueError(f"model {name!r} has no evaluation")
    return fn(**limits)


_loaded = False


def _load_families() -> None:
    """Import every family subpackage (lazily: they may pull in torch); importing registers."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg and info.name not in _NOT_FAMILIES:
            importlib.import_module(f"{__name__}.{info.name}")


def __getattr__(name: str) -> Any:
    # check_model and quantize pull in torch; import them on first use.
    if name in ("check_model", "ModelCheckError"):
        from packzoo.zoo import check

        return getattr(check, name)
    if name == "quantize":
        from packzoo.zoo.quant import quantize

        return quantize
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MODELS",
    "CardError",
    "ModelCard",
    "WeightsCard",
    "WeightsError",
    "check_model",
    "create_model",
    "evaluate_model",
    "families",
    "quantize",
    "list_models",
    "load_card",
    "load_weights",
    "model_card",
    "register_model",
    "save_weights",
    "weights_path",
]
