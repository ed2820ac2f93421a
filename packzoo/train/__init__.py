"""Training: one trainer per zoo family, all on the same plumbing and the same flags.

``packzoo train <family> --steps --lr --threads --time-budget --seed --out --resume --ship NAME``.
Each family's trainer is a module ``packzoo/train/<family>.py`` exposing ``cli(argv) -> int``;
this package finds them by walking its folder, so a new family's trainer joins by existing.
The shared plumbing (run folder, metrics CSV, safetensors checkpoints that resume bit-identically,
time budget, clean stop on SIGINT/SIGTERM, progress bar, recipe, shipping into the zoo) is
:mod:`packzoo.train.run`.

Arrows: training may import solvers, the zoo and envs; nothing below it imports training.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys


def trainers() -> list[str]:
    """Names of the families that have a trainer (``packzoo/train/<family>.py``)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_") and m.name != "run")


def cli(argv: list[str]) -> int:
    """``packzoo train <family> ARGS...``: dispatch to the family's trainer."""
    names = trainers()
    if not argv or argv[0] in ("-h", "--help"):
        stream = sys.stdout if argv else sys.stderr
        print(f"usage: packzoo train {{{','.join(names)}}} [--help] [ARGS...]\n\n"
              "Every trainer takes --steps --lr --threads --time-budget --seed --out --resume --ship NAME.",
              file=stream)
        return 0 if argv else 2
    if argv[0] not in names:
        print(f"packzoo train: error: unknown family {argv[0]!r}; choose from {', '.join(names)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"{__name__}.{argv[0]}")
    return int(module.cli(argv[1:]) or 0)


__all__ = ["cli", "trainers"]
