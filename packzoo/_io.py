"""Small I/O helpers: nothing is ever written half-way."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, then rename.

    A reader never sees a partial file, and an interrupted write leaves the old file in place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


class OutputPathError(ValueError):
    """An output path that is a file where a folder is wanted, or that cannot be written."""


def check_output_dir(path: str | os.PathLike) -> Path:
    """Make sure ``path`` is (or can be made) a writable folder: called before any work starts, so
    a bad ``--out`` fails at once with a clear message, not after the first hour of solving."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputPathError(f"--out {str(p)!r} is a file, not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise OutputPathError(f"--out {str(p)!r} is not writable: {e.strerror or e}") from None
    return p
