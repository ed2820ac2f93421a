"""The CTR family's networks: logistic regression, random coding + towers, embedding tables + towers.

Every model reads a :class:`~packzoo.zoo.data.clicklog.ClickTable` (bags of int64 ids per field)
and returns two logits per row: click (CTR) and conversion given click (CVR).

- ``lr`` (:class:`HashedLR`): logistic regression on one-hot features hashed (per field) into
  ``lr_buckets`` shared buckets; one weight per bucket and task (the talk's baseline).
- ``rc`` (:class:`TowerModel` with :class:`CodedFields`): each field's bag of ids is coded by
  :class:`~packzoo.zoo.ctr.coding.RandomCoding` into ``code_dim[f]`` dims, then a learned per-field
  linear layer maps the code to ``field_dim`` (computed as ``embedding_bag`` over the layer's
  weight: the same product, no dense code matrix).
- ``embedding`` (:class:`TowerModel` with :class:`EmbeddedFields`): the usual practice: a learned
  table of ``buckets[f]`` rows per field, ids hashed into it.

The towers: the user fields' vectors, concatenated, go through an MLP to a user representation u;
likewise the item fields to v, and the context fields (when there are any) to c. The heads are
linear in ``[u, v, c, u * v]`` (the elementwise product is where the user x item interaction
enters linearly; a linear head on ``[u, v]`` alone could not express it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from packzoo.zoo.ctr.coding import RandomCoding
from packzoo.zoo.data.hashing import hash_ids, salt
from packzoo.zoo.data.clicklog import GROUPS, ClickTable

KINDS = ("lr", "rc", "embedding")


class ModelConfigError(ValueError):
    """An invalid CTR model config; the message names the key."""


@dataclass(frozen=True)
class CTRConfig:
    """Architecture of a CTR model (what rebuilds its tensors; stored in the weights card).

    Attributes:
        kind: ``lr``, ``rc`` or ``embedding``.
        fields: ``[[name, group], ...]`` in coding order (group: user, item or context).
        code_dim: rc: code dimension per field (a field missing here gets ``default_dim``).
        buckets: embedding: table rows per field (missing: ``default_dim``).
        default_dim: code dim / buckets of fields not listed.
        nnz: rc: non-zeros per id in the random coding.
        field_dim: the per-field vector size.
        hidden: hidden layer sizes of each tower's MLP.
        rep_dim: size of the user / item / context representations.
        dropout: dropout in the towers (training only).
        gate_fields: fields (e.g. ``user_id``) whose ids are counted in a count-min sketch during
            training; at inference an id the sketch has seen fewer than ``min_count`` times is
            treated as missing (weight 0) instead of feeding its never-trained code to the tower.
            Memory stays fixed (``2 x sketch_width`` counters per field), whatever the id space.
        id_dropout: training only: each row's gated fields are dropped with this probability, so
            the towers learn to work from the other fields when an id is missing (cold start).
        sketch_width, min_count: the sketch's width and the count an id needs to be used.
        lr_buckets: lr: hash buckets (shared by all fields).
        seed: seed of the hashes (coding and table hashing).
    """

    kind: str = "rc"
    fields: tuple[tuple[str, str], ...] = ()
    code_dim: dict[str, int] = field(default_factory=dict)
    buckets: dict[str, int] = field(default_factory=dict)
    default_dim: int = 64
    nnz: int = 4
    field_dim: int = 8
    hidden: tuple[int, ...] = (64,)
    rep_dim: int = 16
    dropout: float = 0.0
    gate_fields: tuple[str, ...] = ()
    id_dropout: float = 0.0
    sketch_width: int = 8192
    min_count: int = 1
    lr_buckets: int = 1 << 18
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ModelConfigError(f"kind must be one of {KINDS}, got {self.kind!r}")
        fs = tuple((str(n), str(g)) for n, g in self.fields)
        object.__setattr__(self, "fields", fs)
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "gate_fields", tuple(str(f) for f in self.gate_fields))
        if not fs:
            raise ModelConfigError("fields must name at least one field")
        names = [n for n, _ in fs]
        if len(set(names)) != len(names):
            raise ModelConfigError(f"fields repeat a name: {names}")
        for n, g in fs:
            if g not in GROUPS:
                raise ModelConfigError(f"field {n!r}: group must be one of {GROUPS}, got {g!r}")
        if self.kind != "lr":
            for g in ("user", "item"):
                if g not in {g2 for _, g2 in fs}:
                    raise ModelConfigError(f"a tower model needs at least one {g} field")
        for key in ("default_dim", "nnz", "field_dim", "rep_dim", "lr_buckets"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ModelConfigError(f"{key} must be a positive integer, got {v!r}")
        for key in ("code_dim", "buckets"):
            for n, v in getattr(self, key).items():
                if n not in names:
                    raise ModelConfigError(f"{key} names unknown field {n!r}; fields: {names}")
                if not isinstance(v, int) or v < 1:
                    raise ModelConfigError(f"{key}[{n!r}] must be a positive integer, got {v!r}")
        if any(h < 1 for h in self.hidden):
            raise ModelConfigError(f"hidden sizes must be positive, got {self.hidden}")
        if not 0 <= self.dropout < 1:
            raise ModelConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.id_dropout < 1:
            raise ModelConfigError(f"id_dropout must be in [0, 1), got {self.id_dropout}")
        for f in self.gate_fields:
            if f not in names:
                raise ModelConfigError(f"gate_fields names unknown field {f!r}; fields: {names}")
        for key in ("sketch_width", "min_count"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ModelConfigError(f"{key} must be a positive integer, got {v!r}")

    def dim_of(self, name: str) -> int:
        table = self.code_dim if self.kind == "rc" else self.buckets
        return int(table.get(name, self.default_dim))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fields"] = [list(f) for f in self.fields]
        d["hidden"] = list(self.hidden)
        d["gate_fields"] = list(self.gate_fields)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CTRConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ModelConfigError(f"unknown config keys {unknown}; known: {sorted(known)}")
        d = dict(d)
        if "fields" in d:
            d["fields"] = tuple(tuple(f) for f in d["fields"])
        if "hidden" in d:
            d["hidden"] = tuple(d["hidden"])
        if "gate_fields" in d:
            d["gate_fields"] = tuple(d["gate_fields"])
        return cls(**d)


def _field_ids(table: ClickTable, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        return table.ids[name], table.weights[name]
    except KeyError:
        raise ModelConfigError(f"the data has no field {name!r}; it has {table.fields}") from None


class CodedFields(nn.Module):
    """Random coding per field, then a learned linear layer per field (``code_dim -> field_dim``)."""

    def __init__(self, cfg: CTRConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.coders = [RandomCoding(cfg.dim_of(n), min(cfg.nnz, cfg.dim_of(n)), cfg.seed) for n, _ in cfg.fields]
        # W_f (code_dim, field_dim): row r is what code coordinate r contributes; init as a
        # Linear(code_dim, field_dim) with unit-variance inputs would be.
        self.layers = nn.ParameterList([nn.Parameter(torch.randn(c.dim, cfg.field_dim) * 0.1) for c in self.coders])

    def forward(self, table: ClickTable) -> list[torch.Tensor]:
        out = []
        for f, ((name, _), coder, w) in enumerate(zip(self.cfg.fields, self.coders, self.layers)):
            ids, wts = _field_ids(table, name)
            rows, signs = coder.columns(ids, f)  # (B, L, s)
            vals = signs * wts[..., None]
            b = ids.shape[0]
            out.append(F.embedding_bag(torch.from_numpy(rows.reshape(b, -1)), w,
                                       per_sample_weights=torch.from_numpy(vals.reshape(b, -1)), mode="sum"))
        return out

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.layers)


class EmbeddedFields(nn.Module):
    """A learned embedding table per field; ids hashed into ``buckets[f]`` rows (bags summed)."""

    def __init__(self, cfg: CTRConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tables = nn.ParameterList([nn.Parameter(torch.randn(cfg.dim_of(n), cfg.field_dim) * 0.1)
                                        for n, _ in cfg.fields])

    def forward(self, table: ClickTable) -> list[torch.Tensor]:
        out = []
        for f, ((name, _), w) in enumerate(zip(self.cfg.fields, self.tables)):
            ids, wts = _field_ids(table, name)
            idx = (hash_ids(ids, salt(self.cfg.seed, f, 977)) % np.uint64(w.shape[0])).astype(np.int64)
            out.append(F.embedding_bag(torch.from_numpy(idx), w, per_sample_weights=torch.from_numpy(
                np.ascontiguousarray(wts, np.float32)), mode="sum"))
        return out

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.tables)


def _mlp(d_in: int, hidden: tuple[int, ...], d_out: int, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(d_in, h), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        d_in = h
    layers.append(nn.Linear(d_in, d_out))
    return nn.Sequential(*layers)


class TowerModel(nn.Module):
    """Field vectors -> user / item (/ context) towers -> representations -> linear CTR and CVR heads."""

    def __init__(self, cfg: CTRConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = CodedFields(cfg) if cfg.kind == "rc" else EmbeddedFields(cfg)
        self.present = [g for g in GROUPS if any(g2 == g for _, g2 in cfg.fields)]
        self.towers = nn.ModuleDict({
            g: _mlp(cfg.field_dim * sum(1 for _, g2 in cfg.fields if g2 == g), cfg.hidden, cfg.rep_dim, cfg.dropout)
            for g in self.present})
        feat = cfg.rep_dim * (len(self.present) + 1)
        self.ctr_head = nn.Linear(feat, 1)
        self.cvr_head = nn.Linear(feat, 1)
        if cfg.gate_fields:
            self.register_buffer("sketch", torch.zeros(len(cfg.gate_fields), 2, cfg.sketch_width, dtype=torch.int32))

    def _sketch_slots(self, k: int, ids: np.ndarray) -> list[torch.Tensor]:
        w = np.uint64(self.cfg.sketch_width)
        return [torch.from_numpy((hash_ids(ids, salt(self.cfg.seed, k, 7001 + r)) % w).astype(np.int64))
                for r in range(2)]

    def gate(self, table: ClickTable) -> ClickTable:
        """Training: count the gated ids, drop them with ``id_dropout``; inference: drop unseen ids."""
        if not self.cfg.gate_fields:
            return table
        weights = dict(table.weights)
        for k, f in enumerate(self.cfg.gate_fields):
            ids, w = table.ids[f], np.asarray(table.weights[f], np.float32)
            slots = self._sketch_slots(k, ids)
            if self.training:
                with torch.no_grad():
                    inc = torch.zeros_like(self.sketch[k])
                    for r in range(2):
                        inc[r].index_add_(0, slots[r].reshape(-1), torch.from_numpy((w > 0).astype(np.int32).reshape(-1)))
                    if torch.distributed.is_available() and torch.distributed.is_initialized():
                        # data-parallel: every process counts every process's rows, so the sketches
                        # stay equal (and DDP's buffer broadcast from rank 0 loses nothing)
                        torch.distributed.all_reduce(inc)
                    self.sketch[k] += inc
                if self.cfg.id_dropout:
                    keep = (torch.rand(len(w)) >= self.cfg.id_dropout).numpy()
                    weights[f] = w * keep[:, None]
            else:
                count = torch.minimum(self.sketch[k, 0][slots[0]], self.sketch[k, 1][slots[1]]).numpy()
                weights[f] = w * (count >= self.cfg.min_count)
        return ClickTable(table.ids, weights, table.groups, table.click, table.conversion, table.extra)

    def representations(self, table: ClickTable) -> dict[str, torch.Tensor]:
        """The user / item / context representations of each row."""
        vecs = self.encoder(self.gate(table))
        # the L2 norm of the looked-up field vectors (what matrix factorisation regularises): the
        # trainer adds ``reg * penalty`` to the loss; only rows in the batch are touched
        if self.training:
            self.penalty = sum((v**2).sum(1).mean() for v in vecs)
        reps = {}
        for g in self.present:
            x = torch.cat([v for v, (_, g2) in zip(vecs, self.cfg.fields) if g2 == g], dim=1)
            reps[g] = self.towers[g](x)
        return reps

    def forward(self, table: ClickTable) -> tuple[torch.Tensor, torch.Tensor]:
        reps = self.representations(table)
        z = torch.cat([reps[g] for g in self.present] + [reps["user"] * reps["item"]], dim=1)
        return self.ctr_head(z).squeeze(1), self.cvr_head(z).squeeze(1)


class HashedLR(nn.Module):
    """Logistic regression on hashed one-hot features: ``lr_buckets`` weights per task, plus biases."""

    def __init__(self, cfg: CTRConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.weight = nn.Parameter(torch.zeros(cfg.lr_buckets, 2))
        self.bias = nn.Parameter(torch.zeros(2))

    def forward(self, table: ClickTable) -> tuple[torch.Tensor, torch.Tensor]:
        idx, wts = [], []
        for f, (name, _) in enumerate(self.cfg.fields):
            ids, w = _field_ids(table, name)
            idx.append((hash_ids(ids, salt(self.cfg.seed, f, 401)) % np.uint64(self.cfg.lr_buckets)).astype(np.int64))
            wts.append(np.asarray(w, np.float32))
        out = F.embedding_bag(torch.from_numpy(np.concatenate(idx, 1)), self.weight,
                              per_sample_weights=torch.from_numpy(np.concatenate(wts, 1)), mode="sum") + self.bias
        return out[:, 0], out[:, 1]


def build_model(cfg: CTRConfig) -> nn.Module:
    """The network of ``cfg``."""
    return HashedLR(cfg) if cfg.kind == "lr" else TowerModel(cfg)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def field_params(model: nn.Module) -> int:
    """Parameters of the per-field part (coding layers, embedding tables, or the LR weights)."""
    if isinstance(model, TowerModel):
        return model.encoder.parameter_count()
    return count_params(model)


@torch.no_grad()
def predict(model: nn.Module, table: ClickTable, batch_size: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """CTR and CVR probabilities of every row (eval mode, batches of ``batch_size``)."""
    was = model.training
    model.eval()
    ctr, cvr = [], []
    for s in range(0, len(table), batch_size):
        a, b = model(table.take(slice(s, s + batch_size)))
        ctr.append(torch.sigmoid(a).numpy())
        cvr.append(torch.sigmoid(b).numpy())
    model.train(was)
    if not ctr:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    return np.concatenate(ctr), np.concatenate(cvr)


__all__ = ["KINDS", "CTRConfig", "CodedFields", "EmbeddedFields", "HashedLR", "ModelConfigError", "TowerModel",
           "build_model", "count_params", "field_params", "predict"]
