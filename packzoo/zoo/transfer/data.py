"""The source and target domains, all read offline through :mod:`packzoo.zoo.data`.

- Source: Fashion-MNIST classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat): 30,000 training
  images; source accuracy on the 5,000 test images of those classes.
- Target ``fashion59``: Fashion-MNIST classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot), tags
  the CNN never saw. Labelled pool: the 30,000 training images of those classes (6,000 per class);
  held-out evaluation: their 5,000 test images. Tags are renumbered 0-4.
- Target ``digits``: scikit-learn's 1,797 8x8 digits resized to 28x28 (a real change of domain).
  A fixed stratified half (seed 0) is held out for evaluation (899 images); the other 898 (about
  90 per class) are the labelled pool.

Limited labels: :func:`labelled_subset` draws ``per_class`` pool images of every tag (seeded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TARGETS = ("fashion59", "digits")
SOURCE_CLASSES = (0, 1, 2, 3, 4)
FASHION_TARGET_CLASSES = (5, 6, 7, 8, 9)


@dataclass(frozen=True)
class Domain:
    """Images and tags of one domain: a labelled pool to learn from and a held-out test set.

    Attributes:
        name: ``source``, ``fashion59`` or ``digits``.
        pool_images, pool_labels: what labels may be drawn from (images (N, 28, 28), uint8 or float).
        test_images, test_labels: held-out images, never used for training.
        classes: the tag names, indexed by label.
    """

    name: str
    pool_images: np.ndarray
    pool_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple[str, ...]


def _select(images: np.ndarray, labels: np.ndarray, classes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isin(labels, classes)
    remap = np.full(10, -1, dtype=np.int64)
    remap[list(classes)] = np.arange(len(classes))
    return images[keep], remap[labels[keep]]


def source_domain(directory: str | None = None) -> Domain:
    """Fashion-MNIST classes 0-4: the CNN's training data (pool) and its test images."""
    from packzoo.zoo.data import FASHION_MNIST_CLASSES, fashion_mnist

    tr = _select(*fashion_mnist("train", directory), SOURCE_CLASSES)
    te = _select(*fashion_mnist("test", directory), SOURCE_CLASSES)
    return Domain("source", tr[0], tr[1], te[0], te[1], tuple(FASHION_MNIST_CLASSES[c] for c in SOURCE_CLASSES))


def target_domain(name: str, directory: str | None = None) -> Domain:
    """The target domain ``name`` (``fashion59`` or ``digits``)."""
    if name == "fashion59":
        from packzoo.zoo.data import FASHION_MNIST_CLASSES, fashion_mnist

        tr = _select(*fashion_mnist("train", directory), FASHION_TARGET_CLASSES)
        te = _select(*fashion_mnist("test", directory), FASHION_TARGET_CLASSES)
        return Domain(name, tr[0], tr[1], te[0], te[1], tuple(FASHION_MNIST_CLASSES[c] for c in FASHION_TARGET_CLASSES))
    if name == "digits":
        from packzoo.zoo.data import digits

        images, labels = digits(28)
        # A fixed split (seed 0, every tag halved) so that every run evaluates on the same images.
        rng = np.random.default_rng(0)
        test = np.zeros(len(labels), dtype=bool)
        for c in range(10):
            idx = np.flatnonzero(labels == c)
            test[rng.permutation(idx)[: len(idx) // 2]] = True
        return Domain(name, images[~test], labels[~test], images[test], labels[test], tuple(str(c) for c in range(10)))
    raise ValueError(f"unknown target {name!r}; targets: {', '.join(TARGETS)}")


def labelled_subset(labels: np.ndarray, per_class: int | None, seed: int) -> np.ndarray:
    """Sorted indices of ``per_class`` randomly drawn items of every tag (all of them when None).

    A tag with fewer items gives all it has. Same seed, same subset; a larger ``per_class`` under
    the same seed contains the smaller one (each tag's items are drawn in one seeded order).
    """
    labels = np.asarray(labels)
    if per_class is None:
        return np.arange(len(labels))
    if not isinstance(per_class, (int, np.integer)) or isinstance(per_class, bool) or per_class < 1:
        raise ValueError(f"per_class must be a positive integer or None (all), got {per_class!r}")
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        out.append(rng.permutation(idx)[:per_class])
    return np.sort(np.concatenate(out))


__all__ = ["Domain", "FASHION_TARGET_CLASSES", "SOURCE_CLASSES", "TARGETS", "labelled_subset",
           "source_domain", "target_domain"]
