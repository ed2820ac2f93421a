"""Click-through-rate models on very high-dimensional sparse features (the talk's section 2).

Users are ids, ages, genders, locations and groups; items are categories, sellers, brands and
ids: one-hot coded, hundreds of millions of binary features. Logistic regression on them misses
user x item interactions. The talk maps the sparse vector through a random coding (low dimension,
cheap, distance-preserving with high probability), feeds it to non-linear towers that give user and
item representations, and predicts CTR and CVR linearly from them.

- :class:`RandomCoding` (:mod:`~packzoo.zoo.ctr.coding`): seeded hashed sparse random signs; any
  int64 id, no table, memory independent of the id space.
- Models (:mod:`~packzoo.zoo.ctr.models`): ``ctr-lr``, ``ctr-rc-mlp``, ``ctr-embedding-mlp``.
- Data (:mod:`~packzoo.zoo.ctr.sources`): MovieLens-100k implicit feedback, a seeded synthetic
  log in the talk's shape, Criteo TSV and CSV/Parquet files streamed in chunks.
- Metrics (:mod:`~packzoo.zoo.ctr.metrics`): scikit-learn AUC and logloss, CTR and CVR, overall and
  on the tail items.

``evaluate_model(name, rows=N)`` scores the shipped model on the first N test rows of its split.
Training: ``packzoo train ctr``.
"""

from __future__ import annotations

import os
from typing import Any

from packzoo.zoo.ctr.coding import CodingError, RandomCoding, jl_dim
from packzoo.zoo.ctr.metrics import auc_by_bucket, ctr_metrics
from packzoo.zoo.ctr.models import CTRConfig, ModelConfigError, build_model, count_params, field_params, predict

FAMILY = "ctr"
MODEL_KINDS = {"ctr-lr": "lr", "ctr-rc-mlp": "rc", "ctr-embedding-mlp": "embedding"}
CHECK_LIMITS: dict[str, Any] = {"rows": 2000}
SOURCE = ("the talk's section 2; Achlioptas 2003 (sparse random projections); Weinberger et al. 2009 (feature "
          "hashing); Kang et al. 2021 (Deep Hash Embedding); Ma et al. 2018 (ESMM); Zhu et al. 2021 (BARS/FuxiCTR)")

MOVIELENS_FIELDS = (("user_id", "user"), ("age", "user"), ("gender", "user"), ("occupation", "user"), ("zip", "user"),
                    ("item_id", "item"), ("genres", "item"), ("year", "item"))
# Random coding: code dims well below the id counts of the big fields (943 users, 1,682 items,
# 795 zips); embedding tables: about 2x the distinct ids (the shipped file stays near 500 KB; a few
# ids share a row, as in any hashed table).
MOVIELENS_CODE_DIM = {"user_id": 256, "item_id": 256, "zip": 128, "age": 32, "gender": 4, "occupation": 32,
                      "genres": 32, "year": 64}
MOVIELENS_BUCKETS = {"user_id": 2048, "item_id": 4096, "zip": 2048, "age": 128, "gender": 4, "occupation": 64,
                     "genres": 32, "year": 128}
MOVIELENS_DISTINCT = {"user_id": 943, "item_id": 1682, "zip": 795, "age": 61, "gender": 2, "occupation": 21,
                      "genres": 19, "year": 72}

_SUMMARIES = {
    "ctr-lr": "logistic regression on hashed one-hot features (CTR and CVR), MovieLens-100k implicit feedback",
    "ctr-rc-mlp": "random coding per field -> per-field layers -> user/item towers -> linear CTR and CVR heads, "
                  "MovieLens-100k",
    "ctr-embedding-mlp": "hashed embedding table per field -> the same towers and heads, MovieLens-100k",
}


def default_config(model: str, fields: list[tuple[str, str]] | None = None, data: str = "movielens-100k",
                   **overrides: Any) -> CTRConfig:
    """The architecture of ``model`` for ``fields`` (MovieLens-100k's by default)."""
    if model not in MODEL_KINDS:
        raise ValueError(f"unknown model {model!r}; models: {', '.join(MODEL_KINDS)}")
    kind = MODEL_KINDS[model]
    fields = list(fields) if fields is not None else list(MOVIELENS_FIELDS)
    names = {f for f, _ in fields}
    cfg: dict[str, Any] = {"kind": kind, "fields": fields}
    if data == "movielens-100k":
        cfg.update(code_dim={k: v for k, v in MOVIELENS_CODE_DIM.items() if k in names},
                   buckets={k: v for k, v in MOVIELENS_BUCKETS.items() if k in names},
                   field_dim=16, hidden=(128,), rep_dim=32, lr_buckets=1 << 15)
    else:
        cfg.update(default_dim=256 if kind == "rc" else 1 << 16, field_dim=8, hidden=(64,), rep_dim=16,
                   lr_buckets=1 << 20)
    cfg.update(overrides)
    return CTRConfig.from_dict(cfg)


def evaluate_on(model: Any, source: Any, limit: int | None = None) -> dict[str, Any]:
    """Metrics of ``model`` on the first ``limit`` test rows of ``source`` (all when None)."""
    import torch

    torch.set_num_threads(1)  # one reduction order: the card's check figures reproduce exactly
    test = source.test if limit is None else source.test.take(slice(0, limit))
    tail = None if source.tail is None else source.tail[: len(test)]
    p_ctr, p_cvr = predict(model, test)
    return ctr_metrics(test.click, test.conversion, p_ctr, p_cvr, tail)


def build(name: str, pretrained: bool = False, directory: str | os.PathLike | None = None, **overrides: Any):
    """The network ``name``: fresh (MovieLens architecture, ``overrides`` replace CTRConfig fields) or
    the shipped, sha256-checked weights (eval mode)."""
    from packzoo.zoo.weights import fit_weights, load_card, load_weights, pretrained_arguments

    if pretrained:
        pretrained_arguments(name, overrides)
        tensors = load_weights(name, directory)
        cfg = CTRConfig.from_dict(load_card(name, directory).config["arch"])
        return fit_weights(build_model(cfg), tensors, name)
    return build_model(default_config(name, **overrides))


def evaluate_pretrained(name: str, rows: int = 20_000, directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """Metrics of the shipped ``name`` on the first ``rows`` test rows of its data and split."""
    from packzoo.zoo.ctr.sources import load_source
    from packzoo.zoo.weights import load_card

    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
        raise ValueError(f"rows must be a positive integer, got {rows!r}")
    card = load_card(name, directory)
    data = card.config["data"]
    if data not in ("movielens-100k", "synthetic"):
        raise ValueError(f"{name}: cannot re-evaluate on {data!r} (a user's file)")
    src = load_source(data, split=card.config.get("split", "random"), seed=int(card.config.get("seed", 0)))
    return evaluate_on(build(name, pretrained=True, directory=directory), src, limit=rows)


def _register() -> None:
    from packzoo.zoo import register_model
    for name in MODEL_KINDS:
        def make(pretrained: bool = False, _name: str = name, **overrides: Any):
            return build(_name, pretrained, **overrides)

        def evaluate(rows: int = 20_000, _name: str = name) -> dict[str, Any]:
            return evaluate_pretrained(_name, rows)

        register_model(name, make, family=FAMILY, evaluate=evaluate, summary=_SUMMARIES[name], source=SOURCE,
                       task="MovieLens-100k implicit feedback (click = rating >= 4; CVR = rating 5 given click): "
                            "test AUC and logloss",
                       headline=("test.ctr_auc", "test.ctr_logloss", "test.cvr_auc", "test.tail_ctr_auc"),
                       params=count_params(build_model(default_config(name))),
                       field_params=field_params(build_model(default_config(name))))


_register()

__all__ = ["CHECK_LIMITS", "FAMILY", "MODEL_KINDS", "MOVIELENS_BUCKETS", "MOVIELENS_CODE_DIM", "MOVIELENS_DISTINCT",
           "MOVIELENS_FIELDS", "CTRConfig", "CodingError", "ModelConfigError", "RandomCoding", "auc_by_bucket", "build",
           "build_model", "count_params", "ctr_metrics", "default_config", "evaluate_on", "evaluate_pretrained",
           "field_params", "jl_dim", "predict"]
