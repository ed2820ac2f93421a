"""Pictures of the CTR family for the report's zoo section, from the shipped weights and cards.

- ROC curves of ``ctr-lr``, ``ctr-rc-mlp`` and ``ctr-embedding-mlp`` on the MovieLens-100k test
  rows of their split (a quick evaluation of the shipped weights: one forward pass, ~1 s);
- CTR AUC by item-popularity bucket (training rows of the test row's item): where the deep models
  help over logistic regression.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from packzoo.zoo import list_models, model_card

MODELS = ("ctr-lr", "ctr-rc-mlp", "ctr-embedding-mlp")
BUCKETS = (0, 20, 50, 100, 200, 400)
_COLORS = {"ctr-lr": "#7f7f7f", "ctr-rc-mlp": "#d62728", "ctr-embedding-mlp": "#1f77b4"}


def predictions() -> tuple[Any, dict[str, np.ndarray]]:
    """The MovieLens source of the shipped models' split and each shipped model's test CTR."""
    from packzoo.zoo import create_model
    from packzoo.zoo.ctr import predict
    from packzoo.zoo.ctr.sources import load_source

    names = [n for n in MODELS if n in list_models(family="ctr") and model_card(n).weights is not None]
    if not names:
        return None, {}
    cfg = model_card(names[0]).weights.config
    src = load_source(cfg["data"], split=cfg.get("split", "random"), seed=int(cfg.get("seed", 0)))
    return src, {n: predict(create_model(n, pretrained=True), src.test)[0] for n in names}


def roc_figure(src: Any = None, preds: dict[str, np.ndarray] | None = None) -> go.Figure:
    """ROC curves of the shipped models on the test rows (AUC in the legend)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    if preds is None:
        src, preds = predictions()
    fig = go.Figure()
    for name, p in preds.items():
        fpr, tpr, _ = roc_curve(src.test.click, p)
        keep = np.unique(np.linspace(0, len(fpr) - 1, 400).astype(int))  # 400 points draw the same curve
        auc = roc_auc_score(src.test.click, p)
        fig.add_trace(go.Scatter(x=fpr[keep], y=tpr[keep], mode="lines", name=f"{name} (AUC {auc:.4f})",
                                 line={"color": _COLORS.get(name)}))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dot", "color": "#bbb"}))
    fig.update_layout(title="MovieLens-100k click (rating >= 4): ROC on the random split's 20,000 test rows",
                      xaxis={"title": "false positive rate"}, yaxis={"title": "true positive rate"},
                      template="plotly_white")
    return fig


def bucket_figure(src: Any = None, preds: dict[str, np.ndarray] | None = None) -> go.Figure:
    """CTR AUC by item-popularity bucket (training rows of the item), one bar group per model."""
    from packzoo.zoo.ctr import auc_by_bucket

    if preds is None:
        src, preds = predictions()
    fig = go.Figure()
    for name, p in preds.items():
        rows = auc_by_bucket(src.test.click, p, src.item_train_rows, BUCKETS)
        fig.add_trace(go.Bar(x=[f"{lab}<br>({n} rows)" for lab, n, _ in rows], y=[a for _, _, a in rows], name=name,
                             marker={"color": _COLORS.get(name)}))
    fig.update_layout(title="CTR AUC by item popularity (training rows of the item)", barmode="group",
                      xaxis={"title": "training rows of the test row's item"},
                      yaxis={"title": "AUC", "range": [0.6, 0.85]}, template="plotly_white")
    return fig


def zoo_figures() -> list[tuple[str, go.Figure]]:
    """(title, figure) pairs for the report's zoo section (one evaluation shared by both)."""
    src, preds = predictions()
    if not preds:
        return []
    return [("CTR: ROC curves on MovieLens-100k", roc_figure(src, preds)),
            ("CTR: AUC by item popularity", bucket_figure(src, preds))]


__all__ = ["BUCKETS", "MODELS", "bucket_figure", "predictions", "roc_figure", "zoo_figures"]
