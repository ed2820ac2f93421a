"""A user's own boxes: instances read from JSON or CSV files, and folders of them.

JSON is :meth:`Instance.to_json`'s format (``{"dims": [[l, w, h], ...], "names": [...], "mode": ...,
"container": [...], "orientations": [...], "support": ..., "weights": [...], "max_weight": ...}``).
CSV has a header row naming the columns: ``l, w, h`` (or ``length, width, height``; any order, any
case), optionally ``name``, ``quantity`` (``qty``, ``count``: a row with quantity k is k identical
items), ``weight`` (``mass``) and ``orientations`` (``rotation``: ``all``, ``upright`` (this side
up), ``fixed``, or orientation indices separated by spaces, e.g. ``0 2``). A CSV holds items only;
the mode, container, support rule and weight limit come as keywords (the ``packzoo solve`` flags
``--mode --container --support --max-weight``). Every bad row is an :class:`InstanceError` naming
the file and the line.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path
from typing import Any

from packzoo.envs.instance import Instance, InstanceError

_ALIASES = {
    "l": "l", "length": "l", "w": "w", "width": "w", "h": "h", "height": "h",
    "name": "name", "id": "name", "quantity": "quantity", "qty": "quantity", "count": "quantity",
    "weight": "weight", "mass": "weight", "orientations": "orientations", "orientation": "orientations",
    "rotation": "orientations",
}
#: The instance-wide settings a CSV file cannot hold, given as keywords to the readers.
SETTINGS = ("mode", "container", "support", "max_weight")
SUFFIXES = (".json", ".csv")
MAX_QUANTITY = 100_000  # a typo such as 1e9 items must not exhaust memory before the limits speak


def _orientation_cell(text: str, where: str) -> Any:
    t = text.strip().lower()
    if t in ("", "all"):
        return "all"
    if t in ("upright", "fixed"):
        return t
    try:
        return [int(v) for v in t.replace(";", " ").replace(",", " ").split()]
    except ValueError:
        raise InstanceError(f"{where}: orientations must be all, upright, fixed or indices 0..5, got {text!r}") from None


def read_csv(path: str | os.PathLike, **settings: Any) -> Instance:
    """The Instance of a CSV file (see the module docstring); ``settings`` (:data:`SETTINGS`: mode,
    container, support, max_weight) go to the Instance."""
    _check_settings(settings)
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
        weights: list[float] = []
        orients: list[Any] = []
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
            weight = None
            if "weight" in cols:
                try:
                    weight = float(row[cols["weight"]].strip())
                except ValueError:
                    raise InstanceError(f"{path}, line {line}: weight must be a number, got {row[cols['weight']]!r}") from None
            orient = _orientation_cell(row[cols["orientations"]], f"{path}, line {line}") if "orientations" in cols else None
            for r in range(q):
                dims.append(d)
                names.append(f"{name}#{r + 1}" if name and q > 1 else name)
                weights.append(weight)
                orients.append(orient)
        if not dims:
            raise InstanceError(f"{path}: no items")
    try:
        return Instance(dims, names if "name" in cols else None,
                        weights=weights if "weight" in cols else None,
                        orientations=orients if "orientations" in cols else None, **settings)
    except InstanceError as e:
        raise InstanceError(f"{path}: {e}") from None


def _check_settings(settings: dict[str, Any]) -> None:
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown instance settings {unknown}; known: {list(SETTINGS)}")


def read_instance(path: str | os.PathLike, **settings: Any) -> Instance:
    """The Instance of a ``.json`` or ``.csv`` file; ``settings`` (mode, container, support,
    max_weight; None values are ignored) set those of a CSV file's items and override a JSON
    file's."""
    settings = {k: v for k, v in settings.items() if v is not None}
    _check_settings(settings)
    path = Path(path)
    if not path.is_file():
        raise InstanceError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        return read_csv(path, **settings)
    if path.suffix.lower() == ".json":
        try:
            inst = Instance.load(path)
            if settings:
                if "mode" in settings and "container" not in settings and settings["mode"] != inst.mode:
                    settings["container"] = None if settings["mode"] == "free" else inst.container
                inst = dataclasses.replace(inst, **settings)
            return inst
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
