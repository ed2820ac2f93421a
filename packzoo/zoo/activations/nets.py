"""Fully connected nets with a fixed (ReLU) or learned activation, and width matching by parameter count.

:class:`ActNet` is ``Linear -> act -> ... -> Linear``. With ``activation="relu"`` it is a plain
ReLU MLP; with an :class:`~packzoo.zoo.activations.functions.ActivationSpec` every hidden layer
gets a :class:`~packzoo.zoo.activations.functions.LearnedActivation` (one per unit or one per
layer). Two hidden layers with a learned activation are the form of Pinkus (1999, Theorem 7.1).
:func:`width_for_params` picks the hidden width that makes a net of a given depth have (as nearly
as possible) a given number of parameters, so nets are compared at equal size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from packzoo.zoo.activations.functions import ActivationError, ActivationSpec, LearnedActivation


@dataclass(frozen=True)
class NetConfig:
    """Architecture of an :class:`ActNet` (what rebuilds its tensors).

    Attributes:
        in_dim: input features (inputs of more dimensions are flattened).
        out_dim: outputs (classes, or 1 for a regression).
        hidden: widths of the hidden layers.
        activation: ``"relu"``, ``"tanh"``, ``"silu"`` or a learned activation's spec as a dict
            (``{"form": "bspline", "size": 8, "per_unit": True, ...}``; ``units`` is filled per layer).
    """

    in_dim: int
    out_dim: int
    hidden: tuple[int, ...] = (64, 64)
    activation: Any = "relu"
    _fixed: tuple[str, ...] = field(default=("relu", "tanh", "silu"), repr=False, compare=False)

    def __post_init__(self) -> None:
        for key in ("in_dim", "out_dim"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{key} must be a positive integer, got {v!r}")
        hidden = tuple(self.hidden) if isinstance(self.hidden, (list, tuple)) else None
        if not hidden or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty list of positive integers, got {self.hidden!r}")
        object.__setattr__(self, "hidden", hidden)
        if isinstance(self.activation, str):
            if self.activation not in self._fixed:
                raise ValueError(f"activation must be one of {self._fixed} or a learned activation spec, got {self.activation!r}")
        elif isinstance(self.activation, dict):
            spec = dict(self.activation)
            per_unit = spec.pop("per_unit", True)
            if not isinstance(per_unit, bool):
                raise ActivationError(f"per_unit must be true or false, got {per_unit!r}")
            spec.pop("units", None)
            ActivationSpec.from_dict(spec)  # validates
        else:
            raise ValueError(f"activation must be a name or a dict spec, got {type(self.activation).__name__}")

    @property
    def learned(self) -> bool:
        return isinstance(self.activation, dict)

    def layer_spec(self, width: int) -> ActivationSpec:
        """The learned activation spec of a hidden layer of ``width`` units."""
        spec = dict(self.activation)
        per_unit = spec.pop("per_unit", True)
        spec.pop("units", None)
        return ActivationSpec.from_dict({**spec, "units": width if per_unit else None})

    def to_dict(self) -> dict[str, Any]:
        return {"in_dim": self.in_dim, "out_dim": self.out_dim, "hidden": list(self.hidden),
                "activation": self.activation if isinstance(self.activation, str) else dict(self.activation)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NetConfig:
        if not isinstance(d, dict):
            raise ValueError(f"a net config must be a dict, got {type(d).__name__}")
        unknown = set(d) - {"in_dim", "out_dim", "hidden", "activation"}
        if unknown:
            raise ValueError(f"unknown net config keys {sorted(unknown)}")
        return cls(**{**d, "hidden": tuple(d.get("hidden", (64, 64)))})


class ActNet(nn.Module):
    """``Linear -> activation -> ... -> Linear`` (see :class:`NetConfig`). Input ``(N, ...)``, output ``(N, out_dim)``."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        dims = (config.in_dim, *config.hidden)
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.acts = nn.ModuleList(self._activation(w) for w in config.hidden)
        self.head = nn.Linear(dims[-1], config.out_dim)

    def _activation(self, width: int) -> nn.Module:
        a = self.config.activation
        if a == "relu":
            return nn.ReLU()
        if a == "tanh":
            return nn.Tanh()
        if a == "silu":
            return nn.SiLU()
        return LearnedActivation.from_spec(self.config.layer_spec(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2:
            raise ValueError(f"ActNet needs a batch (N, {self.config.in_dim}), got shape {tuple(x.shape)}")
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.config.in_dim:
            raise ValueError(f"ActNet expects {self.config.in_dim} input features, got {x.shape[1]}")
        for lin, act in zip(self.linears, self.acts):
            x = act(lin(x))
        return self.head(x)

    def learned_activations(self) -> list[LearnedActivation]:
        """The learned activation of each hidden layer (empty for a fixed activation)."""
        return [a for a in self.acts if isinstance(a, LearnedActivation)]


def count_params(config: NetConfig) -> int:
    """Trainable parameters of the net ``config`` describes (without building it)."""
    dims = (config.in_dim, *config.hidden, config.out_dim)
    n = sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))
    if config.learned:
        for w in config.hidden:
            s = config.layer_spec(w)
            n += s.channels * s.params_per_function
    return n


def width_for_params(in_dim: int, out_dim: int, layers: int, params: int, activation: Any = "relu") -> int:
    """The hidden width (equal for all ``layers``) whose net has the parameter count nearest ``params``."""
    if not isinstance(layers, int) or layers < 1:
        raise ValueError(f"layers must be a positive integer, got {layers!r}")
    if not isinstance(params, int) or params < 1:
        raise ValueError(f"params must be a positive integer, got {params!r}")
    best, best_gap = 1, None
    for w in range(1, 4097):
        n = count_params(NetConfig(in_dim, out_dim, (w,) * layers, activation))
        gap = abs(n - params)
        if best_gap is None or gap < best_gap:
            best, best_gap = w, gap
        if n > params:
            break
    return best


PRESETS = ("shallow-learned-act", "shallow-relu", "mlp-relu-deep")


def preset_config(model: str, in_dim: int, out_dim: int, params: int, *, form: str = "bspline", size: int = 8,
                  degrees: tuple[int, int] = (5, 4), shared: bool = False, deep_layers: int = 4, lo: float = -3.0,
                  hi: float = 3.0, init: str = "silu") -> NetConfig:
    """The :class:`NetConfig` of the zoo's architecture ``model`` with about ``params`` parameters.

    ``shallow-learned-act``: two hidden layers with a learned activation (``form``, ``size``, ...,
    one per layer when ``shared``); ``shallow-relu``: two hidden ReLU layers; ``mlp-relu-deep``:
    ``deep_layers`` hidden ReLU layers. All hidden layers have the same width.
    """
    if model == "shallow-learned-act":
        act: Any = {"form": form, "size": size, "degrees": list(degrees), "lo": float(lo), "hi": float(hi), "init": init,
                    "per_unit": not shared}
        layers = 2
    elif model == "shallow-relu":
        act, layers = "relu", 2
    elif model == "mlp-relu-deep":
        act, layers = "relu", deep_layers
    else:
        raise ValueError(f"unknown model {model!r}; models: {', '.join(PRESETS)}")
    w = width_for_params(in_dim, out_dim, layers, params, act)
    return NetConfig(in_dim, out_dim, (w,) * layers, act)


__all__ = ["PRESETS", "ActNet", "NetConfig", "count_params", "preset_config", "width_for_params"]
