"""Learnable univariate activation functions, pure PyTorch on the CPU.

:class:`LearnedActivation` is one module with three forms, shared by a whole layer or one per unit:

- ``"pwl"``: piecewise-linear on learnable knots (adaptive piecewise-linear units, Agostinelli et
  al. 2015): ``f(x) = c0 + c1 x + sum_k a_k relu(x - b_k)``; the knots ``b_k`` and the slopes
  ``a_k`` are both trained.
- ``"bspline"``: a cubic B-spline on a uniform grid of ``size`` intervals over ``[lo, hi]`` (the
  spline of Kolmogorov-Arnold networks, Liu et al. 2024), extended linearly (value and slope of the
  end points) outside the grid, so it is defined, C1, on the whole line.
- ``"rational"``: the safe Padé activation unit of Molina et al. 2020:
  ``f(x) = (a_0 + a_1 x + ... + a_m x^m) / (1 + |b_1 x + ... + b_n x^n|)``; the ``1 + |.|``
  denominator has no pole.

Every form is initialised by fitting a named function (``"silu"`` by default; also ``"relu"``,
``"tanh"``, ``"leaky_relu"``, ``"identity"``) on a grid, and :meth:`LearnedActivation.fit_` fits any
univariate function the same way (least squares; exact linear algebra for ``pwl``/``bspline``
coefficients, L-BFGS for ``rational``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

FORMS = ("pwl", "bspline", "rational")
INIT_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "silu": torch.nn.functional.silu,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.01),
    "identity": lambda x: x,
}


class ActivationError(ValueError):
    """A bad activation spec (unknown form, impossible size, ...); the message names the field."""


@dataclass(frozen=True)
class ActivationSpec:
    """What defines a :class:`LearnedActivation` (its architecture config).

    Attributes:
        form: ``"pwl"``, ``"bspline"`` or ``"rational"``.
        units: number of units with their own function, or ``None`` for one function shared by the
            whole layer (input of any shape).
        size: knots (``pwl``), grid intervals (``bspline``); ignored for ``rational``.
        degrees: ``(m, n)`` numerator and denominator degrees of ``rational`` (Molina et al.: (5, 4)).
        lo: left end of the grid (knot range / B-spline grid / fitting range).
        hi: right end.
        init: name of the function every unit starts as (see ``INIT_FUNCTIONS``).
    """

    form: str = "bspline"
    units: int | None = None
    size: int = 8
    degrees: tuple[int, int] = (5, 4)
    lo: float = -3.0
    hi: float = 3.0
    init: str = "silu"

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ActivationError(f"form must be one of {FORMS}, got {self.form!r}")
        if self.units is not None and (not isinstance(self.units, int) or isinstance(self.units, bool) or self.units < 1):
            raise ActivationError(f"units must be a positive integer or None (shared), got {self.units!r}")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 1:
            raise ActivationError(f"size must be a positive integer, got {self.size!r}")
        if self.form == "bspline" and self.size < 2:
            raise ActivationError(f"a bspline needs size >= 2 grid intervals, got {self.size}")
        m, n = (tuple(self.degrees) + (None, None))[:2] if isinstance(self.degrees, (tuple, list)) else (None, None)
        if not (isinstance(m, int) and isinstance(n, int) and m >= 1 and n >= 1) or len(self.degrees) != 2:
            raise ActivationError(f"degrees must be two integers (m >= 1, n >= 1), got {self.degrees!r}")
        object.__setattr__(self, "degrees", (int(m), int(n)))
        lo, hi = float(self.lo), float(self.hi)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ActivationError(f"need finite lo < hi, got lo={self.lo!r}, hi={self.hi!r}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        if self.init not in INIT_FUNCTIONS:
            raise ActivationError(f"init must be one of {sorted(INIT_FUNCTIONS)}, got {self.init!r}")

    @property
    def channels(self) -> int:
        """Number of separate functions (1 when shared)."""
        return 1 if self.units is None else self.units

    @property
    def params_per_function(self) -> int:
        """Trainable parameters of one function."""
        if self.form == "pwl":
            return 2 + 2 * self.size
        if self.form == "bspline":
            return self.size + 3
        m, n = self.degrees
        return m + 1 + n

    def to_dict(self) -> dict:
        d = asdict(self)
        d["degrees"] = list(self.degrees)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ActivationSpec:
        if not isinstance(d, dict):
            raise ActivationError(f"an activation spec must be a dict, got {type(d).__name__}")
        unknown = set(d) - {"form", "units", "size", "degrees", "lo", "hi", "init"}
        if unknown:
            raise ActivationError(f"unknown activation spec keys {sorted(unknown)}")
        d = dict(d)
        if "degrees" in d and isinstance(d["degrees"], list):
            d["degrees"] = tuple(d["degrees"])
        return cls(**d)


class LearnedActivation(nn.Module):
    """A learnable univariate function applied element-wise (see the module docstring for the forms).

    Args:
        form: ``"pwl"``, ``"bspline"`` or ``"rational"``.
        units: ``None`` for one function shared by the layer; else the size of the last input
            dimension, each unit (feature) having its own function.
        size: knots (``pwl``) or grid intervals (``bspline``).
        degrees: ``(m, n)`` of ``rational``.
        lo, hi: the grid (and initial fitting) range; inputs outside it are still handled.
        init: the function every unit starts as.
        dtype: parameter dtype (float32 by default; float64 for gradcheck).

    Input: any shape when shared; ``(..., units)`` when per unit. Output: same shape.
    """

    def __init__(self, form: str = "bspline", units: int | None = None, size: int = 8, degrees: tuple[int, int] = (5, 4),
                 lo: float = -3.0, hi: float = 3.0, init: str = "silu", dtype: torch.dtype = torch.float32,
                 *, _blank: bool = False) -> None:
        super().__init__()
        self.spec = ActivationSpec(form=form, units=units, size=size, degrees=tuple(degrees), lo=lo, hi=hi, init=init)
        s = self.spec
        c = s.channels
        # _blank: zero coefficients (the fitting code's scratch modules; avoids fitting to fit).
        start = _zero_coefficients(s) if _blank else _initial_coefficients(s.form, s.size, s.degrees, s.lo, s.hi, s.init)
        if s.form == "pwl":
            self.linear = nn.Parameter(start["linear"].to(dtype).repeat(c, 1))  # (c, 2): c0, c1
            self.knots = nn.Parameter(start["knots"].to(dtype).repeat(c, 1))    # (c, K)
            self.slopes = nn.Parameter(start["slopes"].to(dtype).repeat(c, 1))  # (c, K)
        elif s.form == "bspline":
            self.coef = nn.Parameter(start["coef"].to(dtype).repeat(c, 1))      # (c, G + 3)
        else:
            self.numerator = nn.Parameter(start["numerator"].to(dtype).repeat(c, 1))      # (c, m + 1)
            self.denominator = nn.Parameter(start["denominator"].to(dtype).repeat(c, 1))  # (c, n)

    @classmethod
    def from_spec(cls, spec: ActivationSpec | dict, dtype: torch.dtype = torch.float32) -> LearnedActivation:
        """Build from an :class:`ActivationSpec` (or its dict)."""
        s = spec if isinstance(spec, ActivationSpec) else ActivationSpec.from_dict(spec)
        return cls(s.form, s.units, s.size, s.degrees, s.lo, s.hi, s.init, dtype=dtype)

    def extra_repr(self) -> str:
        s = self.spec
        shape = "shared" if s.units is None else f"units={s.units}"
        what = f"degrees={s.degrees}" if s.form == "rational" else f"size={s.size}"
        return f"form={s.form!r}, {shape}, {what}, range=({s.lo:g}, {s.hi:g})"

    # -- evaluation -----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"LearnedActivation takes a tensor, got {type(x).__name__}")
        s = self.spec
        if s.units is not None and (x.dim() == 0 or x.shape[-1] != s.units):
            raise ValueError(f"per-unit activation with {s.units} units needs input (..., {s.units}), got {tuple(x.shape)}")
        shape = x.shape
        flat = x.reshape(-1, s.channels)  # (N, c); for a shared function c = 1
        if s.form == "pwl":
            y = self._pwl(flat)
        elif s.form == "bspline":
            y = self._bspline(flat)
        else:
            y = self._rational(flat)
        return y.reshape(shape)

    def _pwl(self, x: torch.Tensor) -> torch.Tensor:
        hinge = torch.relu(x.unsqueeze(-1) - self.knots)                # (N, c, K)
        return self.linear[:, 0] + self.linear[:, 1] * x + (hinge * self.slopes).sum(-1)

    def _bspline(self, x: torch.Tensor) -> torch.Tensor:
        s = self.spec
        i, weights = _bspline_pieces(x, s.lo, s.hi, s.size)
        base = (torch.arange(s.channels, device=x.device) * (s.size + 3)).unsqueeze(0) + i  # (N, c)
        idx = base.unsqueeze(-1) + torch.arange(4, device=x.device)                         # (N, c, 4)
        return (self.coef.reshape(-1)[idx] * weights).sum(-1)

    def _rational(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.numerator, self.denominator
        p = a[:, -1].expand_as(x)
        for j in range(a.shape[1] - 2, -1, -1):  # Horner
            p = p * x + a[:, j]
        q = b[:, -1].expand_as(x)
        for j in range(b.shape[1] - 2, -1, -1):
            q = q * x + b[:, j]
        q = q * x  # the denominator's polynomial has no constant term
        return p / (1.0 + q.abs())

    # -- fitting ----------------------------------------------------------------------------------
    @torch.no_grad()
    def fit_(self, fn: Callable[[torch.Tensor], torch.Tensor], lo: float | None = None, hi: float | None = None,
             points: int = 801, steps: int = 300) -> float:
        """Set every unit to the least-squares fit of ``fn`` on ``points`` grid points over ``[lo, hi]``.

        ``pwl`` keeps its knots evenly spread and solves for the slopes; ``bspline`` solves for the
        coefficients; ``rational`` starts from the polynomial fit and runs ``steps`` of L-BFGS (float64).
        Returns the fit's RMS error on the grid.
        """
        s = self.spec
        lo = s.lo if lo is None else float(lo)
        hi = s.hi if hi is None else float(hi)
        if not lo < hi:
            raise ActivationError(f"fit_ needs lo < hi, got {lo}, {hi}")
        coef = _fit(s.form, s.size, s.degrees, lo, hi, fn, points, steps, spline_range=(s.lo, s.hi))
        for name, value in coef.items():
            p = getattr(self, name)
            p.copy_(value.to(p.dtype).repeat(p.shape[0], 1))
        x = torch.linspace(lo, hi, points, dtype=torch.float64)
        shared = LearnedActivation(s.form, None, s.size, s.degrees, s.lo, s.hi, s.init, dtype=torch.float64, _blank=True)
        for name, value in coef.items():
            getattr(shared, name).copy_(value.unsqueeze(0))
        return float((shared(x) - fn(x)).pow(2).mean().sqrt())

    def curves(self, lo: float | None = None, hi: float | None = None, points: int = 201) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)``: every unit's function on a grid, ``y`` of shape ``(channels, points)`` (for pictures)."""
        s = self.spec
        lo = s.lo if lo is None else lo
        hi = s.hi if hi is None else hi
        x = torch.linspace(lo, hi, points, dtype=self._dtype())
        with torch.no_grad():
            y = self.forward(x.unsqueeze(-1).expand(points, s.channels).contiguous() if s.units else x.unsqueeze(-1))
        return x, y.reshape(points, s.channels).T.contiguous()

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype


def _bspline_pieces(x: torch.Tensor, lo: float, hi: float, g: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For each x: the first of its 4 active coefficients and their weights (..., 4).

    Uniform cubic B-splines on ``g`` intervals of ``[lo, hi]`` (``g + 3`` coefficients). Outside the
    grid the function continues as the end value plus the end slope times the distance (C1).
    """
    h = (hi - lo) / g
    xc = x.clamp(lo, hi)
    u = (xc - lo) / h
    i = torch.floor(u).detach().clamp_(0, g - 1)
    t = u - i
    t2, t3 = t * t, t * t * t
    # The four uniform cubic B-spline pieces on one interval, and their derivatives in x.
    w = torch.stack([(1 - t) ** 3, 3 * t3 - 6 * t2 + 4, -3 * t3 + 3 * t2 + 3 * t + 1, t3], dim=-1) / 6.0
    outside = x - xc
    if bool((outside != 0).any()):
        dw = torch.stack([-3 * (1 - t) ** 2, 9 * t2 - 12 * t, -9 * t2 + 6 * t + 3, 3 * t2], dim=-1) / (6.0 * h)
        w = w + dw * outside.unsqueeze(-1)
    return i.long(), w


def _zero_coefficients(s: ActivationSpec) -> dict[str, torch.Tensor]:
    z = functools.partial(torch.zeros, dtype=torch.float64)
    if s.form == "pwl":
        return {"linear": z(2), "knots": _pwl_knots(s.size, s.lo, s.hi), "slopes": z(s.size)}
    if s.form == "bspline":
        return {"coef": z(s.size + 3)}
    return {"numerator": z(s.degrees[0] + 1), "denominator": z(s.degrees[1])}


# -- least-squares fits (shared by initialisation and fit_) -------------------------------------------
def _pwl_knots(size: int, lo: float, hi: float) -> torch.Tensor:
    # Knots at the centres of `size` equal cells, so an odd count has one at the middle (0 for a symmetric range).
    return torch.linspace(lo, hi, 2 * size + 1, dtype=torch.float64)[1::2]


def _design(form: str, size: int, lo: float, hi: float, x: torch.Tensor, spline_range: tuple[float, float]) -> torch.Tensor:
    """Columns whose linear combination is the ``pwl``/``bspline`` function at ``x`` (float64)."""
    if form == "pwl":
        knots = _pwl_knots(size, lo, hi)
        return torch.cat([torch.ones_like(x)[:, None], x[:, None], torch.relu(x[:, None] - knots)], dim=1)
    i, w = _bspline_pieces(x, spline_range[0], spline_range[1], size)
    a = torch.zeros(len(x), size + 3, dtype=torch.float64)
    a.scatter_add_(1, i[:, None] + torch.arange(4), w)
    return a


def _fit(form: str, size: int, degrees: tuple[int, int], lo: float, hi: float, fn: Callable, points: int, steps: int,
         spline_range: tuple[float, float]) -> dict[str, torch.Tensor]:
    x = torch.linspace(lo, hi, points, dtype=torch.float64)
    y = fn(x).to(torch.float64)
    if y.shape != x.shape or not bool(torch.isfinite(y).all()):
        raise ActivationError("the function to fit must map a 1-D float64 tensor to finite values of the same shape")
    if form in ("pwl", "bspline"):
        a = _design(form, size, lo, hi, x, spline_range)
        # A tiny ridge keeps the solve unique when a column is (nearly) zero on the grid.
        w = torch.linalg.solve(a.T @ a + 1e-10 * torch.eye(a.shape[1], dtype=torch.float64), a.T @ y)
        if form == "pwl":
            return {"linear": w[:2], "knots": _pwl_knots(size, lo, hi), "slopes": w[2:]}
        return {"coef": w}
    m, n = degrees
    # Start from the least-squares polynomial (denominator 1), then refine numerator and denominator.
    scale = max(abs(lo), abs(hi))
    v = torch.stack([(x / scale) ** j for j in range(m + 1)], dim=1)
    a0 = torch.linalg.lstsq(v, y[:, None]).solution[:, 0] / torch.tensor([scale ** j for j in range(m + 1)], dtype=torch.float64)
    act = LearnedActivation("rational", None, 1, (m, n), lo, hi, dtype=torch.float64, _blank=True)
    with torch.enable_grad():
        act.numerator.data.copy_(a0[None])
        act.denominator.data.fill_(0.0)
        act.denominator.data[0, 0] = 1e-3  # off the |.| kink at 0
        opt = torch.optim.LBFGS(act.parameters(), lr=1.0, max_iter=steps, history_size=50,
                                tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = (act(x) - y).pow(2).mean()
            loss.backward()
            return loss

        opt.step(closure)
    if not (bool(torch.isfinite(act.numerator).all()) and bool(torch.isfinite(act.denominator).all())):
        raise ActivationError("the rational fit diverged")
    return {"numerator": act.numerator.detach()[0].clone(), "denominator": act.denominator.detach()[0].clone()}


@functools.lru_cache(maxsize=64)
def _initial_coefficients_cached(form: str, size: int, degrees: tuple[int, int], lo: float, hi: float,
                                 init: str) -> tuple[tuple[str, tuple[float, ...]], ...]:
    coef = _fit(form, size, degrees, lo, hi, INIT_FUNCTIONS[init], 801, 300, spline_range=(lo, hi))
    return tuple((k, tuple(v.tolist())) for k, v in coef.items())


def _initial_coefficients(form: str, size: int, degrees: tuple[int, int], lo: float, hi: float, init: str) -> dict[str, torch.Tensor]:
    """The coefficients of ``init`` fitted on ``[lo, hi]`` (computed once per spec; deterministic)."""
    cached = _initial_coefficients_cached(form, size, tuple(degrees), lo, hi, init)
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in cached}


__all__ = ["FORMS", "INIT_FUNCTIONS", "ActivationError", "ActivationSpec", "LearnedActivation"]
