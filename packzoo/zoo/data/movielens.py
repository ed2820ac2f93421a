"""MovieLens-100k as implicit feedback for click-through-rate models. Nothing is downloaded.

Files: the ``recbole`` 1.2.1 wheel ships MovieLens-100k as atomic files under
``site-packages/recbole/dataset_example/ml-100k/`` (``ml-100k.inter``, ``.user``, ``.item``);
``make`` installs it with ``pip install --no-deps recbole==1.2.1`` (only its files are read;
recbole itself is never imported). The loader also reads the original GroupLens files (``u.data``,
``u.user``, ``u.item``) from any folder a user names.

Licence (GroupLens, summarised; read the README of the data): the data may be used for research
only; users must acknowledge it in publications (F. Maxwell Harper and Joseph A. Konstan, 2015,
"The MovieLens Datasets: History and Context", ACM TiiS 5(4)); it may not be redistributed without
separate permission and not used commercially without permission. packzoo never commits or
redistributes it.

Labels: a row is a rating; ``click`` = rating >= 4; ``conversion`` (a CVR proxy) = rating == 5 on
clicked rows (``nan`` elsewhere). Fields: user ``user_id, age, gender, occupation, zip``; item
``item_id, genres`` (a bag), ``year``. Splits (:func:`movielens_split`):

- ``random``: a seeded permutation, the first 80% of rows train, the rest test (seed 0 by default);
- ``time``: a global time cut: rows sorted by timestamp (ties by row order), the first 80% train
  (85% of its test rows are then users with no training row at all: a cold-start test);
- ``user-time``: the last 20% (rounded) of each user's ratings in time order are test, the rest
  train (every test user has earlier training rows);
- ``random-val``: for tuning, never for reporting: the ``random`` split's training rows split again
  (seed + 1, 87.5/12.5: 70,000 train, 10,000 validation); the test rows are not touched;
- ``time-val``: likewise for ``time``: its 80,000 training rows cut again by time (the last 10,000
  are the validation rows).

The tail slice of a split is the test rows whose item has fewer than 20 training rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from packzoo.zoo.data.clicklog import ClickTable, single, string_ids
from packzoo.zoo.data.images import DatasetError

GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western")
MAX_GENRES = 6
TAIL_ROWS = 20
SPLITS = ("random", "time", "user-time", "random-val", "time-val")
LICENCE = ("MovieLens-100k (GroupLens Research, University of Minnesota): research use only, acknowledge "
           "Harper & Konstan 2015 (ACM TiiS 5(4)), no redistribution and no commercial use without permission")


def recbole_dir() -> Path | None:
    """Where the installed recbole wheel keeps ml-100k, or None when recbole is not installed."""
    try:
        dist = metadata.distribution("recbole")
    except metadata.PackageNotFoundError:
        return None
    return Path(str(dist.locate_file("recbole/dataset_example/ml-100k")))


@dataclass
class MovieLens:
    """The ratings of MovieLens-100k joined with their user and item attributes (100,000 rows)."""

    user: np.ndarray       # int64 user ids (1..943)
    item: np.ndarray       # int64 item ids (1..1682)
    rating: np.ndarray     # int64 1..5
    timestamp: np.ndarray  # int64 seconds
    age: np.ndarray
    gender: np.ndarray     # str
    occupation: np.ndarray  # str
    zip: np.ndarray        # str
    genres: np.ndarray     # int64 (rows, MAX_GENRES) genre indices, -1 = none
    year: np.ndarray       # int64, 0 = unknown
    source: str = ""

    def __len__(self) -> int:
        return len(self.user)


def _read_rows(path: Path, sep: str, encoding: str = "utf-8", header: bool = False) -> list[list[str]]:
    try:
        lines = path.read_text(encoding=encoding).splitlines()
    except FileNotFoundError:
        raise DatasetError(f"MovieLens file {path} is missing") from None
    rows = [ln.split(sep) for ln in lines[1 if header else 0:] if ln.strip()]
    return rows


def _need(rows: list[list[str]], width: int, path: Path, start: int) -> None:
    for i, r in enumerate(rows):
        if len(r) < width:
            raise DatasetError(f"{path}, line {i + start}: expected {width} fields, got {len(r)}: {r!r}")


def _ints(values: list[str], path: Path, what: str, start: int) -> np.ndarray:
    try:
        return np.array([int(float(v)) for v in values], dtype=np.int64)
    except ValueError:
        for i, v in enumerate(values):
            try:
                int(float(v))
            except ValueError:
                raise DatasetError(f"{path}, line {i + start}: {what} {v!r} is not a number") from None
        raise


def _ratings(rows: list[list[str]], path: Path, start: int) -> dict[str, np.ndarray]:
    """The four rating columns (user, item, rating, timestamp); ``start`` is the first row's line."""
    cols = list(zip(*rows))
    return {k: _ints(cols[j], path, what, start) for j, (k, what) in enumerate(
        (("user", "user id"), ("item", "item id"), ("rating", "rating"), ("timestamp", "timestamp")))}


def _load_recbole(d: Path) -> tuple[dict, dict, dict]:
    inter_p, user_p, item_p = d / "ml-100k.inter", d / "ml-100k.user", d / "ml-100k.item"
    inter = _read_rows(inter_p, "\t", header=True)
    _need(inter, 4, inter_p, 2)
    users = _read_rows(user_p, "\t", header=True)
    _need(users, 5, user_p, 2)
    items = _read_rows(item_p, "\t", header=True)
    _need(items, 4, item_p, 2)
    genre_ix = {g: i for i, g in enumerate(GENRES)}
    item_attr = {}
    for i, r in enumerate(items):
        gs = [genre_ix[g] for g in r[3].split() if g in genre_ix]
        year = int(r[2]) if r[2].strip().isdigit() else 0
        item_attr[int(r[0])] = (gs, year)
    user_attr = {int(r[0]): (int(r[1]), r[2], r[3], r[4]) for r in users}
    return _ratings(inter, inter_p, 2), user_attr, item_attr


def _load_grouplens(d: Path) -> tuple[dict, dict, dict]:
    data_p, user_p, item_p = d / "u.data", d / "u.user", d / "u.item"
    inter = _read_rows(data_p, "\t")
    _need(inter, 4, data_p, 1)
    users = _read_rows(user_p, "|", encoding="latin-1")
    _need(users, 5, user_p, 1)
    items = _read_rows(item_p, "|", encoding="latin-1")
    _need(items, 24, item_p, 1)
    item_attr = {}
    for r in items:
        gs = [j for j, flag in enumerate(r[5:24]) if flag.strip() == "1"]
        date = r[2].strip()
        year = int(date[-4:]) if len(date) >= 4 and date[-4:].isdigit() else 0
        item_attr[int(r[0])] = (gs, year)
    user_attr = {int(r[0]): (int(r[1]), r[2], r[3], r[4]) for r in users}
    return _ratings(inter, data_p, 1), user_attr, item_attr


_CACHE: dict[str, MovieLens] = {}


def movielens100k(directory: str | os.PathLike | None = None) -> MovieLens:
    """MovieLens-100k: from ``directory`` (GroupLens ``u.data``/``u.user``/``u.item`` or recbole's
    ``ml-100k.*`` atomic files), else from the installed recbole wheel.

    Raises:
        DatasetError: no files found (the message says how to install them), or a malformed file
            (the message names the file and line).
    """
    if directory is None:
        d = recbole_dir()
        if d is None or not d.is_dir():
            raise DatasetError("MovieLens-100k not found: install the recbole wheel that ships it, without its "
                               "dependencies (`pip install --no-deps recbole==1.2.1`, part of `make`), or pass "
                               "directory= a folder with the GroupLens files u.data, u.user, u.item")
    else:
        d = Path(directory)
        if not d.is_dir():
            raise DatasetError(f"MovieLens-100k folder {str(d)!r} does not exist")
    # keyed by the files' sizes and times too: a folder whose files changed is read again
    key = str(d.resolve()) + "".join(f"|{q.name}:{q.stat().st_size}:{q.stat().st_mtime_ns}"
                                     for q in sorted(d.iterdir()) if q.is_file())
    if key in _CACHE:
        return _CACHE[key]
    if (d / "u.data").exists():
        ratings, user_attr, item_attr = _load_grouplens(d)
    elif (d / "ml-100k.inter").exists():
        ratings, user_attr, item_attr = _load_recbole(d)
    else:
        raise DatasetError(f"{d} holds neither the GroupLens files (u.data, u.user, u.item) nor recbole's "
                           "(ml-100k.inter, ml-100k.user, ml-100k.item)")
    n = len(ratings["user"])
    missing_u = sorted(set(np.unique(ratings["user"]).tolist()) - set(user_attr))
    missing_i = sorted(set(np.unique(ratings["item"]).tolist()) - set(item_attr))
    if missing_u or missing_i:
        raise DatasetError(f"{d}: ratings name users {missing_u[:5]} or items {missing_i[:5]} the attribute files lack")
    if ((ratings["rating"] < 1) | (ratings["rating"] > 5)).any():
        raise DatasetError(f"{d}: ratings must be 1..5")
    # attributes by id, then one fancy-index per column (ids are small positive integers)
    top = int(max(max(item_attr), ratings["item"].max())) + 1
    genres_of = np.full((top, MAX_GENRES), -1, np.int64)
    year_of = np.zeros(top, np.int64)
    for it, (gs, y) in item_attr.items():
        genres_of[it, :min(len(gs), MAX_GENRES)] = gs[:MAX_GENRES]
        year_of[it] = y
    utop = int(max(max(user_attr), ratings["user"].max())) + 1
    ucols = [np.zeros(utop, np.int64), np.full(utop, "", object), np.full(utop, "", object), np.full(utop, "", object)]
    for u, attrs in user_attr.items():
        for col, v in zip(ucols, attrs):
            col[u] = v
    it, us = ratings["item"], ratings["user"]
    ml = MovieLens(us, it, ratings["rating"], ratings["timestamp"], ucols[0][us], ucols[1][us].astype(str),
                   ucols[2][us].astype(str), ucols[3][us].astype(str), genres_of[it], year_of[it], source=str(d))
    _CACHE[key] = ml
    return ml


def movielens_table(ml: MovieLens) -> ClickTable:
    """The ratings as a :class:`ClickTable` (labels as in the module docstring)."""
    ids, w = {}, {}
    for name, col in (("user_id", ml.user), ("age", ml.age), ("gender", string_ids(ml.gender)),
                      ("occupation", string_ids(ml.occupation)), ("zip", string_ids(ml.zip)),
                      ("item_id", ml.item)):
        ids[name], w[name] = single(col)
    ids["genres"] = np.where(ml.genres >= 0, ml.genres, 0)
    w["genres"] = (ml.genres >= 0).astype(np.float32)
    ids["year"], w["year"] = single(ml.year)
    groups = {"user_id": "user", "age": "user", "gender": "user", "occupation": "user", "zip": "user",
              "item_id": "item", "genres": "item", "year": "item"}
    click = (ml.rating >= 4).astype(np.float32)
    conv = np.where(click == 1, (ml.rating == 5).astype(np.float32), np.nan).astype(np.float32)
    return ClickTable(ids, w, groups, click, conv,
                      {"user": ml.user, "item": ml.item, "timestamp": ml.timestamp, "rating": ml.rating})


@dataclass
class Split:
    """A train/test split of a click table, with the test rows of tail items marked."""

    name: str
    train: ClickTable
    test: ClickTable
    tail: np.ndarray  # bool (len(test),): the test row's item has < TAIL_ROWS training rows
    item_train_rows: np.ndarray  # int64 (len(test),): training rows of the test row's item


def split_table(table: ClickTable, split: str = "random", seed: int = 0, test_fraction: float = 0.2) -> Split:
    """Split ``table`` (``random``: seeded permutation; ``time``: global cut on ``extra['timestamp']``)."""
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; splits: {', '.join(SPLITS)}")
    if split == "random-val":
        return split_table(split_table(table, "random", seed, test_fraction).train, "random", seed + 1, 0.125)
    if split == "time-val":
        return split_table(split_table(table, "time", seed, test_fraction).train, "time", seed, 0.125)
    if not 0 < test_fraction < 1:
        raise DatasetError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n = len(table)
    if split == "user-time":
        if "timestamp" not in table.extra or "user" not in table.extra:
            raise DatasetError("a user-time split needs extra['timestamp'] and extra['user']")
        user, ts = table.extra["user"], table.extra["timestamp"]
        by = np.lexsort((np.arange(n), ts, user))  # by user, then time, then row
        u_sorted = user[by]
        first = np.r_[0, np.flatnonzero(u_sorted[1:] != u_sorted[:-1]) + 1]
        counts = np.diff(np.r_[first, n])
        rank = np.arange(n) - np.repeat(first, counts)
        n_test = np.repeat(np.round(counts * test_fraction).astype(np.int64), counts)
        is_test = rank >= np.repeat(counts, counts) - n_test
        order = np.r_[by[~is_test], by[is_test]]
        cut = int((~is_test).sum())
        return _with_tail(split, table, order, cut)
    if split == "random":
        order = np.random.default_rng(seed).permutation(n)
    else:
        if "timestamp" not in table.extra:
            raise DatasetError("a time split needs timestamps (extra['timestamp'])")
        order = np.argsort(table.extra["timestamp"], kind="stable")
    return _with_tail(split, table, order, int(round(n * (1 - test_fraction))))


def _with_tail(split: str, table: ClickTable, order: np.ndarray, cut: int) -> Split:
    """The split whose training rows are ``order[:cut]``, with the tail rows of its test part marked."""
    train, test = table.take(order[:cut]), table.take(order[cut:])
    items, counts = np.unique(train.extra["item"], return_counts=True)
    lookup = dict(zip(items.tolist(), counts.tolist()))
    rows = np.array([lookup.get(int(i), 0) for i in test.extra["item"]], dtype=np.int64)
    return Split(split, train, test, rows < TAIL_ROWS, rows)


def movielens_split(split: str = "random", seed: int = 0, directory: str | os.PathLike | None = None) -> Split:
    """MovieLens-100k as implicit feedback, split ``random`` (80/20, seeded) or ``time`` (global cut)."""
    return split_table(movielens_table(movielens100k(directory)), split, seed)


__all__ = ["GENRES", "LICENCE", "SPLITS", "TAIL_ROWS", "MovieLens", "Split", "movielens100k", "movielens_split",
           "movielens_table", "recbole_dir", "split_table"]
