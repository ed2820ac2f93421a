"""The transform head f(x) = W z(x): a linear map of the frozen CNN's standardised features.

``z(x) = (x - mean) / std`` with the mean and standard deviation of the labelled target pool's
features (per dimension; stored as buffers, fixed before training), so that the squared distances
the talk's margin of 1 is measured against do not depend on the CNN's feature scale. W starts as
the identity (``out_dim == in_dim``) or its first rows, so an untrained head is the frozen-feature
baseline (identity W = I). ``normalize=True`` optionally divides f(x) by its length (off by default
and in every shipped model: the talk's f is linear).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class TransformConfig:
    """Architecture of :class:`TransformHead`.

    Attributes:
        in_dim: size of the CNN features x.
        out_dim: size of f(x) (<= in_dim keeps W's initial rows an identity's).
        normalize: L2-normalise f(x) (the talk's f is linear: False).
    """

    in_dim: int = 128
    out_dim: int = 128
    normalize: bool = False

    def __post_init__(self) -> None:
        for key in ("in_dim", "out_dim"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{key} must be a positive integer, got {v!r}")
        if not isinstance(self.normalize, bool):
            raise ValueError(f"normalize must be True or False, got {self.normalize!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransformConfig:
        """A config from a card's dict; unknown keys are a ValueError naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown transform settings {unknown}; known: {sorted(known)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TransformHead(nn.Module):
    """f(x) = W (x - mean) / std, optionally L2-normalised. ``weight`` is W (out_dim, in_dim)."""

    def __init__(self, config: TransformConfig | None = None) -> None:
        super().__init__()
        self.config = config or TransformConfig()
        d_in, d_out = self.config.in_dim, self.config.out_dim
        self.register_buffer("mean", torch.zeros(d_in))
        self.register_buffer("std", torch.ones(d_in))
        # The identity's rows: an untrained head reproduces the (standardised) frozen features.
        self.weight = nn.Parameter(torch.eye(d_out, d_in))

    @torch.no_grad()
    def fit_standardisation(self, features: torch.Tensor, eps: float = 1e-6) -> TransformHead:
        """Set mean and std from ``features`` (N, in_dim); dead dimensions get std 1."""
        if features.dim() != 2 or features.shape[1] != self.config.in_dim or len(features) < 2:
            raise ValueError(f"features must be (N >= 2, {self.config.in_dim}), got {tuple(features.shape)}")
        std = features.std(dim=0)
        self.mean.copy_(features.mean(dim=0))
        self.std.copy_(torch.where(std > eps, std, torch.ones_like(std)))
        return self

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        """z(x): the standardised features (the identity baseline's embedding)."""
        return (x - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.config.in_dim:
            raise ValueError(f"features must be (N, {self.config.in_dim}), got {tuple(x.shape)}")
        y = self.standardise(x) @ self.weight.T
        return F.normalize(y, dim=1) if self.config.normalize else y


__all__ = ["TransformConfig", "TransformHead"]
