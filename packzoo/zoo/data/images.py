"""Image datasets read from local files: Fashion-MNIST (IDX) and scikit-learn's digits."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# IDX type codes (the third byte of the magic number) -> numpy dtype, big-endian.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetError(ValueError):
    """A dataset that is missing or malformed; the message names the file and what to install."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzipped or not, checking its header against its size."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path} does not exist") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DatasetError(f"{path}: truncated or corrupt gzip ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DatasetError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DatasetError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DatasetError(f"{path}: {len(raw)} bytes, but its header {shape} needs {expected} (truncated file?)")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    hint = (" (install Debian's package dataset-fashion-mnist: `apt-get install dataset-fashion-mnist`, "
            "or name a folder holding the IDX files)") if directory == FASHION_MNIST_DIR else ""
    raise DatasetError(f"Fashion-MNIST file {stem}[.gz] not found in {directory}{hint}")


def fashion_mnist(split: str = "train", directory: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images (N, 28, 28) uint8 and labels (N,) int64 of ``split`` ("train": 60,000; "test": 10,000).

    Args:
        split: "train" or "test".
        directory: a folder with the four standard IDX files (gzipped or not); default Debian's
            ``/usr/share/datasets/fashion-mnist``.
    """
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    d = Path(directory) if directory is not None else FASHION_MNIST_DIR
    img_file, lab_file = (_find(d, s) for s in _FILES[split])
    images, labels = read_idx(img_file), read_idx(lab_file)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DatasetError(f"{img_file}: expected uint8 images of 28x28, got {images.dtype} {images.shape}")
    if len(images) == 0:
        raise DatasetError(f"{img_file}: no images")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DatasetError(f"{lab_file}: {labels.shape[0] if labels.ndim else 0} labels for {len(images)} images in {img_file}")
    if labels.min() < 0 or labels.max() > 9:
        raise DatasetError(f"{lab_file}: labels outside 0..9")
    return images, labels.astype(np.int64)


def digits(size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits (1,797 images): float32 images in [0, 1] of ``size`` x ``size`` and labels.

    ``size=28`` resizes the 8x8 images bilinearly to Fashion-MNIST's shape (a change of domain).
    """
    from sklearn.datasets import load_digits

    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an integer >= 8, got {size!r}")
    d = load_digits()
    images = (d.images / 16.0).astype(np.float32)
    if size != 8:
        import torch
        import torch.nn.functional as F

        images = F.interpolate(torch.from_numpy(images)[:, None], size=(size, size), mode="bilinear",
                               align_corners=False)[:, 0].numpy()
    return images, d.target.astype(np.int64)
