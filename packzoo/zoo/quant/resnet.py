"""A small ResNet with ResNet-18's shape (He et al. 2016), scaled down for 28x28 grey images.

ResNet-18 is a stem, four stages of two BasicBlocks (two 3x3 convs + identity or 1x1 projection
shortcut) at widths w, 2w, 4w, 8w with stride 2 at the start of stages 2-4, global average pooling
and a linear classifier. For 28x28 inputs the stem is one 3x3 conv at stride 1 (as in the CIFAR
variants) instead of the 7x7/2 conv and max pool; ``width`` (w) is 64 in ResNet-18 and 8 here by
default, so the network has about 0.17 M weights (ResNet-18: 11.7 M) and trains on a CPU.
(torchvision's resnet18 cannot be used: torchvision does not import beside the pinned torch.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from packzoo.zoo.blocks import BasicBlock


@dataclass
class ResNetConfig:
    """Architecture of :class:`SmallResNet`.

    Attributes:
        width: channels of the first stage (stages have w, 2w, 4w, 8w).
        blocks: BasicBlocks per stage (ResNet-18: 2, 2, 2, 2).
        in_channels: image channels.
        classes: output classes.
    """

    width: int = 8
    blocks: tuple[int, ...] = (2, 2, 2, 2)
    in_channels: int = 1
    classes: int = 10

    def __post_init__(self) -> None:
        self.blocks = tuple(int(b) for b in self.blocks)
        for key in ("width", "in_channels", "classes"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"ResNetConfig.{key} must be a positive integer, got {v!r}")
        if not self.blocks or any(b < 1 for b in self.blocks):
            raise ValueError(f"ResNetConfig.blocks must be positive integers, got {self.blocks!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["blocks"] = list(self.blocks)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResNetConfig:
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown ResNet settings {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
        return cls(**d)


class SmallResNet(nn.Module):
    """ResNet-18-shaped classifier for 28x28 images; input (B, C, 28, 28) normalised, output logits (B, classes)."""

    def __init__(self, config: ResNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or ResNetConfig()
        c = self.config
        self.stem = nn.Conv2d(c.in_channels, c.width, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(c.width)
        layers = []
        cin = c.width
        for i, n in enumerate(c.blocks):
            cout = c.width * 2**i
            blocks = [BasicBlock(cin, cout, 1 if i == 0 else 2)]
            blocks += [BasicBlock(cout, cout, 1) for _ in range(n - 1)]
            layers.append(nn.Sequential(*blocks))
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, c.classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.stem(x)))
        x = self.layers(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


__all__ = ["BasicBlock", "ResNetConfig", "SmallResNet"]
