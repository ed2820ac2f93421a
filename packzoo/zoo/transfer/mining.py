"""The talk's hard-triplet miner, as a pytorch-metric-learning miner, and a random-triplet miner.

The talk: all O(n^3) triplets are too many, so every query keeps its K nearest neighbours (K = 200),
recomputed at every epoch; the negatives are the neighbours with another tag that lie closer to the
query than its positives. :class:`KNNTripletMiner` does that on a whole labelled pool at once
(call it once per epoch with the pool's current embeddings f(x)): the K-nearest-neighbour lists come
from batched matrix products (||a||^2 + ||b||^2 - 2ab, then ``topk``), never Python loops over
queries, and the triplets are drawn from those lists.

Which triplets count as what (squared Euclidean d, margin m; FaceNet's terms, as pytorch-metric-
learning's ``TripletMarginMiner`` uses them; the tests pin both down):

- hard: d(a, n) < d(a, p): the negative is closer than the positive (the talk's rule);
- semi-hard: d(a, p) <= d(a, n) < d(a, p) + m: farther than the positive, but inside the margin;
- violating: hard or semi-hard, every triplet with a positive loss.

Both miners are :class:`pytorch_metric_learning.miners.BaseMiner` subclasses: they return
``(anchors, positives, negatives)`` index tensors that any of its triplet losses accept.
"""

from __future__ import annotations

import torch
from pytorch_metric_learning.miners import BaseMiner

KINDS = ("hard", "semihard", "violating")
CHOICES = ("random", "hardest")
POSITIVES = ("knn", "pool")


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(len(a), len(b)) squared Euclidean distances by one matrix product (clamped at 0)."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return d.clamp_(min=0.0)


@torch.no_grad()
def knn_lists(embeddings: torch.Tensor, k: int, batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Each item's ``k`` nearest other items: ``(indices (N, k'), squared distances (N, k'))``,
    nearest first, ``k' = min(k, N - 1)``; computed ``batch_size`` queries per matrix product."""
    n = len(embeddings)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if n < 2:
        raise ValueError(f"nearest neighbours need at least 2 items, got {n}")
    k = min(k, n - 1)
    norms = (embeddings * embeddings).sum(1)
    idx_out, dist_out = [], []
    for s in range(0, n, batch_size):
        q = embeddings[s:s + batch_size]
        # ||b||^2 - 2ab ranks the references like the squared distance (||a||^2 is the same along a
        # row); one addmm, and ||a||^2 is added to the k kept values only.
        d = torch.addmm(norms[None, :], q, embeddings.T, alpha=-2.0)
        rows = torch.arange(len(d))
        d[rows, rows + s] = float("inf")  # a query is not its own neighbour
        part, idx = torch.topk(d, k, dim=1, largest=False, sorted=True)
        idx_out.append(idx)
        dist_out.append((part + norms[s:s + batch_size, None]).clamp_(min=0.0))
    return torch.cat(idx_out), torch.cat(dist_out)


def _same_tag_draws(labels: torch.Tensor, draws: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``draws`` uniformly random items of each item's own tag, never itself: (N, draws) indices and
    a mask that is False where the tag has no other item. Vectorised through a label sort."""
    n = len(labels)
    order = torch.argsort(labels, stable=True)
    rank = torch.empty(n, dtype=torch.long)
    rank[order] = torch.arange(n)
    _, counts = torch.unique(labels, return_counts=True, sorted=True)
    starts = torch.cumsum(counts, 0) - counts
    tag = torch.searchsorted(torch.unique(labels, sorted=True), labels)
    cnt, start = counts[tag], starts[tag]
    r = (torch.rand(n, draws, generator=generator) * (cnt - 1).clamp(min=1)[:, None]).long()
    pos = start[:, None] + r
    pos = pos + (pos >= rank[:, None]).long()  # skip the item itself
    ok = (cnt >= 2)[:, None].expand(n, draws)
    return order[pos.clamp(max=n - 1)], ok


def _other_tag_draws(labels: torch.Tensor, draws: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``draws`` uniformly random items of any other tag: (N, draws) indices and a validity mask."""
    n = len(labels)
    order = torch.argsort(labels, stable=True)
    uniq, counts = torch.unique(labels, return_counts=True, sorted=True)
    starts = torch.cumsum(counts, 0) - counts
    tag = torch.searchsorted(uniq, labels)
    cnt, start = counts[tag], starts[tag]
    others = n - cnt
    r = (torch.rand(n, draws, generator=generator) * others.clamp(min=1)[:, None]).long()
    pos = r + (r >= start[:, None]).long() * cnt[:, None]  # jump over the block of the own tag
    ok = (others >= 1)[:, None].expand(n, draws)
    return order[pos.clamp(max=n - 1)], ok


class KNNTripletMiner(BaseMiner):
    """The talk's miner: triplets from every query's K-nearest-neighbour list.

    Call it on the whole labelled pool once per epoch (``miner(embeddings, labels)``); it computes
    the lists anew from those embeddings and returns ``(anchors, positives, negatives)``.

    Args:
        k: neighbours kept per query (the talk: 200; capped at N - 1).
        triplets_per_anchor: at most this many triplets per query, drawn among the qualifying ones.
        kind: ``hard`` (d(a,n) < d(a,p), the talk), ``semihard`` (d(a,p) <= d(a,n) < d(a,p) + margin)
            or ``violating`` (either).
        margin: the loss margin (only ``semihard``/``violating`` use it).
        positives: ``knn``: the query's same-tag neighbours in its list; ``pool``: random same-tag
            items of the whole pool (so a query with no same-tag neighbour still gets triplets);
            negatives always come from the list.
        choice: ``random`` (uniform among the qualifying triplets) or ``hardest`` (largest
            d(a,p) - d(a,n) first).
        seed: seeds the draws (the generator's state is ``self.generator``; checkpoint it to resume).
        chunk: queries handled per vectorised step (memory: chunk x P x K booleans).
    """

    def __init__(self, k: int = 200, triplets_per_anchor: int = 5, kind: str = "hard", margin: float = 1.0,
                 positives: str = "knn", choice: str = "random", seed: int = 0, chunk: int = 256, **kwargs) -> None:
        from packzoo.zoo.transfer.loss import squared_l2

        super().__init__(distance=kwargs.pop("distance", squared_l2()), **kwargs)
        for name, value, allowed in (("kind", kind, KINDS), ("choice", choice, CHOICES), ("positives", positives, POSITIVES)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        for name, value in (("k", k), ("triplets_per_anchor", triplets_per_anchor), ("chunk", chunk)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not margin >= 0:
            raise ValueError(f"margin must be >= 0, got {margin!r}")
        self.k, self.triplets_per_anchor, self.kind, self.margin = k, triplets_per_anchor, kind, float(margin)
        self.positives, self.choice, self.chunk = positives, choice, chunk
        self.generator = torch.Generator().manual_seed(int(seed))
        self.last_knn: tuple[torch.Tensor, torch.Tensor] | None = None

    def _qualifies(self, dp: torch.Tensor, dn: torch.Tensor) -> torch.Tensor:
        if self.kind == "hard":
            return dn < dp
        if self.kind == "semihard":
            return (dn >= dp) & (dn < dp + self.margin)
        return dn < dp + self.margin

    def mine(self, embeddings, labels, ref_emb, ref_labels):
        if ref_emb is not embeddings:
            raise ValueError("KNNTripletMiner mines within one pool (its K-NN lists are the pool's own): pass no ref_emb")
        emb = embeddings.detach().float()
        labels = labels.long()
        idx, dist = knn_lists(emb, self.k, batch_size=max(self.chunk, 1024))
        self.last_knn = (idx, dist)
        n = len(emb)
        if self.positives == "pool":
            p_idx, p_ok = _same_tag_draws(labels, self.triplets_per_anchor, self.generator)
            p_dist = ((emb[:, None, :] - emb[p_idx]) ** 2).sum(-1)
        else:
            p_idx, p_ok, p_dist = idx, labels[idx] == labels[:, None], dist
        n_ok = labels[idx] != labels[:, None]
        if self.choice == "random":
            return self._sample_ranges(dist, idx, n_ok, p_idx, p_ok, p_dist)
        t = self.triplets_per_anchor
        out_a, out_p, out_n = [], [], []
        for s in range(0, n, self.chunk):
            sl = slice(s, s + self.chunk)
            dp, dn = p_dist[sl][:, :, None], dist[sl][:, None, :]
            valid = p_ok[sl][:, :, None] & n_ok[sl][:, None, :] & self._qualifies(dp, dn)
            if self.choice == "hardest":
                score = torch.where(valid, dp - dn, torch.tensor(-float("inf")))
            else:
                score = torch.where(valid, torch.rand(valid.shape, generator=self.generator), torch.tensor(-1.0))
            flat = score.reshape(len(score), -1)
            top, which = torch.topk(flat, min(t, flat.shape[1]), dim=1)
            keep = valid.reshape(len(score), -1).gather(1, which)
            rows = torch.arange(s, s + len(score))[:, None].expand_as(which)
            pi, ni = which // valid.shape[2], which % valid.shape[2]
            out_a.append(rows[keep])
            out_p.append(p_idx[sl].gather(1, pi)[keep])
            out_n.append(idx[sl].gather(1, ni)[keep])
        return torch.cat(out_a), torch.cat(out_p), torch.cat(out_n)


    def _sample_ranges(self, dist, idx, n_ok, p_idx, p_ok, p_dist):
        """Uniform draws among the qualifying (positive, negative) pairs in O(N K log K), not O(N K^2).

        The lists are sorted by distance, so for a positive at squared distance dp the qualifying
        negatives are the other-tag items in one rank range: [0, rank(dp)) for hard, [rank(dp),
        rank(dp + m)) for semi-hard, [0, rank(dp + m)) for violating. Counting other-tag items with
        a cumulative sum gives each positive's share; ``triplets_per_anchor`` draws (with
        replacement; repeated triplets are dropped) pick a pair by two ``searchsorted``.
        """
        n, k = dist.shape
        t = self.triplets_per_anchor
        cum = torch.cat([torch.zeros(n, 1, dtype=torch.long), torch.cumsum(n_ok.long(), 1)], 1)  # (n, k+1)
        dist = dist.contiguous()
        below = lambda v: torch.searchsorted(dist, v.contiguous(), side="left")  # noqa: E731 - ranks with d < v
        if self.kind == "hard":
            lo, hi = torch.zeros_like(p_idx), below(p_dist)
        elif self.kind == "semihard":
            lo, hi = below(p_dist), below(p_dist + self.margin)
        else:
            lo, hi = torch.zeros_like(p_idx), below(p_dist + self.margin)
        count = torch.where(p_ok, cum.gather(1, hi) - cum.gather(1, lo), torch.zeros_like(hi))
        ccount = torch.cumsum(count, 1)
        total = ccount[:, -1]
        u = (torch.rand(n, t, generator=self.generator, dtype=torch.float64) * total[:, None]).long()
        u = torch.minimum(u, (total - 1).clamp(min=0)[:, None])
        j = torch.searchsorted(ccount, u, side="right").clamp(max=ccount.shape[1] - 1)  # which positive
        r = u - (ccount.gather(1, j) - count.gather(1, j))  # which of its negatives
        target = cum.gather(1, lo.gather(1, j)) + r + 1  # the target-th other-tag item of the row
        rank = torch.searchsorted(cum[:, 1:].contiguous(), target, side="left").clamp(max=k - 1)
        keep = (total > 0)[:, None].expand(n, t)
        a = torch.arange(n)[:, None].expand(n, t)[keep]
        p = p_idx.gather(1, j)[keep]
        neg = idx.gather(1, rank)[keep]
        uniq = torch.unique(torch.stack([a, p, neg], 1), dim=0)  # sorted by anchor; drops repeats
        return uniq[:, 0], uniq[:, 1], uniq[:, 2]


class RandomTripletMiner(BaseMiner):
    """The talk's baseline: ``triplets_per_anchor`` random (same-tag, other-tag) pairs per query,
    drawn from the whole pool without looking at distances."""

    def __init__(self, triplets_per_anchor: int = 5, seed: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(triplets_per_anchor, int) or isinstance(triplets_per_anchor, bool) or triplets_per_anchor < 1:
            raise ValueError(f"triplets_per_anchor must be a positive integer, got {triplets_per_anchor!r}")
        self.triplets_per_anchor = triplets_per_anchor
        self.generator = torch.Generator().manual_seed(int(seed))

    def mine(self, embeddings, labels, ref_emb, ref_labels):
        labels = labels.long()
        t = self.triplets_per_anchor
        p, p_ok = _same_tag_draws(labels, t, self.generator)
        n, n_ok = _other_tag_draws(labels, t, self.generator)
        ok = p_ok & n_ok
        a = torch.arange(len(labels))[:, None].expand_as(p)
        return a[ok], p[ok], n[ok]


def batch_miner(kind: str, margin: float = 1.0):
    """pytorch-metric-learning's in-batch ``TripletMarginMiner`` (``hard`` or ``semihard``) on the
    squared Euclidean distance: the baselines that mine inside each mini-batch."""
    from pytorch_metric_learning.miners import TripletMarginMiner

    from packzoo.zoo.transfer.loss import squared_l2

    if kind not in ("hard", "semihard"):
        raise ValueError(f"kind must be 'hard' or 'semihard', got {kind!r}")
    return TripletMarginMiner(margin=margin, type_of_triplets=kind, distance=squared_l2())


__all__ = ["CHOICES", "KINDS", "POSITIVES", "KNNTripletMiner", "RandomTripletMiner", "batch_miner", "knn_lists",
           "squared_distances"]
