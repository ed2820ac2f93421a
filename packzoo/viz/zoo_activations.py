"""Pictures of the activations family for the report's zoo section, from the shipped cards and weights only.

- the learned activation functions of every shipped learned-activation net (one curve per layer, or
  per unit for per-unit activations, over the grid and one unit beyond it on each side);
- test error against parameter count for every shipped model, one panel per task (MNIST-1D: 1 -
  accuracy; function fitting: RMSE, log scale).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from packzoo.zoo import create_model, list_models, model_card

MAX_UNITS = 12  # per-unit activations: curves drawn per layer (the first units)
_COLORS = {"shallow-learned-act": "#d62728", "shallow-relu": "#1f77b4", "mlp-relu-deep": "#2ca02c"}
_LAYER_COLORS = ("#d62728", "#9467bd", "#ff7f0e", "#8c564b")


def shipped() -> list[tuple[str, Any]]:
    """``(name, weights card)`` of every activations model with shipped weights."""
    out = []
    for name in list_models(family="activations"):
        w = model_card(name).weights
        if w is not None:
            out.append((name, w))
    return out


def activation_figure(name: str) -> go.Figure:
    """The learned activation functions of the shipped model ``name``, one colour per hidden layer."""
    model = create_model(name, pretrained=True)
    acts = model.learned_activations()
    if not acts:
        raise ValueError(f"{name} has no learned activation")
    fig = go.Figure()
    for li, act in enumerate(acts):
        s = act.spec
        x, y = act.curves(s.lo - 1.0, s.hi + 1.0, 161)
        color = _LAYER_COLORS[li % len(_LAYER_COLORS)]
        for u in range(min(y.shape[0], MAX_UNITS)):
            fig.add_trace(go.Scatter(
                x=x.tolist(), y=y[u].tolist(), mode="lines", line={"color": color, "width": 2 if s.units is None else 1},
                opacity=1.0 if s.units is None else 0.6, legendgroup=f"layer {li + 1}", showlegend=u == 0,
                name=f"layer {li + 1}" + ("" if s.units is None else f" (first {min(y.shape[0], MAX_UNITS)} of {s.units} units)"),
                hovertemplate=f"layer {li + 1}" + ("" if s.units is None else f" unit {u}") + ": f(%{x:.2f}) = %{y:.3f}<extra></extra>"))
    for edge in (acts[0].spec.lo, acts[0].spec.hi):
        fig.add_vline(x=edge, line={"dash": "dot", "color": "#999"})
    s0 = acts[0].spec
    shape = "one per layer" if s0.units is None else "one per unit"
    fig.update_layout(title=f"{name}: learned {s0.form} activations ({shape}; dotted: grid ends)",
                      xaxis_title="pre-activation x", yaxis_title="f(x)", template="plotly_white", height=420)
    return fig


def error_points() -> dict[str, list[dict[str, Any]]]:
    """``{task: [{model, architecture, params, error, metric}]}`` from the shipped cards."""
    pts: dict[str, list[dict[str, Any]]] = {}
    for name, w in shipped():
        task = w.config["task"]
        m = w.metrics
        if "test_accuracy" in m:
            err, metric = 1.0 - float(m["test_accuracy"]), "test error (1 - accuracy)"
        else:
            err, metric = float(m["test_rmse"]), "test RMSE"
        pts.setdefault(task, []).append({"model": name, "architecture": w.extra.get("model", name), "params": int(m["params"]),
                                         "error": err, "metric": metric})
    return pts


def error_vs_params() -> go.Figure:
    """Test error against parameters for every shipped model, one panel per task."""
    pts = error_points()
    tasks = sorted(pts)
    fig = make_subplots(rows=1, cols=max(len(tasks), 1), subplot_titles=tasks or ["(no shipped models)"])
    seen: set[str] = set()
    for ci, task in enumerate(tasks, start=1):
        for p in sorted(pts[task], key=lambda q: q["architecture"]):
            arch = p["architecture"]
            fig.add_trace(go.Scatter(
                x=[p["params"]], y=[p["error"]], mode="markers+text", text=[arch], textposition="top center",
                marker={"size": 12, "color": _COLORS.get(arch, "#7f7f7f")}, name=arch, legendgroup=arch,
                showlegend=arch not in seen,
                hovertemplate=f"{p['model']}<br>%{{x}} parameters<br>{p['metric']}: %{{y:.4g}}<extra></extra>"), row=1, col=ci)
            seen.add(arch)
        fig.update_xaxes(title_text="parameters", row=1, col=ci)
        fig.update_yaxes(title_text=pts[task][0]["metric"], type="log" if task.startswith("fit:") else "linear", row=1, col=ci)
    fig.update_layout(title="Test error against parameters (shipped models; lower is better)", template="plotly_white",
                      height=440)
    return fig


def zoo_figures() -> list[tuple[str, go.Figure]]:
    """``(title, figure)`` pairs for the report: learned activations, then error against parameters."""
    figs = []
    for name, w in shipped():
        if w.extra.get("model") == "shallow-learned-act":
            figs.append((f"Learned activations of {name}", activation_figure(name)))
    figs.append(("Activations family: test error against parameters", error_vs_params()))
    return figs


__all__ = ["activation_figure", "error_points", "error_vs_params", "shipped", "zoo_figures"]
