"""Offline datasets shared by the zoo's families. Nothing is ever downloaded.

- :func:`fashion_mnist`: Fashion-MNIST (Xiao et al. 2017, MIT licence) from Debian's package
  ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``; ``make test`` installs it as it
  installs Chromium), or the standard IDX files (``.gz`` or not) in any folder a user names.
- :func:`digits`: scikit-learn's bundled 8x8 digits, optionally resized to 28x28.
"""

from packzoo.zoo.data.images import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_DIR,
    DatasetError,
    digits,
    fashion_mnist,
    read_idx,
)

__all__ = ["FASHION_MNIST_CLASSES", "FASHION_MNIST_DIR", "DatasetError", "digits", "fashion_mnist", "read_idx"]
