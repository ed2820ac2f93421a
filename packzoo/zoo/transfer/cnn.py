"""The source CNN: a small ResNet-shaped network for 28x28 grey images (He et al. 2016, shrunk).

Stem conv -> three stages of one basic residual block each (the last two halve the resolution) ->
global average pooling -> a fully connected feature layer (ReLU) -> a linear classifier over the
source tags. :meth:`SourceCNN.features` returns the feature layer's output: the frozen features x
that the transform head maps with f(x) = Wx. No torchvision: it does not import beside torch 2.13.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from packzoo.zoo.blocks import BasicBlock

LAYERS = ("fc", "stage3-2x2")


@dataclass(frozen=True)
class CNNConfig:
    """Architecture of :class:`SourceCNN`.

    Attributes:
        widths: channels of the three stages (28x28, 14x14, 7x7).
        feature_dim: size of the feature layer (the x the transform sees).
        classes: source tags the classifier predicts.
    """

    widths: tuple[int, int, int] = (16, 32, 64)
    feature_dim: int = 128
    classes: int = 5

    def __post_init__(self) -> None:
        widths = tuple(self.widths)
        if len(widths) != 3 or not all(isinstance(w, int) and w >= 1 for w in widths):
            raise ValueError(f"widths must be three positive integers, got {self.widths!r}")
        object.__setattr__(self, "widths", widths)
        for key in ("feature_dim", "classes"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{key} must be a positive integer, got {v!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CNNConfig:
        """A config from a card's dict; unknown keys are a ValueError naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown CNN settings {unknown}; known: {sorted(known)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "widths": list(self.widths)}


class SourceCNN(nn.Module):
    """Small ResNet for (B, 1, 28, 28) images in [0, 1]; ``forward`` gives logits, ``features`` x.

    Args:
        config: the architecture (:class:`CNNConfig`).
    """

    def __init__(self, config: CNNConfig | None = None) -> None:
        super().__init__()
        self.config = config or CNNConfig()
        w1, w2, w3 = self.config.widths
        self.stem = nn.Sequential(nn.Conv2d(1, w1, 3, 1, 1, bias=False), nn.BatchNorm2d(w1), nn.ReLU())
        self.stage1 = BasicBlock(w1, w1, 1)
        self.stage2 = BasicBlock(w1, w2, 2)
        self.stage3 = BasicBlock(w2, w3, 2)
        self.fc = nn.Linear(w3, self.config.feature_dim)
        self.classifier = nn.Linear(self.config.feature_dim, self.config.classes)

    def trunk(self, images: torch.Tensor) -> torch.Tensor:
        """The first two stages (frozen when fine-tuning the last layers)."""
        if images.dim() == 3:
            images = images[:, None]
        if images.dim() != 4 or images.shape[1:] != (1, 28, 28):
            raise ValueError(f"images must be (B, 28, 28) or (B, 1, 28, 28), got {tuple(images.shape)}")
        return self.stage2(self.stage1(self.stem(images)))

    def head(self, h: torch.Tensor) -> torch.Tensor:
        """From the trunk's output to the features: the last stage, pooling and the feature layer."""
        h = self.stage3(h)
        return F.relu(self.fc(h.mean(dim=(2, 3))))

    def features(self, images: torch.Tensor, layer: str = "fc") -> torch.Tensor:
        """Frozen features x of ``images``: ``fc``, the feature layer (B, feature_dim), or
        ``stage3-2x2``, the last stage's maps average-pooled to 2x2 (B, 4 * widths[2]), which keep
        where things are and are less specialised to the source tags."""
        if layer == "fc":
            return self.head(self.trunk(images))
        if layer == "stage3-2x2":
            return F.adaptive_avg_pool2d(self.stage3(self.trunk(images)), 2).flatten(1)
        raise ValueError(f"layer must be one of {LAYERS}, got {layer!r}")

    def feature_dim(self, layer: str = "fc") -> int:
        """Size of the features of ``layer``."""
        if layer not in LAYERS:
            raise ValueError(f"layer must be one of {LAYERS}, got {layer!r}")
        return self.config.feature_dim if layer == "fc" else 4 * self.config.widths[2]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images))


@torch.no_grad()
def extract_features(model: SourceCNN, images: Any, layer: str = "fc", batch_size: int = 1000) -> torch.Tensor:
    """Features of ``layer`` of ``images`` ((N, 28, 28) uint8 in 0..255 or float in [0, 1]), eval mode, batched."""
    was_training = model.training
    model.eval()
    x = as_float_images(images)
    out = [model.features(x[i:i + batch_size], layer) for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0, model.feature_dim(layer))


def as_float_images(images: Any) -> torch.Tensor:
    """(N, 28, 28) float32 in [0, 1] from uint8 (0..255) or float arrays/tensors."""
    t = torch.as_tensor(images)
    if t.dtype == torch.uint8:
        return t.float() / 255.0
    if not t.is_floating_point():
        raise ValueError(f"images must be uint8 or floating point, got {t.dtype}")
    return t.float()


__all__ = ["LAYERS", "BasicBlock", "CNNConfig", "SourceCNN", "as_float_images", "extract_features"]
