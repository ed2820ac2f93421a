"""Streaming readers of a user's own click logs: Criteo TSV, CSV and Parquet with a column spec.

Each reader yields :class:`~packzoo.zoo.data.clicklog.ClickTable` chunks of ``chunk_rows`` rows, so
a file larger than memory trains (only a chunk is ever held). A malformed row stops the reader with
a :class:`MalformedRowError` naming the file, the line and the problem; ``skip_bad=True`` skips such
rows instead and counts them in ``stats["skipped"]`` (pass a dict to see it).

Criteo (the Display Advertising Challenge's ``train.txt``): tab-separated, 40 fields per line:
the label (0/1), 13 integer features ``I1..I13`` (may be empty) and 26 categorical ones
``C1..C26`` (8 hex digits, may be empty). Integers become ids by the challenge winners' bucketing
(``v`` when ``v <= 2`` else ``floor(ln(v)^2)``), hex strings their value; empty = missing (weight
0). The features are anonymous, so the towers are a convention: ``C1..C13`` user, ``C14..C26``
item, ``I1..I13`` context (pass ``groups=`` to change it).

CSV / Parquet: a :class:`ColumnSpec` (JSON) names the columns::

    {"user": ["user_id", "age"], "item": ["item_id", "genres"], "context": ["hour"],
     "click": "clicked", "conversion": "converted", "multi": {"genres": "|"},
     "delimiter": ","}

``conversion`` is optional (empty cells = unknown); ``multi`` names bag columns and their
separator. A value that is a canonical decimal integer is its own id; any other text is hashed
(:func:`~packzoo.zoo.data.clicklog.string_ids`), so ids are the same in every chunk. CSV files have
a header row. Parquet needs ``pyarrow`` (``pip install pyarrow``), read in row batches.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from packzoo.zoo.data.clicklog import GROUPS, ClickTable, string_ids
from packzoo.zoo.data.images import DatasetError

CRITEO_INT = tuple(f"I{i}" for i in range(1, 14))
CRITEO_CAT = tuple(f"C{i}" for i in range(1, 27))


class MalformedRowError(DatasetError):
    """A row a reader cannot parse; ``path`` and ``line`` (1-based) say where."""

    def __init__(self, path: str | os.PathLike, line: int, problem: str) -> None:
        super().__init__(f"{path}, line {line}: {problem} (pass skip_bad=True / --skip-bad to skip such rows)")
        self.path = str(path)
        self.line = line


def criteo_groups() -> dict[str, str]:
    """The default tower of each Criteo field (see the module docstring)."""
    return {**{c: "user" for c in CRITEO_CAT[:13]}, **{c: "item" for c in CRITEO_CAT[13:]},
            **{c: "context" for c in CRITEO_INT}}


def _criteo_int_id(v: int) -> int:
    return v if v <= 2 else int(math.floor(math.log(v) ** 2))


def _parse_criteo(line: str, lineno: int, path: str) -> tuple[float, list[int | None], list[int | None]]:
    parts = line.rstrip("\r\n").split("\t")
    if len(parts) != 40:
        raise MalformedRowError(path, lineno, f"expected 40 tab-separated fields (label, I1-I13, C1-C26), got {len(parts)}")
    if parts[0] not in ("0", "1"):
        raise MalformedRowError(path, lineno, f"label must be 0 or 1, got {parts[0]!r}")
    ints: list[int | None] = []
    for name, s in zip(CRITEO_INT, parts[1:14]):
        if s == "":
            ints.append(None)
            continue
        try:
            ints.append(_criteo_int_id(int(s)))
        except ValueError:
            raise MalformedRowError(path, lineno, f"{name} must be an integer, got {s!r}") from None
    cats: list[int | None] = []
    for name, s in zip(CRITEO_CAT, parts[14:]):
        if s == "":
            cats.append(None)
            continue
        try:
            cats.append(int(s, 16))
        except ValueError:
            raise MalformedRowError(path, lineno, f"{name} must be hexadecimal, got {s!r}") from None
    return float(parts[0]), ints, cats


def _table_from_rows(cols: dict[str, list[int | None]], groups: dict[str, str], click: list[float],
                     conv: list[float] | None = None) -> ClickTable:
    ids, w = {}, {}
    for f in groups:
        vals = cols[f]
        ids[f] = np.array([0 if v is None else v for v in vals], dtype=np.int64).reshape(-1, 1)
        w[f] = np.array([0.0 if v is None else 1.0 for v in vals], dtype=np.float32).reshape(-1, 1)
    c = np.asarray(click, np.float32)
    cv = np.full(len(c), np.nan, np.float32) if conv is None else np.asarray(conv, np.float32)
    return ClickTable(ids, w, dict(groups), c, cv)


def read_criteo(path: str | os.PathLike, *, chunk_rows: int = 65_536, skip_bad: bool = False,
                groups: dict[str, str] | None = None, stats: dict[str, int] | None = None) -> Iterator[ClickTable]:
    """Stream a Criteo TSV file in chunks of ``chunk_rows`` rows (see the module docstring)."""
    g = groups or criteo_groups()
    if set(g) != set(CRITEO_INT) | set(CRITEO_CAT):
        raise DatasetError(f"groups must name exactly the Criteo fields I1-I13 and C1-C26, got {sorted(g)}")
    if chunk_rows < 1:
        raise DatasetError(f"chunk_rows must be >= 1, got {chunk_rows}")
    stats = stats if stats is not None else {}
    stats.setdefault("skipped", 0)
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"Criteo file {str(p)!r} does not exist")
    cols: dict[str, list[int | None]] = {f: [] for f in g}
    click: list[float] = []
    with open(p, encoding="utf-8", errors="strict", newline="") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                label, ints, cats = _parse_criteo(line, lineno, str(p))
            except MalformedRowError:
                if not skip_bad:
                    raise
                stats["skipped"] += 1
                continue
            click.append(label)
            for name, v in zip(CRITEO_INT, ints):
                cols[name].append(v)
            for name, v in zip(CRITEO_CAT, cats):
                cols[name].append(v)
            if len(click) == chunk_rows:
                yield _table_from_rows(cols, g, click)
                cols = {f: [] for f in g}
                click = []
    if click:
        yield _table_from_rows(cols, g, click)


@dataclass(frozen=True)
class ColumnSpec:
    """Which columns of a CSV / Parquet file are which fields and labels (see the module docstring)."""

    user: tuple[str, ...]
    item: tuple[str, ...]
    click: str
    context: tuple[str, ...] = ()
    conversion: str | None = None
    multi: dict[str, str] = field(default_factory=dict)
    delimiter: str = ","

    def __post_init__(self) -> None:
        for key in ("user", "item", "context"):
            v = getattr(self, key)
            if isinstance(v, str) or not all(isinstance(c, str) and c for c in v):
                raise DatasetError(f"column spec: {key!r} must be a list of column names, got {v!r}")
            object.__setattr__(self, key, tuple(v))
        if not self.user or not self.item:
            raise DatasetError("column spec: 'user' and 'item' must each name at least one column")
        cols = self.feature_columns
        if len(set(cols)) != len(cols):
            raise DatasetError(f"column spec: a column is named twice: {cols}")
        if not isinstance(self.click, str) or not self.click:
            raise DatasetError(f"column spec: 'click' must name the click label column, got {self.click!r}")
        for c in self.multi:
            if c not in cols:
                raise DatasetError(f"column spec: multi names {c!r}, which is no user/item/context column")
        if len(self.delimiter) != 1:
            raise DatasetError(f"column spec: delimiter must be one character, got {self.delimiter!r}")

    @property
    def feature_columns(self) -> list[str]:
        return [*self.user, *self.item, *self.context]

    @property
    def groups(self) -> dict[str, str]:
        return {**{c: "user" for c in self.user}, **{c: "item" for c in self.item}, **{c: "context" for c in self.context}}

    @classmethod
    def from_dict(cls, d: Any, source: str = "column spec") -> ColumnSpec:
        if not isinstance(d, dict):
            raise DatasetError(f"{source}: must be a JSON object")
        known = {"user", "item", "context", "click", "conversion", "multi", "delimiter"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise DatasetError(f"{source}: unknown keys {unknown}; known: {sorted(known)}")
        missing = [k for k in ("user", "item", "click") if k not in d]
        if missing:
            raise DatasetError(f"{source}: missing keys {missing}")
        return cls(**d)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ColumnSpec:
        """Read a spec from a JSON file."""
        try:
            d = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise DatasetError(f"column spec {str(path)!r} does not exist") from None
        except json.JSONDecodeError as e:
            raise DatasetError(f"column spec {str(path)!r} is not valid JSON: {e}") from None
        return cls.from_dict(d, str(path))


def value_ids(values: list[str]) -> np.ndarray:
    """int64 ids of text values: a canonical decimal integer is itself, other text is hashed."""
    arr = np.asarray(values, dtype=object).astype(str)
    uniq, inv = np.unique(arr, return_inverse=True)
    out = np.empty(len(uniq), np.int64)
    text = []
    for i, u in enumerate(uniq):
        try:
            v = int(u)
            if str(v) == u and -(1 << 63) <= v < (1 << 63):
                out[i] = v
                continue
        except ValueError:
            pass
        text.append(i)
    if text:
        out[text] = string_ids([uniq[i] for i in text])
    return out[inv]


def _label(v: Any, name: str, path: str, line: int, allow_missing: bool) -> float:
    s = "" if v is None else str(v).strip()
    if s in ("", "nan", "None") and allow_missing:
        return float("nan")
    if s in ("0", "1", "0.0", "1.0", "True", "False", "true", "false"):
        return 1.0 if s in ("1", "1.0", "True", "true") else 0.0
    raise MalformedRowError(path, line, f"{name} must be 0 or 1{' or empty' if allow_missing else ''}, got {v!r}")


def _chunk_table(spec: ColumnSpec, cells: dict[str, list[str]], click: list[float], conv: list[float]) -> ClickTable:
    ids, w = {}, {}
    for c in spec.feature_columns:
        vals = cells[c]
        if c in spec.multi:
            bags = [[t for t in v.split(spec.multi[c]) if t != ""] for v in vals]
            width = max(1, max((len(b) for b in bags), default=1))
            flat = [t for b in bags for t in b]
            fid = value_ids(flat) if flat else np.zeros(0, np.int64)
            a = np.zeros((len(vals), width), np.int64)
            m = np.zeros((len(vals), width), np.float32)
            k = 0
            for r, b in enumerate(bags):
                a[r, :len(b)] = fid[k:k + len(b)]
                m[r, :len(b)] = 1.0
                k += len(b)
        else:
            a = value_ids(vals).reshape(-1, 1) if vals else np.zeros((0, 1), np.int64)
            m = np.array([0.0 if v == "" else 1.0 for v in vals], np.float32).reshape(-1, 1)
        ids[c], w[c] = a, m
    cv = np.asarray(conv, np.float32) if spec.conversion else np.full(len(click), np.nan, np.float32)
    cl = np.asarray(click, np.float32)
    if spec.conversion:
        cv[cl == 0] = np.nan  # a conversion without a click is not a CVR label
    return ClickTable(ids, w, spec.groups, cl, cv)


def _rows_csv(path: Path, spec: ColumnSpec) -> Iterator[tuple[int, dict[str, str] | None, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter=spec.delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise DatasetError(f"{path}: empty file (a header row is required)") from None
        need = [*spec.feature_columns, spec.click] + ([spec.conversion] if spec.conversion else [])
        missing = [c for c in need if c not in header]
        if missing:
            raise DatasetError(f"{path}: header lacks columns {missing} named by the spec; it has {header}")
        pos = {c: header.index(c) for c in need}
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                yield line, None, f"expected {len(header)} fields, got {len(row)}"
                continue
            yield line, {c: row[i] for c, i in pos.items()}, ""


def _rows_parquet(path: Path, spec: ColumnSpec, chunk_rows: int) -> Iterator[tuple[int, dict[str, str] | None, str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError("reading Parquet needs pyarrow: pip install pyarrow") from None
    f = pq.ParquetFile(path)
    need = [*spec.feature_columns, spec.click] + ([spec.conversion] if spec.conversion else [])
    missing = [c for c in need if c not in f.schema_arrow.names]
    if missing:
        raise DatasetError(f"{path}: columns {missing} named by the spec are missing; it has {f.schema_arrow.names}")
    line = 0
    for batch in f.iter_batches(batch_size=chunk_rows, columns=need):
        cols = {c: batch.column(c).to_pylist() for c in need}
        for i in range(batch.num_rows):
            line += 1
            yield line, {c: "" if cols[c][i] is None else str(cols[c][i]) for c in need}, ""


def read_table(path: str | os.PathLike, spec: ColumnSpec, *, fmt: str = "csv", chunk_rows: int = 65_536,
               skip_bad: bool = False, stats: dict[str, int] | None = None) -> Iterator[ClickTable]:
    """Stream a CSV (``fmt="csv"``) or Parquet (``fmt="parquet"``) file in :class:`ClickTable` chunks.

    Line numbers in errors are the file's physical lines for CSV (the header is line 1) and row
    numbers (1-based) for Parquet.
    """
    if fmt not in ("csv", "parquet"):
        raise DatasetError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    if chunk_rows < 1:
        raise DatasetError(f"chunk_rows must be >= 1, got {chunk_rows}")
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{fmt} file {str(p)!r} does not exist")
    stats = stats if stats is not None else {}
    stats.setdefault("skipped", 0)
    rows = _rows_csv(p, spec) if fmt == "csv" else _rows_parquet(p, spec, chunk_rows)
    cells: dict[str, list[str]] = {c: [] for c in spec.feature_columns}
    click: list[float] = []
    conv: list[float] = []
    for line, row, problem in rows:
        try:
            if row is None:
                raise MalformedRowError(p, line, problem)
            cl = _label(row[spec.click], spec.click, str(p), line, False)
            cv = _label(row[spec.conversion], spec.conversion, str(p), line, True) if spec.conversion else math.nan
        except MalformedRowError:
            if not skip_bad:
                raise
            stats["skipped"] += 1
            continue
        click.append(cl)
        conv.append(cv)
        for c in spec.feature_columns:
            cells[c].append(row[c].strip())
        if len(click) == chunk_rows:
            yield _chunk_table(spec, cells, click, conv)
            cells = {c: [] for c in spec.feature_columns}
            click, conv = [], []
    if click:
        yield _chunk_table(spec, cells, click, conv)


__all__ = ["CRITEO_CAT", "CRITEO_INT", "ColumnSpec", "MalformedRowError", "criteo_groups", "read_criteo", "read_table",
           "value_ids"]
