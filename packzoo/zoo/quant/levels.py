"""Level sets and the projection onto them by iterative quantization (Leng et al. AAAI 2018).

A quantized layer holds weights ``W = alpha * Q`` with one scale ``alpha > 0`` per layer and every
entry of ``Q`` one of a few *levels* (multiples of ``alpha``): ``binary`` {-1, +1}, ``ternary``
{-1, 0, +1}, ``pow2-3bit`` {0, +-1, +-2, +-4} (7 levels in 3 bits, so a product is a bit shift),
or any sorted list of numbers the caller names.

The projection onto C = {alpha * Q : alpha > 0, Q in levels^n} minimises ||V - alpha Q||^2.
No closed form exists for more than two levels, so it alternates the two partial minimisations
(the paper's "iterative quantization"):

- for a fixed alpha, the best Q takes each entry's nearest level of V / alpha;
- for a fixed Q, the best alpha is <V, Q> / <Q, Q> (set the derivative in alpha to zero).

Each half-step cannot increase the error, so the loop ends when Q stops changing (or after
``iterations``). For binary levels it stops after one step at BWN's alpha = mean |V|.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

NAMED_LEVELS: dict[str, tuple[float, ...]] = {
    "binary": (-1.0, 1.0),
    "ternary": (-1.0, 0.0, 1.0),
    "pow2-3bit": (-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0),
}


class QuantError(ValueError):
    """Bad quantization input (unknown level set, bad layer name, corrupted compact file, ...)."""


@dataclass(frozen=True)
class Levels:
    """A sorted set of levels (multiples of the layer's alpha) and its name.

    Attributes:
        name: ``binary``, ``ternary``, ``pow2-3bit`` or ``custom``.
        values: the levels, sorted ascending, distinct.
    """

    name: str
    values: tuple[float, ...]

    @property
    def bits(self) -> int:
        """Bits per weight of the packed codes: ceil(log2(number of levels)), at least 1."""
        return max(1, math.ceil(math.log2(len(self.values))))

    @property
    def is_pow2(self) -> bool:
        """True when every nonzero level is +-2^k for an integer k >= 0 (products become shifts)."""
        for v in self.values:
            if v == 0:
                continue
            a = abs(v)
            if a != int(a) or int(a) & (int(a) - 1):
                return False
        return True

    def tensor(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.tensor(self.values, dtype=dtype)


def as_levels(levels: str | Sequence[float] | Levels) -> Levels:
    """Parse ``levels``: a name from :data:`NAMED_LEVELS`, a list of multiples, or a :class:`Levels`."""
    if isinstance(levels, Levels):
        return levels
    if isinstance(levels, str):
        if levels not in NAMED_LEVELS:
            raise QuantError(f"unknown levels {levels!r}; named sets: {', '.join(NAMED_LEVELS)}, or a list of multiples")
        return Levels(levels, NAMED_LEVELS[levels])
    try:
        vals = [float(v) for v in levels]
    except (TypeError, ValueError):
        raise QuantError(f"levels must be a name or a list of numbers, got {levels!r}") from None
    if len(vals) < 2:
        raise QuantError(f"levels need at least two values, got {vals}")
    if any(not math.isfinite(v) for v in vals):
        raise QuantError(f"levels must be finite, got {vals}")
    if len(set(vals)) != len(vals):
        raise QuantError(f"levels must be distinct, got {vals}")
    if not any(v != 0 for v in vals):
        raise QuantError(f"levels need a nonzero value, got {vals}")
    if len(vals) > 256:
        raise QuantError(f"at most 256 levels (8-bit codes), got {len(vals)}")
    vals.sort()
    for name, named in NAMED_LEVELS.items():
        if tuple(vals) == named:
            return Levels(name, named)
    return Levels("custom", tuple(vals))


def nearest_codes(x: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Index (int64) of the nearest level for every entry of ``x``; ties go to the lower level.

    ``levels`` is sorted ascending: the decision boundaries are the midpoints between neighbours.
    """
    mids = (levels[1:] + levels[:-1]) / 2
    # right=False: an entry exactly on a midpoint goes to the lower level (a fixed, documented rule).
    return torch.bucketize(x, mids.to(x.dtype), right=False)


@dataclass
class Projection:
    """Result of :func:`project`: ``alpha * levels[codes]`` is the projected tensor.

    Attributes:
        codes: int64 level index per entry (shape of the input).
        alpha: the scale (a Python float > 0).
        iterations: alternations run.
        error: ||V - alpha Q||^2 at the end.
    """

    codes: torch.Tensor
    alpha: float
    iterations: int
    error: float

    def values(self, levels: Levels, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The projected tensor, alpha * level of each code."""
        return (levels.tensor(torch.float64)[self.codes] * self.alpha).to(dtype)


def project(v: torch.Tensor, levels: str | Sequence[float] | Levels, *, iterations: int = 20,
            alpha: float | None = None) -> Projection:
    """Project ``v`` onto {alpha * Q : alpha > 0, Q in levels} by iterative quantization.

    Args:
        v: the tensor (any shape); computed in float64 so the result does not depend on the input dtype.
        levels: level set (see :func:`as_levels`).
        iterations: most alternations (Q-step then alpha-step); the loop stops earlier once Q is stable.
        alpha: starting scale; default mean |v| / mean |nonzero level| (BWN's alpha for binary levels).

    Returns:
        a :class:`Projection`. A tensor of zeros gives codes of the level nearest zero and alpha 1.
    """
    lv = as_levels(levels)
    if not isinstance(iterations, int) or iterations < 1:
        raise QuantError(f"iterations must be a positive integer, got {iterations!r}")
    if not isinstance(v, torch.Tensor):
        raise QuantError(f"project needs a torch tensor, got {type(v).__name__}")
    x = v.detach().to(torch.float64).reshape(-1)
    if not torch.isfinite(x).all():
        raise QuantError("cannot project a tensor holding NaN or inf")
    L = lv.tensor(torch.float64)
    nz = L[L != 0].abs()
    mean_abs = float(x.abs().mean()) if x.numel() else 0.0
    if mean_abs == 0.0:
        codes = nearest_codes(torch.zeros_like(x), L)
        q = L[codes]
        return Projection(codes.reshape(v.shape), 1.0, 0, float((x - q).pow(2).sum()))
    a = float(alpha) if alpha is not None else mean_abs / float(nz.mean())
    if not (math.isfinite(a) and a > 0):
        raise QuantError(f"alpha must be a positive number, got {alpha!r}")
    codes = None
    it = 0
    for it in range(1, iterations + 1):
        new = nearest_codes(x / a, L)
        if codes is not None and torch.equal(new, codes):
            it -= 1  # this pass changed nothing
            break
        codes = new
        q = L[codes]
        qq = float(q.dot(q))
        if qq == 0.0:  # every entry rounded to a zero level: alpha too big; shrink and retry
            a /= 2.0
            codes = None
            continue
        a_new = float(x.dot(q)) / qq
        if a_new <= 0:
            # <V, Q> <= 0 cannot happen for symmetric levels (nearest-level codes agree in sign with
            # V); for lopsided custom levels keep the previous scale rather than flip the grid.
            break
        a = a_new
    if codes is None:
        codes = nearest_codes(x / a, L)
    q = L[codes]
    return Projection(codes.reshape(v.shape), a, max(it, 1), float((x - a * q).pow(2).sum()))


__all__ = ["NAMED_LEVELS", "Levels", "Projection", "QuantError", "as_levels", "nearest_codes", "project"]
