"""Where the CTR family's rows come from: one small interface over MovieLens, the synthetic log
and a user's files, so the trainer and the zoo's evaluation read them all the same way.

A source gives ``train_batch(step, size)`` (a function of the seed and the step only, so a resumed
run sees the same batches) and a held-out ``test`` table, with a ``tail`` mask when it has one.

Names (``packzoo train ctr --data NAME``):

- ``movielens-100k``: MovieLens-100k implicit feedback (``--split random|time|user-time``); epochs of seeded
  permutations of the 80,000 training rows.
- ``synthetic``: the seeded synthetic log (:class:`~packzoo.zoo.data.clicklog.SyntheticLog`);
  training batch ``k`` is the log's batch ``k``; the test rows are batches from a disjoint range.
- ``criteo:PATH``, ``csv:PATH``, ``parquet:PATH``: a file streamed in chunks (see
  :mod:`packzoo.zoo.data.readers`); the first ``test_rows`` rows are the test set, the rest are
  read in file order, again from the top at the end (shuffle the file beforehand if it is sorted).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from packzoo.zoo.data.clicklog import ClickTable, SyntheticLog
from packzoo.zoo.data.images import DatasetError

TEST_BATCH_BASE = 1_000_000_000  # synthetic test batches come from far beyond any training step


@dataclass
class Source:
    """Training batches and a test table of one dataset."""

    name: str
    groups: dict[str, str]
    test: ClickTable
    tail: np.ndarray | None = None
    item_train_rows: np.ndarray | None = None
    description: str = ""
    train: ClickTable | None = None
    seed: int = 0
    _log: SyntheticLog | None = None
    _stream: StreamState | None = None

    def train_batch(self, step: int, size: int) -> ClickTable:
        """Training batch number ``step`` (1-based) of ``size`` rows."""
        if self.train is not None:
            n = len(self.train)
            per_epoch = max(n // size, 1)
            epoch, k = divmod(step - 1, per_epoch)
            perm = np.random.default_rng([self.seed, 17, epoch]).permutation(n)
            return self.train.take(perm[k * size:(k + 1) * size])
        if self._log is not None:
            return self._log.batch(step - 1, size)
        assert self._stream is not None
        return self._stream.batch(step, size)


@dataclass
class StreamState:
    """A file read in order, cycling; keeps its place so consecutive steps cost one read each."""

    open_rows: object  # callable () -> Iterator[ClickTable] of the training rows
    next_step: int = 1
    it: Iterator[ClickTable] | None = None
    buffer: list[ClickTable] = field(default_factory=list)
    buffered: int = 0

    def _take(self, size: int) -> ClickTable:
        while self.buffered < size:
            if self.it is None:
                self.it = self.open_rows()  # type: ignore[operator]
            try:
                chunk = next(self.it)
            except StopIteration:
                self.it = None
                if self.buffered == 0 and getattr(self, "_empty_pass", False):
                    raise DatasetError("the training file has no rows after the test rows") from None
                self._empty_pass = self.buffered == 0
                continue
            self._empty_pass = False
            if len(chunk):
                self.buffer.append(chunk)
                self.buffered += len(chunk)
        t = ClickTable.concat(self.buffer) if len(self.buffer) > 1 else self.buffer[0]
        head, rest = t.take(slice(0, size)), t.take(slice(size, None))
        self.buffer = [rest] if len(rest) else []
        self.buffered = len(rest)
        return head

    def batch(self, step: int, size: int) -> ClickTable:
        if step < self.next_step:  # a rewind (a resumed run): read again from the top
            self.it, self.buffer, self.buffered, self.next_step = None, [], 0, 1
        while self.next_step < step:  # a resumed run skips what it already trained on
            self._take(size)
            self.next_step += 1
        self.next_step += 1
        return self._take(size)


def movielens_source(split: str = "random", seed: int = 0, directory: str | os.PathLike | None = None) -> Source:
    """MovieLens-100k implicit feedback (``split`` random or time; ``seed`` of the random split)."""
    from packzoo.zoo.data.movielens import LICENCE, movielens_split

    sp = movielens_split(split, seed=seed if split.startswith("random") else 0, directory=directory)
    return Source("movielens-100k", dict(sp.train.groups), sp.test, sp.tail, sp.item_train_rows,
                  f"MovieLens-100k implicit feedback, {split} split ({LICENCE})", train=sp.train, seed=seed)


def synthetic_source(seed: int = 0, test_rows: int = 50_000, users: int = 10_000_000, items: int = 100_000_000
                     ) -> Source:
    """The synthetic log of ``seed`` with ``users`` x ``items`` id spaces; ``test_rows`` held-out rows."""
    log = SyntheticLog(seed=seed, users=users, items=items)
    parts, left, i = [], test_rows, 0
    while left > 0:
        parts.append(log.batch(TEST_BATCH_BASE + i, min(left, 10_000)))
        left -= 10_000
        i += 1
    test = ClickTable.concat(parts)
    return Source("synthetic", log.groups, test, None, None,
                  f"synthetic click log (seed {seed}, {users:,} users x {items:,} items, Zipf {log.config.zipf})",
                  _log=log)


def file_source(kind: str, path: str, spec: str | None = None, test_rows: int = 10_000, chunk_rows: int = 65_536,
                skip_bad: bool = False) -> Source:
    """A Criteo TSV, CSV or Parquet file: the first ``test_rows`` rows test, the rest train (streamed)."""
    from packzoo.zoo.data.readers import ColumnSpec, read_criteo, read_table

    if kind == "criteo":
        def rows() -> Iterator[ClickTable]:
            return read_criteo(path, chunk_rows=chunk_rows, skip_bad=skip_bad)
    else:
        if spec is None:
            raise DatasetError(f"--data {kind}:PATH needs --spec FILE (the column spec, JSON)")
        cs = ColumnSpec.load(spec)

        def rows() -> Iterator[ClickTable]:
            return read_table(path, cs, fmt=kind, chunk_rows=chunk_rows, skip_bad=skip_bad)
    it = rows()
    head: list[ClickTable] = []
    got = 0
    for chunk in it:
        head.append(chunk)
        got += len(chunk)
        if got >= test_rows:
            break
    if not head:
        raise DatasetError(f"{path}: no rows")
    all_head = ClickTable.concat(head)
    test = all_head.take(slice(0, test_rows))

    def train_rows() -> Iterator[ClickTable]:
        skip = len(test)
        for chunk in rows():
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            yield chunk.take(slice(skip, None))
            skip = 0
    return Source(f"{kind}:{path}", dict(test.groups), test, None, None, f"{kind} file {path}",
                  _stream=StreamState(train_rows))


def load_source(data: str, *, split: str = "random", seed: int = 0, spec: str | None = None,
                test_rows: int | None = None, movielens_dir: str | None = None, skip_bad: bool = False,
                users: int = 10_000_000, items: int = 100_000_000) -> Source:
    """The source named ``data`` (see the module docstring)."""
    if data == "movielens-100k":
        return movielens_source(split, seed, movielens_dir)
    if data == "synthetic":
        return synthetic_source(seed, test_rows or 50_000, users, items)
    kind, sep, path = data.partition(":")
    if sep and kind in ("criteo", "csv", "parquet") and path:
        return file_source(kind, path, spec, test_rows or 10_000, skip_bad=skip_bad)
    raise DatasetError(f"unknown data {data!r}; use movielens-100k, synthetic, criteo:PATH, csv:PATH or parquet:PATH")


__all__ = ["Source", "file_source", "load_source", "movielens_source", "synthetic_source"]
