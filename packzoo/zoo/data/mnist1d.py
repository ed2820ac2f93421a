"""MNIST-1D (Greydanus & Steinbach 2024), built by the ``mnist1d`` package's own offline generator.

The package's ``get_dataset`` downloads a pickle; this loader never calls it. It calls
``mnist1d.data.make_dataset`` with the package's default arguments (``get_dataset_args()``:
5,000 samples of length 40, 4,000 for training and 1,000 for testing, seed 42), whose digit
templates are written into the package, so nothing is read from the network or the disk.
The generator draws from numpy's global RNG; the loader restores the caller's global RNG state
afterwards so loading has no side effects.
"""

from __future__ import annotations

import functools
import random

import numpy as np

from packzoo.zoo.data.images import DatasetError

SPLITS = ("train", "test")


@functools.lru_cache(maxsize=4)
def _generate(num_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as e:  # pragma: no cover - a runtime dependency
        raise DatasetError(f"MNIST-1D needs the package mnist1d (pip install mnist1d): {e}") from None
    args = get_dataset_args()
    args.num_samples = num_samples
    args.seed = seed
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    out = (d["x"].astype(np.float32), d["y"].astype(np.int64), d["x_test"].astype(np.float32), d["y_test"].astype(np.int64))
    for a in out:
        a.setflags(write=False)
    return out


def mnist1d(split: str = "train", num_samples: int = 5000, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-1D signals (N, 40) float32 and labels (N,) int64 of ``split``.

    Args:
        split: "train" (the first 80%) or "test" (the last 20%), as the package splits.
        num_samples: samples generated in all (the package's default 5,000; its "MNIST-1D large" uses more).
        seed: the generator's seed (the package's default 42 gives the standard dataset's recipe).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 50:
        raise ValueError(f"num_samples must be an integer >= 50, got {num_samples!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    xtr, ytr, xte, yte = _generate(num_samples, seed)
    return (xtr.copy(), ytr.copy()) if split == "train" else (xte.copy(), yte.copy())


__all__ = ["SPLITS", "mnist1d"]
