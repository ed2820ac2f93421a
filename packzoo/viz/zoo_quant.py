"""Pictures of the quant family for the report's zoo section, from the shipped cards and weights only.

- accuracy against bits per weight, one line per method (full precision at 32 bits; ADMM and STE
  from their cards; post-training rounding from the ``baseline_round`` the ADMM cards record);
- one layer's weight histogram: the full-precision weights, the grid level x alpha of the ADMM
  pow2-3bit model, and how many of its weights sit on each level.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from packzoo.zoo import list_models, model_card

HIST_LAYER = "layers.2.0.conv2.weight"
_COLORS = {"fp": "#7f7f7f", "admm": "#d62728", "ste": "#1f77b4", "round": "#2ca02c"}


def accuracy_points() -> dict[str, list[tuple[int, float, str]]]:
    """``{method: [(bits, top1, model or source), ...]}`` from the shipped quant cards."""
    pts: dict[str, list[tuple[int, float, str]]] = {}
    for name in list_models(family="quant"):
        w = model_card(name).weights
        if w is None:
            continue
        m: dict[str, Any] = w.metrics
        method = model_card(name).extra.get("method", "?")
        pts.setdefault(method, []).append((int(m.get("bits", 32)), float(m["top1"]), name))
        if "baseline_round" in m and method == "admm":
            pts.setdefault("round", []).append((int(m["bits"]), float(m["baseline_round"]["top1"]), f"round of {name}"))
    return {k: sorted(v) for k, v in pts.items()}


def accuracy_vs_bits() -> go.Figure:
    """Top-1 test accuracy against bits per weight, per method (log-2 x axis)."""
    pts = accuracy_points()
    fig = go.Figure()
    fp = pts.get("fp", [])
    for method in ("admm", "ste", "round"):
        if method not in pts:
            continue
        xs = [b for b, _, _ in pts[method]]
        ys = [a for _, a, _ in pts[method]]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=method.upper() if method != "round" else "rounding",
                                 line={"color": _COLORS[method]}, text=[n for _, _, n in pts[method]],
                                 hovertemplate="%{text}<br>%{x} bit: top-1 %{y:.4f}<extra></extra>"))
    if fp:
        fig.add_trace(go.Scatter(x=[32], y=[fp[0][1]], mode="markers", name="full precision",
                                 marker={"color": _COLORS["fp"], "size": 10, "symbol": "star"}))
        fig.add_hline(y=fp[0][1], line={"dash": "dot", "color": _COLORS["fp"]})
    fig.update_layout(title="Fashion-MNIST top-1 against bits per weight (small ResNet, width 8)",
                      xaxis={"title": "bits per quantized weight", "type": "log", "tickvals": [1, 2, 3, 32]},
                      yaxis={"title": "top-1 test accuracy"}, template="plotly_white")
    return fig


def weight_histogram(layer: str = HIST_LAYER, fp: str = "quant-resnet-fashion-fp",
                     quant: str = "quant-resnet-fashion-admm-pow2-3bit") -> go.Figure:
    """Histogram of one layer's full-precision weights with the quantized model's levels x alpha."""
    from packzoo.zoo import create_model

    w_fp = create_model(fp, pretrained=True).state_dict()[layer].reshape(-1)
    qm = create_model(quant, pretrained=True)
    spec = qm.quant_spec
    alpha = spec.alphas[layer]
    w_q = qm.state_dict()[layer].reshape(-1)
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=w_fp.tolist(), nbinsx=120, name=f"full precision ({fp})", marker={"color": _COLORS["fp"]},
                               opacity=0.7))
    grid = [v * alpha for v in spec.levels.values]
    counts = [int((w_q == float(qm.state_dict()[layer].new_tensor(g))).sum()) for g in grid]
    fig.add_trace(go.Bar(x=grid, y=counts, name=f"{spec.method.upper()} {spec.levels.name}: weights per level",
                         marker={"color": _COLORS["admm"]}, width=alpha * 0.08, opacity=0.6))
    for g in grid:
        fig.add_vline(x=g, line={"color": _COLORS["admm"], "dash": "dash", "width": 1})
    fig.update_layout(title=f"{layer}: weights and the {spec.levels.name} grid (alpha = {alpha:.4g})",
                      xaxis={"title": "weight"}, yaxis={"title": "count"}, barmode="overlay",
                      template="plotly_white")
    return fig


def zoo_figures() -> list[tuple[str, go.Figure]]:
    """(title, figure) pairs for the report's zoo section."""
    figs = [("Accuracy against bits per weight", accuracy_vs_bits())]
    names = set(list_models(family="quant"))
    if {"quant-resnet-fashion-fp", "quant-resnet-fashion-admm-pow2-3bit"} <= names and \
            model_card("quant-resnet-fashion-admm-pow2-3bit").weights is not None:
        figs.append(("Weight histogram with pow2 levels", weight_histogram()))
    return figs


__all__ = ["HIST_LAYER", "accuracy_points", "accuracy_vs_bits", "weight_histogram", "zoo_figures"]
