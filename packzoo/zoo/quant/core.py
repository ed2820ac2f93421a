"""``quantize(model, levels, method, ...)``: low-bit weights for any torch module.

Methods (same API, same optimizer, same steps, so they compare at equal budget):

- ``"admm"`` (Leng, Dou, Li, Zhu and Jin, AAAI 2018). min f(W) s.t. W in C is split with a copy G:
  L = f(W) + I_C(G) + (rho/2)||W - G||^2 + <W - G, lambda>. Every step is a W-step by
  extragradient: a predicting step W~ = W - lr * grad L(W), then the correcting step takes the
  optimizer step from W with grad L(W~) (both on the same mini-batch; the penalty's gradient
  rho (W - G) + lambda is added in closed form). Every ``admm_every`` steps the G-step projects
  W + lambda/rho onto C by iterative quantization (:func:`~packzoo.zoo.quant.levels.project`), the dual
  step sets lambda <- lambda + rho (W - G), and rho grows by ``rho_growth`` (up to ``rho_max``) so W
  is pulled onto the grid. At the end W <- G: every quantized weight is exactly level x alpha.
- ``"ste"``: straight-through estimator training (BinaryConnect; BWN / TWN style): float latent
  weights; each forward uses their projection, and the gradient with respect to the projected weights
  updates the latent ones. For binary levels the projection is BWN's alpha = mean |W|; for ternary the
  exact (iterative) projection replaces TWN's 0.7 * mean |W| threshold rule.
- ``"round"``: post-training quantization: the projection of the trained weights, no training.

Which weights: the ``weight`` of every Conv1d/2d/3d and Linear and the ``weight_ih*/weight_hh*`` of
every LSTM/GRU/RNN (cell), one alpha per tensor; with ``keep_first_last`` the first and the last
such module keep full precision (as is usual). Biases and normalisation layers stay float.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from packzoo.zoo.quant.levels import Levels, QuantError, as_levels, project

METHODS = ("admm", "ste", "round")
_CONV_LINEAR = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_RECURRENT = (nn.LSTM, nn.GRU, nn.RNN, nn.LSTMCell, nn.GRUCell, nn.RNNCell)


@dataclass
class QuantSpec:
    """What :func:`quantize` did; attached to the returned model as ``model.quant_spec``.

    Attributes:
        levels: the level set.
        method: ``admm``, ``ste`` or ``round``.
        params: qualified names of the quantized weight tensors (``state_dict`` keys).
        alphas: scale per quantized tensor.
        history: per-method facts (steps, final rho, primal residual before the last snap, ...).
    """

    levels: Levels
    method: str
    params: tuple[str, ...]
    alphas: dict[str, float] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)


def quantizable(model: nn.Module) -> list[tuple[str, str]]:
    """``(module name, parameter name)`` of every weight tensor :func:`quantize` can quantize, in module order."""
    out: list[tuple[str, str]] = []
    for mname, m in model.named_modules():
        if isinstance(m, _CONV_LINEAR):
            out.append((mname, f"{mname}.weight" if mname else "weight"))
        elif isinstance(m, _RECURRENT):
            for pname, _ in m.named_parameters(recurse=False):
                if pname.startswith("weight_"):
                    out.append((mname, f"{mname}.{pname}" if mname else pname))
    return out


def select_params(model: nn.Module, layers: Sequence[str] | None = None, keep_first_last: bool = True) -> list[str]:
    """Qualified names of the weight tensors to quantize.

    Args:
        layers: module names (``"layers.0.0.conv1"``) or parameter names (``"...conv1.weight"``);
            None means every quantizable module (less the first and last with ``keep_first_last``).
        keep_first_last: keep the first and last quantizable module in full precision (only when
            ``layers`` is None: named layers are quantized as named).
    """
    cand = quantizable(model)
    if not cand:
        raise QuantError(f"{type(model).__name__} has no Conv/Linear/recurrent weight to quantize")
    if layers is None:
        modules = list(dict.fromkeys(m for m, _ in cand))
        if keep_first_last:
            if len(modules) <= 2:
                raise QuantError(f"keep_first_last leaves nothing to quantize: the model has only {modules}; "
                                 "pass keep_first_last=False")
            keep = {modules[0], modules[-1]}
            return [p for m, p in cand if m not in keep]
        return [p for _, p in cand]
    if isinstance(layers, str):
        layers = [layers]
    chosen: list[str] = []
    for name in layers:
        hit = [p for m, p in cand if name in (m, p)]
        if not hit:
            raise QuantError(f"layer {name!r} is not a quantizable module or weight; candidates: "
                             f"{', '.join(dict.fromkeys(m for m, _ in cand))}")
        chosen += [p for p in hit if p not in chosen]
    return chosen


def _params(model: nn.Module, names: Sequence[str]) -> list[nn.Parameter]:
    d = dict(model.named_parameters())
    return [d[n] for n in names]


@dataclass
class TrainSettings:
    """Optimiser and ADMM settings shared by every trained method (documented defaults).

    Attributes:
        lr: SGD learning rate (cosine-annealed to 0 over ``steps`` when ``cosine``).
        momentum: SGD momentum.
        weight_decay: L2 on the float parameters that are not quantized (quantized ones get none:
            it would fight the constraint).
        cosine: anneal the learning rate.
        rho: ADMM's starting penalty.
        rho_growth: rho is multiplied by this after every G/dual step ...
        rho_max: ... up to this.
        admm_every: steps between G/dual steps.
        extragradient: predictor/corrector W-step (False: one plain gradient step, for ablations).
        projection_iterations: most alternations of the iterative-quantization projection.
    """

    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    cosine: bool = True
    rho: float = 1.0
    rho_growth: float = 1.3
    rho_max: float = 100.0
    admm_every: int = 50
    extragradient: bool = True
    projection_iterations: int = 20

    def __post_init__(self) -> None:
        for key in ("lr", "rho", "rho_max"):
            v = getattr(self, key)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise QuantError(f"{key} must be a positive number, got {v!r}")
        if not (isinstance(self.rho_growth, (int, float)) and self.rho_growth >= 1):
            raise QuantError(f"rho_growth must be >= 1, got {self.rho_growth!r}")
        if not (0 <= self.momentum < 1) or self.weight_decay < 0:
            raise QuantError(f"momentum must be in [0, 1) and weight_decay >= 0, got {self.momentum}, {self.weight_decay}")
        if not isinstance(self.admm_every, int) or self.admm_every < 1:
            raise QuantError(f"admm_every must be a positive integer, got {self.admm_every!r}")
        if not isinstance(self.projection_iterations, int) or self.projection_iterations < 1:
            raise QuantError(f"projection_iterations must be a positive integer, got {self.projection_iterations!r}")


class QuantTrainer:
    """One training step at a time for ``fp``, ``ste`` or ``admm``: the engine of :func:`quantize`
    and of ``packzoo train quant`` (which checkpoints :meth:`state_tensors` to resume bit-identically).

    Args:
        model: trained in place.
        method: ``fp`` (plain training), ``ste`` or ``admm``.
        levels: level set (ignored for ``fp``).
        params: qualified names of the weights to quantize (see :func:`select_params`).
        total_steps: length of the cosine schedule.
        settings: :class:`TrainSettings`.
        loss_fn: ``loss_fn(outputs, targets) -> scalar``; default cross-entropy.
    """

    def __init__(self, model: nn.Module, method: str, levels: str | Sequence[float] | Levels | None,
                 params: Sequence[str], total_steps: int, settings: TrainSettings | None = None,
                 loss_fn: Callable[[Any, Any], torch.Tensor] | None = None) -> None:
        if method not in ("fp", "ste", "admm"):
            raise QuantError(f"method must be 'fp', 'ste' or 'admm', got {method!r}")
        if not isinstance(total_steps, int) or total_steps < 1:
            raise QuantError(f"steps must be a positive integer, got {total_steps!r}")
        self.model = model
        self.method = method
        self.levels = as_levels(levels) if method != "fp" else None
        self.names = list(params) if method != "fp" else []
        self.total_steps = total_steps
        self.s = settings or TrainSettings()
        self.loss_fn = loss_fn or F.cross_entropy
        self.q = _params(model, self.names)
        qids = {id(p) for p in self.q}
        rest = [p for p in model.parameters() if id(p) not in qids and p.requires_grad]
        groups = [{"params": rest, "weight_decay": self.s.weight_decay}]
        if self.q:
            groups.append({"params": self.q, "weight_decay": 0.0})
        self.opt = torch.optim.SGD(groups, lr=self.s.lr, momentum=self.s.momentum)
        self.step_count = 0
        self.rho = float(self.s.rho)
        self.G: list[torch.Tensor] = []
        self.lam: list[torch.Tensor] = []
        self.alphas: list[float] = []
        if method == "admm":
            for p in self.q:
                pr = project(p.data, self.levels, iterations=self.s.projection_iterations)
                self.G.append(pr.values(self.levels, p.dtype))
                self.alphas.append(pr.alpha)
                self.lam.append(torch.zeros_like(p.data))

    # -- one step -------------------------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        """Learning rate of step ``step`` (0-based), cosine from ``lr`` to 0."""
        if not self.s.cosine:
            return self.s.lr
        return 0.5 * self.s.lr * (1 + math.cos(math.pi * min(step, self.total_steps) / self.total_steps))

    def _grads(self, x: Any, y: Any) -> torch.Tensor:
        self.opt.zero_grad(set_to_none=False)
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        if self.method == "admm":
            with torch.no_grad():
                for p, g, lam in zip(self.q, self.G, self.lam):
                    p.grad.add_(self.rho * (p.data - g) + lam)
        return loss.detach()

    def step(self, x: Any, y: Any) -> float:
        """One training step on the mini-batch ``(x, y)``; returns the task loss (before the step)."""
        self.model.train()
        lr = self.lr_at(self.step_count)
        for g in self.opt.param_groups:
            g["lr"] = lr
        if self.method == "ste":
            latent = [p.data.clone() for p in self.q]
            with torch.no_grad():
                for p in self.q:
                    p.data.copy_(project(p.data, self.levels, iterations=self.s.projection_iterations).values(self.levels, p.dtype))
            loss = self._grads(x, y)
            with torch.no_grad():
                for p, w in zip(self.q, latent):
                    p.data.copy_(w)
        elif self.method == "admm" and self.s.extragradient:
            params = [p for g in self.opt.param_groups for p in g["params"]]
            saved = [p.data.clone() for p in params]
            # The predictor pass must not move BatchNorm's running statistics twice per step.
            buffers = [b.clone() for b in self.model.buffers()]
            loss = self._grads(x, y)
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p.data.add_(p.grad, alpha=-lr)
                for b, old in zip(self.model.buffers(), buffers):
                    b.copy_(old)
            self._grads(x, y)  # gradient at the predicted point W~ ...
            with torch.no_grad():
                for p, w in zip(params, saved):
                    p.data.copy_(w)  # ... applied from W
        else:
            loss = self._grads(x, y)
        self.opt.step()
        self.step_count += 1
        if self.method == "admm" and self.step_count % self.s.admm_every == 0:
            self.admm_update()
        return float(loss)

    def admm_update(self) -> None:
        """G-step (projection of W + lambda/rho), dual step, rho growth."""
        with torch.no_grad():
            for i, (p, lam) in enumerate(zip(self.q, self.lam)):
                pr = project(p.data + lam / self.rho, self.levels, iterations=self.s.projection_iterations)
                self.G[i] = pr.values(self.levels, p.dtype)
                self.alphas[i] = pr.alpha
                lam.add_(self.rho * (p.data - self.G[i]))
        self.rho = min(self.rho * self.s.rho_growth, self.s.rho_max)

    def residual(self) -> float:
        """Relative primal residual ||W - G|| / ||W|| over the quantized weights (ADMM)."""
        if not self.G:
            return 0.0
        num = sum(float((p.data - g).pow(2).sum()) for p, g in zip(self.q, self.G))
        den = sum(float(p.data.pow(2).sum()) for p in self.q)
        return math.sqrt(num / max(den, 1e-30))

    def finish(self) -> QuantSpec | None:
        """Put every quantized weight on the grid (ADMM: W <- G after a last G-step; STE: the
        projection of the latent weights); returns the :class:`QuantSpec` (None for ``fp``)."""
        self.model.eval()
        if self.method == "fp":
            return None
        hist: dict[str, Any] = {"steps": self.step_count}
        alphas: dict[str, float] = {}
        with torch.no_grad():
            if self.method == "admm":
                # The last G-step uses W itself (lambda/rho is a small correction by now and
                # including it would leave W != G): W <- Proj(W).
                hist["residual_before_snap"] = self.residual()
                hist["rho"] = self.rho
            for name, p in zip(self.names, self.q):
                pr = project(p.data, self.levels, iterations=self.s.projection_iterations)
                p.data.copy_(pr.values(self.levels, p.dtype))
                alphas[name] = pr.alpha
                if self.method == "admm":
                    i = self.names.index(name)
                    self.G[i] = p.data.clone()
        return QuantSpec(self.levels, self.method, tuple(self.names), alphas, hist)

    # -- checkpoint -----------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Model, G and lambda tensors (the optimizer's state is saved by the caller)."""
        out = {f"model/{k}": v for k, v in self.model.state_dict().items()}
        for name, g, lam in zip(self.names, self.G, self.lam):
            out[f"admm_G/{name}"] = g
            out[f"admm_lambda/{name}"] = lam
        return out

    def state_json(self) -> dict[str, Any]:
        return {"step_count": self.step_count, "rho": self.rho, "alphas": list(self.alphas)}

    def load_state(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Inverse of :meth:`state_tensors` + :meth:`state_json`."""
        self.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model/")})
        for i, name in enumerate(self.names):
            if self.method == "admm":
                self.G[i] = tensors[f"admm_G/{name}"].clone()
                self.lam[i].copy_(tensors[f"admm_lambda/{name}"])
        self.step_count = int(state["step_count"])
        self.rho = float(state["rho"])
        self.alphas = [float(a) for a in state.get("alphas", [])]


def _cycle(data: Iterable[Any]) -> Any:
    while True:
        empty = True
        for batch in data:
            empty = False
            yield batch
        if empty:
            raise QuantError("data yielded no batch")


def quantize(
    model: nn.Module,
    levels: str | Sequence[float] | Levels = "ternary",
    method: str = "admm",
    layers: Sequence[str] | None = None,
    keep_first_last: bool = True,
    *,
    data: Iterable[Any] | None = None,
    steps: int | None = None,
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None,
    settings: TrainSettings | None = None,
    inplace: bool = False,
    **setting_overrides: Any,
) -> nn.Module:
    """Quantize the weights of ``model`` to ``levels`` x alpha (one alpha per tensor).

    Args:
        model: any torch module (its Conv/Linear/recurrent weights are candidates, see :func:`quantizable`).
        levels: ``"binary"``, ``"ternary"``, ``"pow2-3bit"`` or a list of multiples such as ``[-2, -1, 0, 1, 2]``.
        method: ``"admm"``, ``"ste"`` or ``"round"`` (see the module docstring).
        layers: module or weight names to quantize; None = all but the first and last (``keep_first_last``).
        keep_first_last: keep the first and last quantizable modules in full precision.
        data: for ``admm``/``ste``: an iterable of ``(inputs, targets)`` mini-batches, cycled.
        steps: training steps (default: one pass over ``data``).
        loss_fn: ``loss_fn(model(inputs), targets)``; default cross-entropy.
        settings: :class:`TrainSettings`; ``setting_overrides`` (``lr=``, ``rho=``, ``rho_growth=``,
            ``admm_every=``, ``extragradient=``, ``projection_iterations=``, ...) replace its fields.
        inplace: change ``model`` itself instead of a deep copy.

    Returns:
        the quantized model in eval mode, with ``model.quant_spec`` (:class:`QuantSpec`); every
        quantized weight equals a level times its tensor's alpha.

    Example:
        >>> q = quantize(net, "pow2-3bit", method="admm", data=loader, steps=500, lr=0.01)  # doctest: +SKIP
        >>> q.quant_spec.alphas  # doctest: +SKIP
    """
    if not isinstance(model, nn.Module):
        raise QuantError(f"quantize needs a torch nn.Module, got {type(model).__name__}")
    if method not in METHODS:
        raise QuantError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    lv = as_levels(levels)
    base = settings or TrainSettings()
    unknown = set(setting_overrides) - set(TrainSettings.__dataclass_fields__)
    if unknown:
        raise QuantError(f"unknown quantize settings {sorted(unknown)}; known: {sorted(TrainSettings.__dataclass_fields__)}")
    s = TrainSettings(**{**base.__dict__, **setting_overrides})
    m = model if inplace else copy.deepcopy(model)
    names = select_params(m, layers, keep_first_last)
    if method == "round":
        alphas: dict[str, float] = {}
        with torch.no_grad():
            for name, p in zip(names, _params(m, names)):
                pr = project(p.data, lv, iterations=s.projection_iterations)
                p.data.copy_(pr.values(lv, p.dtype))
                alphas[name] = pr.alpha
        m.eval()
        m.quant_spec = QuantSpec(lv, method, tuple(names), alphas, {"steps": 0})
        return m
    if data is None:
        raise QuantError(f"method {method!r} trains: pass data= (an iterable of (inputs, targets) batches)")
    if steps is None:
        try:
            steps = len(data)  # type: ignore[arg-type]
        except TypeError:
            raise QuantError("data has no len(): pass steps=") from None
    trainer = QuantTrainer(m, method, lv, names, int(steps), s, loss_fn)
    batches = _cycle(data)
    losses = []
    for _ in range(int(steps)):
        x, y = next(batches)
        losses.append(trainer.step(x, y))
    spec = trainer.finish()
    assert spec is not None
    spec.history["final_loss"] = losses[-1] if losses else None
    m.quant_spec = spec
    return m


def on_grid(model: nn.Module, spec: QuantSpec, atol: float = 0.0) -> bool:
    """True when every quantized weight of ``model`` equals ``level * alpha`` of its tensor (within ``atol``)."""
    d = dict(model.named_parameters())
    L = spec.levels.tensor(torch.float64)
    for name in spec.params:
        w = d[name].detach().to(torch.float64)
        grid = L * spec.alphas[name]
        dist = (w.reshape(-1, 1) - grid.to(torch.float32).to(torch.float64).reshape(1, -1)).abs().min(dim=1).values
        if float(dist.max()) > atol:
            return False
    return True


__all__ = ["METHODS", "QuantSpec", "QuantTrainer", "TrainSettings", "on_grid", "quantizable", "quantize", "select_params"]
