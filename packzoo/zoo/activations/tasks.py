"""The activations family's tasks: a seeded function-fitting suite, MNIST-1D and Fashion-MNIST.

``load_task(name, seed=0)`` returns a :class:`Task` (train/test tensors, kind, metric):

- ``fit:<function>``: regression of one of :data:`FUNCTIONS` on ``[-1, 1]^d``; 1,000 training and
  1,000 test points drawn uniformly from a generator seeded by ``(seed, function)``. Metric: test
  RMSE (lower is better). Smooth ones include the toy functions of the KAN paper (Liu et al.
  2024, section 3.1); oscillating ones are there to show where the smoothness helps less.
- ``mnist1d``: the standard MNIST-1D (4,000 / 1,000 signals of length 40, 10 classes) from the
  ``mnist1d`` package's generator (:func:`packzoo.zoo.data.mnist1d.mnist1d`). Metric: accuracy.
- ``fashion``: Fashion-MNIST (60,000 / 10,000 images, flattened to 784 features, normalised).
  Metric: accuracy.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class FitFunction:
    """One function of the fitting suite: ``fn`` maps ``(N, dim)`` in ``[-1, 1]^dim`` to ``(N,)``."""

    name: str
    dim: int
    kind: str  # "smooth" or "oscillating"
    fn: Callable[[torch.Tensor], torch.Tensor]
    formula: str
    source: str = ""


_PI = math.pi
_KAN = "Liu et al. 2024, KAN, section 3.1"
FUNCTIONS: dict[str, FitFunction] = {f.name: f for f in (
    FitFunction("exp-sin-sq", 2, "smooth", lambda x: torch.exp(torch.sin(_PI * x[:, 0]) + x[:, 1] ** 2),
                "exp(sin(pi x1) + x2^2)", _KAN),
    FitFunction("product", 2, "smooth", lambda x: x[:, 0] * x[:, 1], "x1 x2", _KAN),
    FitFunction("gauss-3d", 3, "smooth", lambda x: torch.exp(-(x ** 2).sum(1)), "exp(-(x1^2 + x2^2 + x3^2))"),
    FitFunction("exp-sin-4d", 4, "smooth",
                lambda x: torch.exp(0.5 * (torch.sin(_PI * (x[:, 0] ** 2 + x[:, 1] ** 2))
                                           + torch.sin(_PI * (x[:, 2] ** 2 + x[:, 3] ** 2)))),
                "exp((sin(pi(x1^2 + x2^2)) + sin(pi(x3^2 + x4^2))) / 2)", _KAN),
    FitFunction("exp-mean-sin-8d", 8, "smooth", lambda x: torch.exp(torch.sin(_PI * x / 2).pow(2).mean(1)),
                "exp(mean_i sin^2(pi x_i / 2)), 8 inputs", _KAN + " (the 100-input one at 8 inputs)"),
    FitFunction("bessel-2d", 2, "oscillating", lambda x: torch.special.bessel_j0(20 * x[:, 0]) + 0 * x[:, 1],
                "J0(20 x1) (x2 irrelevant)", _KAN + " (J0(20x) with a distractor input)"),
    FitFunction("sin-product-2d", 2, "oscillating", lambda x: torch.sin(3 * _PI * x[:, 0]) * torch.sin(3 * _PI * x[:, 1]),
                "sin(3 pi x1) sin(3 pi x2)"),
    FitFunction("chirp-3d", 3, "oscillating", lambda x: torch.sin(4 * _PI * (x[:, 0] + x[:, 1] * x[:, 2])),
                "sin(4 pi (x1 + x2 x3))"),
)}
SMOOTH = tuple(n for n, f in FUNCTIONS.items() if f.kind == "smooth")
OSCILLATING = tuple(n for n, f in FUNCTIONS.items() if f.kind == "oscillating")
CLASSIFICATION = ("mnist1d", "fashion")
FIT_TRAIN, FIT_TEST = 1000, 1000

# Fashion-MNIST's pixel mean and standard deviation over the training set (values in [0, 1]).
_FASHION_MEAN, _FASHION_STD = 0.2860, 0.3530


@dataclass(frozen=True)
class Task:
    """Train and test tensors of a task, and how it is scored.

    Attributes:
        name: ``fit:<function>``, ``mnist1d`` or ``fashion``.
        kind: ``"regression"`` (float targets (N, 1), metric test RMSE) or ``"classification"``
            (int64 labels, metric accuracy).
        x_train, y_train, x_test, y_test: float32 inputs (N, in_dim) and targets.
        in_dim, out_dim: the net's input and output sizes.
    """

    name: str
    kind: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    in_dim: int
    out_dim: int

    @property
    def metric(self) -> str:
        return "rmse" if self.kind == "regression" else "accuracy"


def task_names() -> list[str]:
    """Every task name: ``fit:<function>`` for the suite, then the classification tasks."""
    return [f"fit:{n}" for n in FUNCTIONS] + list(CLASSIFICATION)


def fit_points(name: str, n: int, seed: int, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` uniform points of ``[-1, 1]^d`` and the function's values, seeded by (seed, name, split)."""
    if name not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}; functions: {', '.join(FUNCTIONS)}")
    f = FUNCTIONS[name]
    rng = np.random.default_rng((seed, zlib.crc32(name.encode()), 0 if split == "train" else 1))
    x = torch.from_numpy(rng.uniform(-1.0, 1.0, size=(n, f.dim)))
    y = f.fn(x).unsqueeze(1)  # values computed in float64, stored in float32
    return x.float(), y.float()


def load_task(name: str, seed: int = 0, train_limit: int | None = None, test_limit: int | None = None) -> Task:
    """The task ``name`` (see the module docstring); ``seed`` draws the points of a fitting task.

    ``train_limit`` / ``test_limit`` keep the first examples only (tests, quick checks).
    """
    for key, v in (("train_limit", train_limit), ("test_limit", test_limit)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise ValueError(f"{key} must be a positive integer, got {v!r}")
    if name.startswith("fit:"):
        fname = name[4:]
        if fname not in FUNCTIONS:
            raise ValueError(f"unknown function {fname!r} in task {name!r}; functions: {', '.join(FUNCTIONS)}")
        xtr, ytr = fit_points(fname, FIT_TRAIN, seed, "train")
        xte, yte = fit_points(fname, FIT_TEST, seed, "test")
        kind, in_dim, out_dim = "regression", FUNCTIONS[fname].dim, 1
    elif name == "mnist1d":
        from packzoo.zoo.data.mnist1d import mnist1d

        xtr, ytr = (torch.from_numpy(a) for a in mnist1d("train"))
        xte, yte = (torch.from_numpy(a) for a in mnist1d("test"))
        kind, in_dim, out_dim = "classification", 40, 10
    elif name == "fashion":
        from packzoo.zoo.data import fashion_mnist

        def prep(split: str) -> tuple[torch.Tensor, torch.Tensor]:
            images, labels = fashion_mnist(split)
            x = torch.from_numpy(images.reshape(len(images), -1)).float().div_(255.0)
            return x.sub_(_FASHION_MEAN).div_(_FASHION_STD), torch.from_numpy(labels)

        xtr, ytr = prep("train")
        xte, yte = prep("test")
        kind, in_dim, out_dim = "classification", 784, 10
    else:
        raise ValueError(f"unknown task {name!r}; tasks: {', '.join(task_names())}")
    return Task(name, kind, xtr[:train_limit], ytr[:train_limit], xte[:test_limit], yte[:test_limit], in_dim, out_dim)


@torch.no_grad()
def score(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str, batch_size: int = 2000) -> float:
    """Test RMSE (regression) or accuracy (classification) of ``model`` on ``(x, y)``, in eval mode."""
    model.eval()
    if kind == "regression":
        sq = 0.0
        for i in range(0, len(x), batch_size):
            sq += float((model(x[i:i + batch_size]).double() - y[i:i + batch_size].double()).pow(2).sum())
        return math.sqrt(sq / max(len(x), 1))
    right = 0
    for i in range(0, len(x), batch_size):
        right += int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
    return right / max(len(x), 1)


def batch_indices(n: int, batch_size: int, step: int, seed: int) -> np.ndarray:
    """Indices of mini-batch ``step`` (0-based): seeded epoch permutations cut into full batches.

    Depends only on its arguments, so a resumed run sees exactly the batches of an uninterrupted one.
    ``batch_size >= n`` means full batch.
    """
    if batch_size >= n:
        return np.arange(n)
    per_epoch = n // batch_size
    epoch, k = divmod(step, per_epoch)
    perm = np.random.default_rng((seed, epoch)).permutation(n)
    return perm[k * batch_size:(k + 1) * batch_size]


__all__ = ["CLASSIFICATION", "FUNCTIONS", "FitFunction", "OSCILLATING", "SMOOTH", "Task", "batch_indices", "fit_points",
           "load_task", "score", "task_names"]
