"""Argument checks shared by every room: one wording for every "must be a positive integer"."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def positive_int(value: Any, name: str, error: type[ValueError] = ValueError) -> int:
    """``value`` as an int if it is an integer >= 1 (not a bool), else ``error`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise error(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def nonneg_int(value: Any, name: str, error: type[ValueError] = ValueError) -> int:
    """``value`` as an int if it is an integer >= 0 (not a bool), else ``error`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise error(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def positive_number(value: Any, name: str, error: type[ValueError] = ValueError) -> float:
    """``value`` as a float if it is a finite real number > 0, else ``error`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise error(f"{name} must be a positive number, got {value!r}")
    return float(value)
