"""Retrieval metrics of embeddings: precision@1 and MAP@R (pytorch-metric-learning's
AccuracyCalculator) and k-NN accuracy.

- precision@1 and MAP@R (Musgrave et al. 2020, "A metric learning reality check"): every held-out
  image queries all the other held-out images (leave one out), squared Euclidean distance; R is
  the number of other images of the query's tag.
- k-NN accuracy: every held-out image gets the majority tag of its ``k`` nearest images in the
  labelled pool (the labels the transform was learned from), ties to the nearer; this is the
  figure that depends on how many labels there are.
"""

from __future__ import annotations

import torch

from packzoo.zoo.transfer.mining import squared_distances


def retrieval_metrics(embeddings: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """``{"p_at_1", "map_at_r"}`` of leave-one-out retrieval among ``embeddings``."""
    from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
    from pytorch_metric_learning.utils.inference import CustomKNN

    from packzoo.zoo.transfer.loss import squared_l2

    emb = torch.as_tensor(embeddings).float()
    lab = torch.as_tensor(labels).long()
    if emb.dim() != 2 or len(emb) != len(lab) or len(emb) < 2:
        raise ValueError(f"need (N >= 2, D) embeddings and N labels, got {tuple(emb.shape)} and {tuple(lab.shape)}")
    calc = AccuracyCalculator(include=("precision_at_1", "mean_average_precision_at_r"), k="max_bin_count",
                              device=torch.device("cpu"), knn_func=CustomKNN(squared_l2(), batch_size=1024))
    acc = calc.get_accuracy(emb, lab)
    return {"p_at_1": float(acc["precision_at_1"]), "map_at_r": float(acc["mean_average_precision_at_r"])}


def knn_accuracy(query: torch.Tensor, query_labels: torch.Tensor, reference: torch.Tensor,
                 reference_labels: torch.Tensor, k: int = 5) -> float:
    """Share of ``query`` whose majority tag among the ``k`` nearest ``reference`` items is right."""
    q, r = torch.as_tensor(query).float(), torch.as_tensor(reference).float()
    ql, rl = torch.as_tensor(query_labels).long(), torch.as_tensor(reference_labels).long()
    if len(r) != len(rl) or len(q) != len(ql) or len(r) == 0:
        raise ValueError("query/reference and their labels must have matching, non-zero lengths")
    k = min(k, len(r))
    classes = int(max(rl.max(), ql.max())) + 1
    correct = 0
    for s in range(0, len(q), 1024):
        d, idx = torch.topk(squared_distances(q[s:s + 1024], r), k, dim=1, largest=False, sorted=True)
        votes = torch.zeros(len(idx), classes)
        # Rank-weighted ties: a vote is worth 1 plus a tiny bonus for nearer ranks.
        weight = 1.0 + 1e-3 * torch.arange(k, 0, -1, dtype=torch.float32) / k
        votes.scatter_add_(1, rl[idx], weight.expand_as(idx).contiguous())
        correct += int((votes.argmax(1) == ql[s:s + 1024]).sum())
    return correct / len(q)


__all__ = ["knn_accuracy", "retrieval_metrics"]
