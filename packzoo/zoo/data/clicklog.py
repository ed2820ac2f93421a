"""Click logs as the CTR family reads them, and a seeded synthetic log in the talk's shape.

:class:`ClickTable` is the one in-memory form every source turns into (MovieLens, the synthetic
log, Criteo/CSV/Parquet chunks): per field a bag of int64 ids ``(rows, bag)`` with weights (0 =
padding; single-valued fields have bag 1), the field's group (``user``, ``item`` or ``context``),
and the labels: ``click`` and ``conversion`` (``nan`` where unknown, e.g. on unclicked rows).

:func:`synthetic_log` streams a seeded synthetic log (see its docstring for the hidden model).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from packzoo.zoo.data.hashing import hash_ids, salt
from packzoo.zoo.data.images import DatasetError

GROUPS = ("user", "item", "context")


@dataclass
class ClickTable:
    """Rows of a click log: bags of int64 ids per field, and labels.

    Attributes:
        ids: field name -> int64 array ``(rows, bag)``.
        weights: field name -> float32 array ``(rows, bag)``: 0 marks padding (missing values).
        groups: field name -> ``"user"``, ``"item"`` or ``"context"`` (which tower reads it), in
            the order the fields are coded.
        click: float32 ``(rows,)`` in {0, 1}.
        conversion: float32 ``(rows,)`` in {0, 1}, ``nan`` where unknown (unclicked rows).
        extra: per-row side data (``item``, ``user``, ``timestamp``, ...) not fed to models.
    """

    ids: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    groups: dict[str, str]
    click: np.ndarray
    conversion: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.click)
        if set(self.ids) != set(self.groups) or set(self.weights) != set(self.groups):
            raise DatasetError(f"ids, weights and groups name different fields: {sorted(self.ids)}, "
                               f"{sorted(self.weights)}, {sorted(self.groups)}")
        for f, g in self.groups.items():
            if g not in GROUPS:
                raise DatasetError(f"field {f!r}: group must be one of {GROUPS}, got {g!r}")
            if self.ids[f].ndim != 2 or self.ids[f].shape[0] != n or self.weights[f].shape != self.ids[f].shape:
                raise DatasetError(f"field {f!r}: ids {self.ids[f].shape} / weights {self.weights[f].shape} "
                                   f"do not fit {n} rows")
        if len(self.conversion) != n:
            raise DatasetError(f"conversion has {len(self.conversion)} rows, click has {n}")

    def __len__(self) -> int:
        return len(self.click)

    @property
    def fields(self) -> list[str]:
        """Field names in coding order."""
        return list(self.groups)

    def take(self, rows: np.ndarray | slice) -> ClickTable:
        """The table restricted to ``rows`` (an index array, a boolean mask or a slice)."""
        return ClickTable({f: a[rows] for f, a in self.ids.items()}, {f: a[rows] for f, a in self.weights.items()},
                          dict(self.groups), self.click[rows], self.conversion[rows],
                          {k: v[rows] for k, v in self.extra.items()})

    @staticmethod
    def concat(tables: list[ClickTable]) -> ClickTable:
        """Rows of several tables with the same fields, one after another (bags padded to the widest)."""
        if not tables:
            raise DatasetError("nothing to concatenate")
        t0 = tables[0]
        ids, weights = {}, {}
        for f in t0.fields:
            width = max(t.ids[f].shape[1] for t in tables)
            ids[f] = np.concatenate([np.pad(t.ids[f], ((0, 0), (0, width - t.ids[f].shape[1]))) for t in tables])
            weights[f] = np.concatenate([np.pad(t.weights[f], ((0, 0), (0, width - t.weights[f].shape[1])))
                                         for t in tables])
        extra = {k: np.concatenate([t.extra[k] for t in tables]) for k in t0.extra if all(k in t.extra for t in tables)}
        return ClickTable(ids, weights, dict(t0.groups), np.concatenate([t.click for t in tables]),
                          np.concatenate([t.conversion for t in tables]), extra)


def string_ids(values: np.ndarray | list[str]) -> np.ndarray:
    """Stable int64 ids of strings (first 8 bytes of BLAKE2b; the same string, the same id, anywhere).

    Each distinct string is hashed once, so a column with few values is cheap.
    """
    arr = np.asarray(values, dtype=object)
    uniq, inv = np.unique(arr.astype(str), return_inverse=True)
    codes = np.array([int.from_bytes(hashlib.blake2b(u.encode(), digest_size=8).digest(), "little", signed=True)
                      for u in uniq], dtype=np.int64)
    return codes[inv].reshape(arr.shape)


def single(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A single-valued field as ``(ids (rows, 1), weights (rows, 1))``."""
    v = np.asarray(values, dtype=np.int64).reshape(-1, 1)
    return v, np.ones(v.shape, np.float32)


# -- the synthetic log -----------------------------------------------------------------------------
USER_FIELDS = ("user_id", "age", "gender", "city", "user_group")
ITEM_FIELDS = ("item_id", "category", "seller", "brand")
CONTEXT_FIELDS = ("scenario", "hour")


@dataclass(frozen=True)
class SyntheticConfig:
    """Shape of the synthetic log (defaults: the talk's scale).

    Attributes:
        users: size of the user id space (ids are spread over all of int64 by a hash).
        items: size of the item id space.
        zipf: exponent of the Zipf popularity of users and items (rank r drawn with p ~ r^-zipf).
        factors: dimension of the hidden user and item latent factors.
        cities, groups, categories, sellers, brands: numbers of values of those fields.
        base_rate: the click rate without any effect (the hidden model's intercept is its logit).
        interaction: scale of the user x item terms (latent factors and crossed effects).
        seed: the seed of everything (the hidden model's parameters and the stream).
    """

    users: int = 10_000_000
    items: int = 100_000_000
    zipf: float = 1.1
    factors: int = 8
    cities: int = 300
    groups: int = 20
    categories: int = 200
    sellers: int = 5000
    brands: int = 2000
    base_rate: float = 0.1
    interaction: float = 1.0
    seed: int = 0


def _zipf_ranks(rng: np.random.Generator, n: int, size: int, a: float) -> np.ndarray:
    """Ranks in [0, n) with P(r) ~ (r+1)^-a, by inverting the continuous power law's CDF."""
    u = rng.random(size)
    if abs(a - 1.0) < 1e-9:
        r = np.exp(u * np.log(n + 1.0)) - 1.0
    else:
        b = 1.0 - a
        r = (1.0 + u * ((n + 1.0) ** b - 1.0)) ** (1.0 / b) - 1.0
    return np.minimum(r.astype(np.int64), n - 1)


def _uniform_from_hash(ids: np.ndarray, key: int) -> np.ndarray:
    return (hash_ids(ids, salt(key)) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _normal_from_hash(ids: np.ndarray, key: int, k: int) -> np.ndarray:
    """(rows, k) standard normals that are a fixed function of each id: no table over the id space."""
    out = np.empty((len(ids), k))
    for j in range(k):
        u1 = np.maximum(_uniform_from_hash(ids, key * 1000 + 2 * j), 1e-12)
        u2 = _uniform_from_hash(ids, key * 1000 + 2 * j + 1)
        out[:, j] = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)
    return out


class SyntheticLog:
    """A seeded synthetic click log in the talk's shape, drawn batch by batch (never all in memory).

    Rows: a user (id out of ``users``, drawn by Zipf popularity, spread over int64 by a hash) with
    fixed attributes age (7 buckets), gender, city and user group (functions of the id's hash);
    an item (id out of ``items``, Zipf) with a category, seller and brand (functions of its hash);
    a context: scenario (4 values) and hour of day.

    The hidden model (so logistic regression on one-hot features is misspecified)::

        logit(click) = logit(base_rate) + b_cat[category] + b_hour[hour] + 0.3 * b_item(item)
                       + interaction * ( <p_u, q_i>                      # latent user x item factors
                                         + A[age, category] + G[group, category]
                                         + S[scenario, category] )       # crossed effects
        p_u = P[group] + 0.5 * C[city] + 0.5 * eps(user)     q_i = Q[category] + 0.5 * eps(item)
        logit(convert | click) = -1 + 0.5 * b_brand[brand] + interaction * 0.7 * <p_u, q_i>
                                 + B[age, brand mod 50]

    where every table (b_cat, P, Q, A, G, S, ...) is drawn once from the seed with scale 1/sqrt(k)
    for the latent factors and 0.5 for the crossed tables, and eps(id) are standard normal vectors
    computed from a hash of the id (so no table over the 10^7 x 10^8 id spaces). ``b_item`` is a
    per-item normal from its hash. Clicks and conversions are Bernoulli draws; conversion is
    ``nan`` on unclicked rows.
    """

    def __init__(self, config: SyntheticConfig | None = None, **overrides: object) -> None:
        cfg = config or SyntheticConfig()
        if overrides:
            cfg = SyntheticConfig(**{**cfg.__dict__, **overrides})
        for name in ("users", "items", "factors", "cities", "groups", "categories", "sellers", "brands"):
            v = getattr(cfg, name)
            if not isinstance(v, int) or v < 1:
                raise DatasetError(f"synthetic log: {name} must be a positive integer, got {v!r}")
        if not 0 < cfg.base_rate < 1:
            raise DatasetError(f"synthetic log: base_rate must be in (0, 1), got {cfg.base_rate}")
        if cfg.zipf <= 0:
            raise DatasetError(f"synthetic log: zipf must be > 0, got {cfg.zipf}")
        self.config = cfg
        rng = np.random.default_rng([cfg.seed, 7919])
        k = cfg.factors
        s = 1.0 / np.sqrt(k)
        self.P = rng.normal(0, s, (cfg.groups, k))
        self.C = rng.normal(0, s, (cfg.cities, k))
        self.Q = rng.normal(0, s, (cfg.categories, k))
        self.A = rng.normal(0, 0.5, (7, cfg.categories))
        self.G = rng.normal(0, 0.5, (cfg.groups, cfg.categories))
        self.S = rng.normal(0, 0.5, (4, cfg.categories))
        self.B = rng.normal(0, 0.5, (7, 50))
        self.b_cat = rng.normal(0, 0.5, cfg.categories)
        self.b_hour = 0.3 * np.sin(np.arange(24) / 24 * 2 * np.pi)
        self.b_brand = rng.normal(0, 1.0, cfg.brands)

    @property
    def groups(self) -> dict[str, str]:
        """Field -> group of the log's fields."""
        return {**{f: "user" for f in USER_FIELDS}, **{f: "item" for f in ITEM_FIELDS},
                **{f: "context" for f in CONTEXT_FIELDS}}

    def _ids(self, ranks: np.ndarray, key: int) -> np.ndarray:
            # a bijection of int64: distinct ranks stay distinct ids, spread over the whole space
        return hash_ids(ranks, salt(self.config.seed, key)).view(np.int64)

    def batch(self, index: int, size: int) -> ClickTable:
        """Batch number ``index`` of ``size`` rows: a function of (seed, index, size) only."""
        if size < 1 or index < 0:
            raise DatasetError(f"synthetic log: need size >= 1 and index >= 0, got size={size}, index={index}")
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, 1, index])
        user = self._ids(_zipf_ranks(rng, cfg.users, size, cfg.zipf), 11)
        item = self._ids(_zipf_ranks(rng, cfg.items, size, cfg.zipf), 13)
        hu = lambda key, n: np.minimum((_uniform_from_hash(user, key) * n).astype(np.int64), n - 1)  # noqa: E731
        hi = lambda key, n: np.minimum((_uniform_from_hash(item, key) * n).astype(np.int64), n - 1)  # noqa: E731
        age, gender, city, group = hu(21, 7), hu(22, 2), hu(23, cfg.cities), hu(24, cfg.groups)
        cat, seller, brand = hi(31, cfg.categories), hi(32, cfg.sellers), hi(33, cfg.brands)
        scenario = rng.integers(0, 4, size)
        hour = rng.integers(0, 24, size)
        k = cfg.factors
        p = self.P[group] + 0.5 * self.C[city] + 0.5 / np.sqrt(k) * _normal_from_hash(user, 41, k)
        q = self.Q[cat] + 0.5 / np.sqrt(k) * _normal_from_hash(item, 42, k)
        dot = np.sum(p * q, axis=1) * np.sqrt(k)
        inter = dot + self.A[age, cat] + self.G[group, cat] + self.S[scenario, cat]
        b_item = 0.3 * _normal_from_hash(item, 43, 1)[:, 0]
        base = np.log(cfg.base_rate / (1 - cfg.base_rate))
        logit = base + self.b_cat[cat] + self.b_hour[hour] + b_item + cfg.interaction * inter
        click = (rng.random(size) < 1 / (1 + np.exp(-logit))).astype(np.float32)
        clogit = -1.0 + 0.5 * self.b_brand[brand] + cfg.interaction * 0.7 * dot + self.B[age, brand % 50]
        conv = (rng.random(size) < 1 / (1 + np.exp(-clogit))).astype(np.float32)
        conv[click == 0] = np.nan
        cols = {"user_id": user, "age": age, "gender": gender, "city": city, "user_group": group,
                "item_id": item, "category": cat, "seller": seller, "brand": brand,
                "scenario": scenario, "hour": hour}
        ids = {f: np.asarray(v, np.int64).reshape(-1, 1) for f, v in cols.items()}
        w = {f: np.ones((size, 1), np.float32) for f in cols}
        return ClickTable(ids, w, self.groups, click, conv, {"item": item, "user": user})

    def stream(self, batch_size: int, start: int = 0, stop: int | None = None) -> Iterator[ClickTable]:
        """Batches ``start, start+1, ...`` (until ``stop``, forever when None)."""
        i = start
        while stop is None or i < stop:
            yield self.batch(i, batch_size)
            i += 1


def synthetic_log(config: SyntheticConfig | None = None, **overrides: object) -> SyntheticLog:
    """The seeded synthetic click log (see :class:`SyntheticLog`)."""
    return SyntheticLog(config, **overrides)


__all__ = ["CONTEXT_FIELDS", "GROUPS", "ITEM_FIELDS", "USER_FIELDS", "ClickTable", "SyntheticConfig", "SyntheticLog",
           "single", "string_ids", "synthetic_log"]
