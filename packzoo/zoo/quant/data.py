"""Fashion-MNIST as normalised tensors, and a mini-batch sampler that depends only on (seed, step).

The sampler draws epoch ``e``'s permutation from ``numpy.random.default_rng((seed, e))``, so the
batch of any step is known without RNG state: a resumed run sees exactly the batches the
uninterrupted run would have seen.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from packzoo.zoo.data import fashion_mnist

# Fashion-MNIST's pixel mean and standard deviation over the training set (of values in [0, 1]).
MEAN, STD = 0.2860, 0.3530


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N, 28, 28) -> normalised float32 (N, 1, 28, 28)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(torch.float32).div_(255.0)
    return x.sub_(MEAN).div_(STD).unsqueeze(1)


def load(split: str, limit: int | None = None, directory: str | os.PathLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised images and int64 labels of a Fashion-MNIST split (the first ``limit`` when given)."""
    images, labels = fashion_mnist(split, directory)
    if limit is not None:
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        images, labels = images[:limit], labels[:limit]
    return to_tensor(images), torch.from_numpy(labels)


def batch_indices(n: int, batch_size: int, step: int, seed: int) -> np.ndarray:
    """Indices of mini-batch ``step`` (0-based): epochs are seeded permutations cut into full batches."""
    per_epoch = n // batch_size
    if per_epoch < 1:
        raise ValueError(f"batch size {batch_size} exceeds the {n} training examples")
    epoch, k = divmod(step, per_epoch)
    perm = np.random.default_rng((seed, epoch)).permutation(n)
    return perm[k * batch_size:(k + 1) * batch_size]


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> dict[str, float]:
    """Top-1 and top-2 accuracy of ``model`` (eval mode) on ``(x, y)``."""
    model.eval()
    top1 = top2 = 0
    for i in range(0, len(x), batch_size):
        logits = model(x[i:i + batch_size])
        best = logits.topk(2, dim=1).indices
        t = y[i:i + batch_size]
        top1 += int((best[:, 0] == t).sum())
        top2 += int((best == t[:, None]).any(dim=1).sum())
    n = max(len(x), 1)
    return {"top1": round(top1 / n, 6), "top2": round(top2 / n, 6)}


__all__ = ["MEAN", "STD", "accuracy", "batch_indices", "load", "to_tensor"]
