"""The report's zoo section, filled from the registry: a family joins it by registering.

Each family's models appear in a table built from their typed cards. A family may also draw its
own pictures: a module ``packzoo/viz/zoo_<family>.py`` exposing ``zoo_figures() -> list[(title,
figure)]`` (built from its shipped cards and weights, quickly, without training) is found by
walking this package.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import plotly.graph_objects as go

from packzoo.zoo import families, list_models, model_card
from packzoo.zoo.cards import ModelCard


def _headline(card: ModelCard, most: int = 8) -> str:
    """A few of the shipped weights' scalar metrics, as ``key value`` text: the ones the family
    named with ``headline=(...)`` when it registered the model, else the first few."""
    if card.weights is None:
        return ""
    named = card.extra.get("headline")
    flat: list[tuple[str, Any]] = []

    def walk(prefix: str, d: dict[str, Any]) -> None:
        for k, v in d.items():
            if isinstance(v, dict):
                walk(f"{prefix}{k}.", v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                flat.append((prefix + k, v))

    walk("", card.weights.metrics)
    if named:
        flat = sorted((kv for kv in flat if kv[0] in named), key=lambda kv: list(named).index(kv[0]))
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4g}"
        return str(v)

    shown = [f"{k} {fmt(v)}" for k, v in flat[:most]]
    more = len(flat) - len(shown)
    return ", ".join(shown) + (f" (+{more} more in the card)" if more > 0 else "")


def zoo_rows(family: str | None = None) -> list[dict[str, Any]]:
    """One row per registered model: name, family, summary, weights, headline metrics, recipe."""
    rows = []
    for name in list_models(family=family):
        c = model_card(name)
        w = c.weights
        rows.append({
            "model": name, "family": c.family, "summary": c.summary,
            "weights": "-" if w is None else f"{w.bytes / 1024:.0f} KB",
            "metrics": _headline(c), "recipe": "" if w is None else w.recipe,
        })
    return rows


def family_figure_modules() -> dict[str, str]:
    """``{family: module}`` of the ``packzoo.viz.zoo_<family>`` modules present."""
    import packzoo.viz as viz

    return {m.name[len("zoo_"):]: f"packzoo.viz.{m.name}" for m in pkgutil.iter_modules(viz.__path__)
            if m.name.startswith("zoo_")}


def zoo_figures(family: str) -> list[tuple[str, go.Figure]]:
    """The pictures a family draws of its models (none when it has no ``zoo_<family>`` module)."""
    mod = family_figure_modules().get(family)
    if mod is None:
        return []
    return list(importlib.import_module(mod).zoo_figures())


__all__ = ["family_figure_modules", "families", "zoo_figures", "zoo_rows"]
