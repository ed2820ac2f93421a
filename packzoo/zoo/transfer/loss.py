"""The talk's triplet loss, by hand and as pytorch-metric-learning's TripletMarginLoss.

The talk: L(a, p, n) = [ ||f(a) - f(p)||^2 + 1 - ||f(a) - f(n)||^2 ]_+ . pytorch-metric-learning
computes ``relu(d(a, p) - d(a, n) + margin)`` with ``d`` its distance: with
``LpDistance(normalize_embeddings=False, p=2, power=2)`` (squared Euclidean, no normalisation) and
``margin=1`` it is the talk's loss term by term. Its default reducer (AvgNonZeroReducer) averages
over the triplets with a positive loss only; :func:`talk_loss` uses MeanReducer, the plain mean
over all mined triplets (tests check both against a hand computation).
"""

from __future__ import annotations

import torch

MARGIN = 1.0


def squared_l2():
    """pytorch-metric-learning's squared Euclidean distance on raw (unnormalised) embeddings."""
    from pytorch_metric_learning.distances import LpDistance

    return LpDistance(normalize_embeddings=False, p=2, power=2)


def talk_loss(margin: float = MARGIN, reducer: str = "mean"):
    """``TripletMarginLoss`` equal to the talk's loss: squared L2, ``margin``, reduced by
    ``reducer`` ("mean": over all triplets; "nonzero": over the positive terms; "sum")."""
    from pytorch_metric_learning.losses import TripletMarginLoss
    from pytorch_metric_learning.reducers import AvgNonZeroReducer, MeanReducer, SumReducer

    reducers = {"mean": MeanReducer, "nonzero": AvgNonZeroReducer, "sum": SumReducer}
    if reducer not in reducers:
        raise ValueError(f"reducer must be one of {sorted(reducers)}, got {reducer!r}")
    return TripletMarginLoss(margin=margin, distance=squared_l2(), reducer=reducers[reducer]())


def hand_loss(fa: torch.Tensor, fp: torch.Tensor, fn: torch.Tensor, margin: float = MARGIN) -> torch.Tensor:
    """The talk's loss of each triplet, written out: [||fa-fp||^2 + margin - ||fa-fn||^2]_+ ."""
    return torch.clamp(((fa - fp) ** 2).sum(1) + margin - ((fa - fn) ** 2).sum(1), min=0.0)


__all__ = ["MARGIN", "hand_loss", "squared_l2", "talk_loss"]
