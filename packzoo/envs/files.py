"""A user's own boxes: instances read from JSON or CSV files, and folders of them.

JSON is :meth:`Instance.to_json`'s format (``{"dims": [[l, w, h], ...], "names": [...]}``). CSV has a
header row naming the columns: ``l, w, h`` (or ``length, width, height``; any order, any case),
optionally ``name`` and ``quantity`` (``qty``, ``count``): a row with quantity k is k identical
items. Every bad row is an :class:`InstanceError` naming the file and the line.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from packzoo.envs.instance import Instance, InstanceError

_ALIASES = {
    "l": "l", "length": "l", "w": "w", "width": "w", "h": "h", "height": "h",
    "name": "name", "id": "name", "quantity": "quantity", "qty": "quantity", "count": "quantity",
}
SUFFIXES = (".json", ".csv")
MAX_QUANTITY = 100_000  # a typo such as 1e9 items must not exhaust memory before the limits speak


def read_csv(path: str | os.PathLike) -> Instance:
    """The Instance of a CSV file (see the module docstring)."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            raise InstanceError(f"{path}: empty file (a header row l,w,h is needed)") from None
        cols: dict[str, int] = {}
        for j, title in enumerate(header):
            key = _ALIASES.get(title.strip().lower())
            if key is None:
                raise InstanceError(f"{path}, line 1: unknown column {title!r} (known: {', '.join(sorted(_ALIASES))})")
            if key in cols:
                raise InstanceError(f"{path}, line 1: column {key!r} given twice")
            cols[key] = j
        missing = [k for k in ("l", "w", "h") if k not in cols]
        if missing:
            raise InstanceError(f"{path}, line 1: missing columns {missing} (the header must name l, w and h)")
        dims: list[list[int]] = []
        names: list[str] = []
        for line, row in enumerate(reader, start=2):
            if not any(c.strip() for c in row):
                continue  # blank lines are allowed
            if len(row) != len(header):
                raise InstanceError(f"{path}, line {line}: {len(row)} fields, the header has {len(header)}")
            try:
                d = [int(row[cols[k]].strip()) for k in ("l", "w", "h")]
                q = int(row[cols["quantity"]].strip()) if "quantity" in cols else 1
            except ValueError:
                raise InstanceError(f"{path}, line {line}: dimensions and quantity must be integers, got {row}") from None
            if not 1 <= q <= MAX_QUANTITY:
                raise InstanceError(f"{path}, line {line}: quantity must be in 1..{MAX_QUANTITY}, got {q}")
            name = row[cols["name"]].strip() if "name" in cols else ""
            for r in range(q):
                dims.append(d)
                names.append(f"{name}#{r + 1}" if name and q > 1 else name)
        if not dims:
            raise InstanceError(f"{path}: no items")
    try:
        return Instance(dims, names if "name" in cols else None)
    except InstanceError as e:
        raise InstanceError(f"{path}: {e}") from None


def read_instance(path: str | os.PathLike) -> Instance:
    """The Instance of a ``.json`` or ``.csv`` file."""
    path = Path(path)
    if not path.is_file():
        raise InstanceError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        return read_csv(path)
    if path.suffix.lower() == ".json":
        try:
            return Instance.load(path)
        except InstanceError as e:
            raise InstanceError(f"{path}: {e}") from None
    raise InstanceError(f"{path}: unknown file type {path.suffix!r} (instances are {' or '.join(SUFFIXES)} files)")


def read_instances(path: str | os.PathLike) -> tuple[list[Instance], list[Path]]:
    """A file's instance, or every ``.json``/``.csv`` instance of a folder (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
        if not files:
            raise InstanceError(f"{path}: no {' or '.join(SUFFIXES)} instance files")
        return [read_instance(p) for p in files], files
    return [read_instance(path)], [path]
