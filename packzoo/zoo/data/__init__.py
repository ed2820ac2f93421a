"""Offline datasets shared by the zoo's families. Nothing is ever downloaded.

- :func:`fashion_mnist`: Fashion-MNIST (Xiao et al. 2017, MIT licence) from Debian's package
  ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``; ``make test`` installs it as it
  installs Chromium), or the standard IDX files (``.gz`` or not) in any folder a user names.
- :func:`digits`: scikit-learn's bundled 8x8 digits, optionally resized to 28x28.
- :func:`movielens100k` / :func:`movielens_split`: MovieLens-100k from the files the ``recbole``
  wheel ships (installed without its dependencies by the setup) or GroupLens files in a folder.
- :class:`SyntheticLog`: a seeded click log in the talk's shape; :func:`read_criteo` and
  :func:`read_table` (with a :class:`ColumnSpec`): a user's own logs, streamed.
- MNIST-1D: :mod:`packzoo.zoo.data.mnist1d` (the ``mnist1d`` package's offline generator).
"""

from packzoo.zoo.data.images import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_DIR,
    DatasetError,
    digits,
    fashion_mnist,
    read_idx,
)

from packzoo.zoo.data.clicklog import SyntheticLog, synthetic_log  # noqa: E402
from packzoo.zoo.data.movielens import movielens100k, movielens_split  # noqa: E402
from packzoo.zoo.data.readers import ColumnSpec, MalformedRowError, read_criteo, read_table  # noqa: E402

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR",
    "ColumnSpec",
    "DatasetError",
    "MalformedRowError",
    "SyntheticLog",
    "digits",
    "fashion_mnist",
    "movielens100k",
    "movielens_split",
    "read_criteo",
    "read_idx",
    "read_table",
    "synthetic_log",
]
