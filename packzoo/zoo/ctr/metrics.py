"""Metrics of the CTR family, from scikit-learn: AUC and logloss, for CTR and CVR, overall and tail.

CTR is scored on every row (label: click). CVR is scored on the clicked rows only (label:
conversion given click), the rows where it is defined. The tail slice is the rows of items with
few training rows (see :mod:`packzoo.zoo.data.movielens`).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score


def _score(y: np.ndarray, p: np.ndarray) -> tuple[float | None, float | None]:
    y = np.asarray(y, float)
    p = np.clip(np.asarray(p, float), 1e-7, 1 - 1e-7)
    if len(y) == 0:
        return None, None
    ll = float(log_loss(y, p, labels=[0, 1]))
    if len(np.unique(y)) < 2:
        return None, ll
    return float(roc_auc_score(y, p)), ll


def ctr_metrics(click: np.ndarray, conversion: np.ndarray, p_ctr: np.ndarray, p_cvr: np.ndarray,
                tail: np.ndarray | None = None, digits: int = 9) -> dict[str, float | int | None]:
    """``{ctr_auc, ctr_logloss, cvr_auc, cvr_logloss, rows, clicked}`` (+ ``tail_*`` when ``tail`` is given).

    Args:
        click: 0/1 labels of every row.
        conversion: 0/1 conversion labels, nan on unclicked rows (those are not scored for CVR).
        p_ctr, p_cvr: predicted probabilities.
        tail: boolean mask of the tail rows.
        digits: rounding of the figures (so cards compare exactly).
    """
    click = np.asarray(click, float)
    conversion = np.asarray(conversion, float)
    out: dict[str, float | int | None] = {}

    def add(prefix: str, mask: np.ndarray) -> None:
        auc, ll = _score(click[mask], np.asarray(p_ctr)[mask])
        known = mask & ~np.isnan(conversion)
        cauc, cll = _score(conversion[known], np.asarray(p_cvr)[known])
        for k, v in (("ctr_auc", auc), ("ctr_logloss", ll), ("cvr_auc", cauc), ("cvr_logloss", cll)):
            out[prefix + k] = None if v is None else round(v, digits)
        out[prefix + "rows"] = int(mask.sum())
        out[prefix + "clicked"] = int(known.sum())

    add("", np.ones(len(click), bool))
    if tail is not None:
        add("tail_", np.asarray(tail, bool))
    return out


def auc_by_bucket(click: np.ndarray, p_ctr: np.ndarray, counts: np.ndarray, edges: tuple[int, ...]
                  ) -> list[tuple[str, int, float | None]]:
    """CTR AUC of the rows whose item has a training-row count in each ``[edges[i], edges[i+1])``."""
    out = []
    bounds = list(edges) + [np.iinfo(np.int64).max]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        m = (counts >= lo) & (counts < hi)
        auc, _ = _score(np.asarray(click)[m], np.asarray(p_ctr)[m])
        label = f"{lo}+" if hi == np.iinfo(np.int64).max else f"{lo}-{hi - 1}"
        out.append((label, int(m.sum()), auc))
    return out


__all__ = ["auc_by_bucket", "ctr_metrics"]
