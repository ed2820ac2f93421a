"""Pictures of the transfer family for the report's zoo section, from the shipped cards and weights.

- precision@1 against labelled images per tag, one line per method (mean over seeds, std as error
  bars), for each target: the table the benchmark stored in ``transfer-cnn-fashion04``'s card;
- a 2-D projection (PCA, fitted separately on each) of held-out target embeddings before (frozen,
  standardised features) and after the learned transform ``transfer-w-<target>-hard``.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from packzoo.zoo import list_models, model_card

CNN = "transfer-cnn-fashion04"
POOL_SIZES = {"fashion59": 6000, "digits": 90}  # "all" per tag (digits: about 90), for the x axis
LABELS = {"fashion59": "Fashion-MNIST classes 5-9", "digits": "digits 28x28"}


def sweep_table() -> dict[str, Any] | None:
    """The benchmark's table stored in the source CNN's card, or None."""
    if CNN not in list_models():
        return None
    card = model_card(CNN)
    if card.weights is None:
        return None
    return card.weights.extra.get("sweep")


def precision_figure(sweep: dict[str, Any]) -> go.Figure:
    """P@1 against labelled images per tag; a panel per target, a line per method."""
    table = sweep["table"]
    targets = list(table)
    def title(t: str) -> str:
        name, _, layer = t.partition("@")
        return LABELS.get(name, name) + f" ({layer or 'fc'} features)"

    fig = make_subplots(rows=1, cols=len(targets), subplot_titles=[title(t) for t in targets])
    palette = ["#444444", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    methods: list[str] = []
    for t in targets:
        for pool in table[t].values():
            methods += [m for m in pool if m not in methods]
    for col, t in enumerate(targets, start=1):
        pools = list(table[t])
        cap = POOL_SIZES.get(t.partition("@")[0], 1000)  # a pool holds at most this many per tag
        xs = [cap if p == "all" else min(int(p), cap) for p in pools]
        for i, m in enumerate(methods):
            ys = [table[t][p].get(m, {}).get("p_at_1") for p in pools]
            es = [table[t][p].get(m, {}).get("p_at_1_std", 0.0) for p in pools]
            fig.add_trace(go.Scatter(x=xs, y=ys, error_y={"type": "data", "array": es}, mode="lines+markers",
                                     name=m, legendgroup=m, showlegend=col == 1,
                                     line={"color": palette[i % len(palette)], "dash": "dot" if m == "identity" else None},
                                     hovertemplate=f"{m}: %{{x}} labels/tag, P@1 %{{y:.4f}}<extra></extra>"),
                          row=1, col=col)
        fig.update_xaxes(type="log", title_text="labelled images per tag ('all' at the right)", row=1, col=col)
    fig.update_yaxes(title_text="precision@1 (held-out)", row=1, col=1)
    fig.update_layout(title=f"Transfer: precision@1 against labels (mean +- std over {len(sweep.get('seeds', []))} seeds)",
                      height=420, width=max(700, 380 * len(targets)))
    return fig


def projection_figure(target: str = "fashion59", images: int = 1000) -> go.Figure:
    """PCA of ``images`` held-out target embeddings before and after ``transfer-w-<target>-hard``."""
    import torch

    from packzoo.zoo import create_model
    from packzoo.zoo.transfer.cnn import extract_features
    from packzoo.zoo.transfer.data import target_domain

    name = f"transfer-w-{target}-hard"
    dom = target_domain(target)
    head = create_model(name, pretrained=True)
    cfg = model_card(name).weights.config
    cnn = create_model(cfg["backbone"], pretrained=True)
    x = extract_features(cnn, dom.test_images[:images], cfg.get("layer", "fc"))
    y = dom.test_labels[:images]
    with torch.no_grad():
        views = {"before: frozen features (W = I)": head.standardise(x), f"after: {name}": head(x)}
    fig = make_subplots(rows=1, cols=2, subplot_titles=list(views))
    for col, emb in enumerate(views.values(), start=1):
        centred = emb - emb.mean(0)
        _, _, v = torch.linalg.svd(centred, full_matrices=False)
        xy = (centred @ v[:2].T).numpy()
        for c, cname in enumerate(dom.classes):
            m = y == c
            fig.add_trace(go.Scattergl(x=xy[m, 0], y=xy[m, 1], mode="markers", name=cname, legendgroup=cname,
                                       showlegend=col == 1, marker={"size": 4, "color": _colour(c)}), row=1, col=col)
    fig.update_layout(title=f"Transfer: held-out {LABELS.get(target, target)} embeddings, first two principal components",
                      height=420)
    return fig


def _colour(i: int) -> str:
    return ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf"][i % 10]


def zoo_figures() -> list[tuple[str, go.Figure]]:
    """(title, figure) pairs for the report: the P@1 sweep and the before/after projection."""
    out = []
    sweep = sweep_table()
    if sweep is not None:
        out.append(("Transfer: precision@1 against labels per tag", precision_figure(sweep)))
    if "transfer-w-fashion59-hard" in list_models() and model_card("transfer-w-fashion59-hard").weights is not None:
        out.append(("Transfer: embeddings before and after the transform", projection_figure("fashion59")))
    return out


__all__ = ["precision_figure", "projection_figure", "sweep_table", "zoo_figures"]
