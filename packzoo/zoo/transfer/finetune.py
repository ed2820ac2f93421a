"""The fine-tuning baseline: retrain the source CNN's last layers on the target labels with cross-entropy.

The stem and the first two stages stay frozen (their BatchNorm statistics too); the last residual
stage and the feature layer are trained, with a new linear classifier over the target tags. The
embedding compared with the transforms is then the fine-tuned feature layer, standardised with the
labelled pool's statistics like every other method's.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from packzoo.zoo.transfer.cnn import SourceCNN, as_float_images


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of :func:`finetune`.

    Attributes:
        epochs: passes over the labelled pool.
        batch_size: images per step.
        lr: Adam's learning rate.
        max_steps: at most this many steps in all (keeps the 30,000-image pool affordable), 0 = none.
    """

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    max_steps: int = 0


def finetune(cnn: SourceCNN, images: np.ndarray, labels: np.ndarray, config: FinetuneConfig, seed: int = 0) -> SourceCNN:
    """A copy of ``cnn`` whose last stage and feature layer are trained on (``images``, ``labels``)."""
    model = copy.deepcopy(cnn)
    classes = int(np.max(labels)) + 1
    torch.manual_seed(seed)
    model.classifier = nn.Linear(model.config.feature_dim, classes)
    for p in model.parameters():
        p.requires_grad_(False)
    train = [model.stage3, model.fc, model.classifier]
    params = [p for m in train for p in m.parameters()]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=config.lr)
    x = as_float_images(images)
    y = torch.as_tensor(labels).long()
    rng = np.random.default_rng(seed)
    steps = 0
    model.eval()
    for m in train:
        m.train()
    for _ in range(config.epochs):
        order = torch.from_numpy(rng.permutation(len(x)))
        for s in range(0, len(x), config.batch_size):
            idx = order[s:s + config.batch_size]
            with torch.no_grad():
                h = model.trunk(x[idx])
            loss = F.cross_entropy(model.classifier(model.head(h)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            if config.max_steps and steps >= config.max_steps:
                break
        if config.max_steps and steps >= config.max_steps:
            break
    model.eval()
    model.finetune_steps = steps
    return model


__all__ = ["FinetuneConfig", "finetune"]
