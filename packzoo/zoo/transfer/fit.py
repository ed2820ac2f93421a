"""Learning the transform head on a labelled target pool, one epoch at a time, for every method.

Methods (all on the same frozen features, the same head, optimiser, epochs and anchors per step):

- ``identity``: W = I, no training (the frozen, standardised features).
- ``knn``: the talk's miner (:class:`~packzoo.zoo.transfer.mining.KNNTripletMiner`), lists refreshed
  every epoch; ``kind``/``choice``/``positives`` select hard / semi-hard, random / hardest, ...
- ``random``: random triplets (:class:`~packzoo.zoo.transfer.mining.RandomTripletMiner`).
- ``batch-hard`` / ``batch-semihard``: pytorch-metric-learning's in-batch ``TripletMarginMiner``.

Every method trains with the talk's loss (:func:`~packzoo.zoo.transfer.loss.talk_loss`). One step
takes ``anchors_per_step`` anchors: for the pool miners their ``triplets_per_anchor`` triplets each,
for the in-batch miners a batch of that many images; so an epoch is the same number of steps
(ceil(N / anchors_per_step), fewer when the miner finds fewer triplets) for every method.
All randomness flows from ``seed`` through torch generators whose states :meth:`state` returns,
so a run resumed from a checkpoint continues bit-identically.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from packzoo.zoo.transfer.head import TransformConfig, TransformHead
from packzoo.zoo.transfer.loss import talk_loss
from packzoo.zoo.transfer.mining import CHOICES, KINDS, POSITIVES, KNNTripletMiner, RandomTripletMiner, batch_miner

METHODS = ("identity", "knn", "random", "batch-hard", "batch-semihard")


@dataclass(frozen=True)
class FitConfig:
    """How the head is learned.

    Attributes:
        method: one of :data:`METHODS`.
        k: neighbours per query for ``knn`` (the talk: 200).
        triplets_per_anchor: triplets per query and epoch for ``knn`` and ``random``.
        kind, choice, positives: the ``knn`` miner's settings (see :class:`KNNTripletMiner`).
        anchors_per_step: anchors (pool miners) or images (in-batch miners) per optimiser step.
        lr: Adam's learning rate.
        weight_decay: pulls W towards 0 (Adam's L2 term).
        margin: the loss margin (the talk: 1).
    """

    method: str = "knn"
    k: int = 200
    triplets_per_anchor: int = 5
    kind: str = "hard"
    choice: str = "random"
    positives: str = "knn"
    anchors_per_step: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    margin: float = 1.0

    def __post_init__(self) -> None:
        for name, value, allowed in (("method", self.method, METHODS), ("kind", self.kind, KINDS),
                                     ("choice", self.choice, CHOICES), ("positives", self.positives, POSITIVES)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        for name in ("k", "triplets_per_anchor", "anchors_per_step"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not (self.lr > 0 and self.weight_decay >= 0 and self.margin >= 0):
            raise ValueError(f"need lr > 0, weight_decay >= 0, margin >= 0; got {self.lr}, {self.weight_decay}, {self.margin}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TransformTrainer:
    """Learns a :class:`TransformHead` on ``features`` (N, D) with tags ``labels`` (N,).

    Args:
        features: the frozen CNN's features of the labelled pool.
        labels: their tags.
        fit: the method and its settings.
        head: the head's architecture (``in_dim`` must be D).
        seed: seeds the miners, the shuffles and nothing else (W starts at the identity).
    """

    def __init__(self, features: torch.Tensor, labels: torch.Tensor, fit: FitConfig,
                 head: TransformConfig | None = None, seed: int = 0) -> None:
        self.x = torch.as_tensor(features).float()
        self.y = torch.as_tensor(labels).long()
        if self.x.dim() != 2 or len(self.x) != len(self.y):
            raise ValueError(f"need (N, D) features and N labels, got {tuple(self.x.shape)} and {tuple(self.y.shape)}")
        if len(torch.unique(self.y)) < 2:
            raise ValueError("triplets need at least two tags in the labelled pool")
        self.fit = fit
        self.head = TransformHead(head or TransformConfig(in_dim=self.x.shape[1], out_dim=self.x.shape[1]))
        self.head.fit_standardisation(self.x)
        self.loss = talk_loss(fit.margin)
        self.opt = torch.optim.Adam([self.head.weight], lr=fit.lr, weight_decay=fit.weight_decay)
        self.shuffle = torch.Generator().manual_seed(int(seed) * 7919 + 1)
        if fit.method == "knn":
            self.miner: Any = KNNTripletMiner(k=fit.k, triplets_per_anchor=fit.triplets_per_anchor, kind=fit.kind,
                                              margin=fit.margin, positives=fit.positives, choice=fit.choice, seed=seed)
        elif fit.method == "random":
            self.miner = RandomTripletMiner(triplets_per_anchor=fit.triplets_per_anchor, seed=seed)
        elif fit.method.startswith("batch-"):
            self.miner = batch_miner(fit.method[len("batch-"):], fit.margin)
        else:
            self.miner = None
        self.epochs_done = 0
        self.last: dict[str, float] = {}

    def embed(self, features: torch.Tensor) -> torch.Tensor:
        """f(features) in eval mode, without gradients."""
        with torch.no_grad():
            return self.head(torch.as_tensor(features).float())

    def _triplet_step(self, a: torch.Tensor, p: torch.Tensor, n: torch.Tensor) -> float:
        # Anchors as pml's embeddings, positives and negatives as its ref_emb, each item once: the
        # loss's distance matrix is then (anchors x others), not (3T x 3T).
        ua, ai = torch.unique(a, return_inverse=True)
        ur, ri = torch.unique(torch.cat([p, n]), return_inverse=True)
        emb, ref = self.head(self.x[ua]), self.head(self.x[ur])
        loss = self.loss(emb, None, (ai, ri[:len(p)], ri[len(p):]), ref_emb=ref)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()

    def epoch(self) -> dict[str, float]:
        """One epoch; returns ``{"loss", "triplets", "steps"}`` (mean loss over its steps)."""
        method, b = self.fit.method, self.fit.anchors_per_step
        losses: list[float] = []
        triplets = 0
        if method in ("knn", "random"):
            a, p, n = self.miner(self.embed(self.x), self.y)
            triplets = len(a)
            # Shuffle the anchors (not the triplets), then step over anchors_per_step anchors at a time.
            order = torch.randperm(len(self.x), generator=self.shuffle)
            slot = torch.empty(len(self.x), dtype=torch.long)
            slot[order] = torch.arange(len(self.x))
            key = slot[a] * (len(a) + 1) + torch.arange(len(a))
            srt = torch.argsort(key)
            a, p, n = a[srt], p[srt], n[srt]
            step_of = slot[a] // b
            bounds = torch.searchsorted(step_of, torch.arange(0, (len(self.x) + b - 1) // b + 1))
            for i in range(len(bounds) - 1):
                s, e = int(bounds[i]), int(bounds[i + 1])
                if e > s:
                    losses.append(self._triplet_step(a[s:e], p[s:e], n[s:e]))
        elif method.startswith("batch-"):
            order = torch.randperm(len(self.x), generator=self.shuffle)
            for s in range(0, len(order), b):
                idx = order[s:s + b]
                emb = self.head(self.x[idx])
                tri = self.miner(emb, self.y[idx])
                triplets += len(tri[0])
                if len(tri[0]) == 0:
                    continue
                loss = self.loss(emb, self.y[idx], tri)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                losses.append(loss.item())
        self.epochs_done += 1
        self.last = {"loss": sum(losses) / len(losses) if losses else 0.0, "triplets": float(triplets),
                     "steps": float(len(losses))}
        return self.last

    # -- checkpoints -----------------------------------------------------------------------------
    def tensors(self) -> dict[str, torch.Tensor]:
        """Everything needed to resume: head, Adam's moments and step, generator states."""
        t = {f"head/{k}": v for k, v in self.head.state_dict().items()}
        st = self.opt.state.get(self.head.weight, {})
        for k in ("exp_avg", "exp_avg_sq", "step"):
            if k in st:
                t[f"adam/{k}"] = torch.as_tensor(st[k]).clone()
        t["rng/shuffle"] = self.shuffle.get_state()
        if getattr(self.miner, "generator", None) is not None:
            t["rng/miner"] = self.miner.generator.get_state()
        t["epochs_done"] = torch.tensor(self.epochs_done)
        return t

    def load_tensors(self, t: dict[str, torch.Tensor]) -> None:
        """Inverse of :meth:`tensors`."""
        self.head.load_state_dict({k[5:]: v for k, v in t.items() if k.startswith("head/")})
        if "adam/exp_avg" in t:
            self.opt.state[self.head.weight] = {k: t[f"adam/{k}"].clone() for k in ("step", "exp_avg", "exp_avg_sq")}
        self.shuffle.set_state(t["rng/shuffle"])
        if "rng/miner" in t:
            self.miner.generator.set_state(t["rng/miner"])
        self.epochs_done = int(t["epochs_done"])


__all__ = ["FitConfig", "METHODS", "TransformTrainer"]
