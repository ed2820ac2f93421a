"""Low-bit networks: ADMM with extragradient and iterative quantization (Leng et al. AAAI 2018).

``packzoo.zoo.quantize(model, levels="binary"|"ternary"|"pow2-3bit"|[multiples], method="admm"|"ste"|"round")``
quantizes any torch module (:mod:`packzoo.zoo.quant.core`); :mod:`~packzoo.zoo.quant.export`
packs the result at 1/2/3 bits per weight; :mod:`~packzoo.zoo.quant.kernel` runs pow2 layers with
integer shifts and adds. Zoo models: a small ResNet-18-shaped net on Fashion-MNIST in full precision
(``quant-resnet-fashion-fp``) and quantized by ADMM (``quant-resnet-fashion-admm-{binary,ternary,pow2-3bit}``)
and by the straight-through estimator (``quant-resnet-fashion-ste-...``) for comparison; the
quantized ones ship as compact files. ``evaluate_model(name, images=500)`` gives top-1/top-2 on
the first ``images`` of Fashion-MNIST's test split. Training: ``packzoo train quant``.
"""

from __future__ import annotations

import os
from typing import Any

from packzoo.zoo import register_model
from packzoo.zoo.quant.core import METHODS, QuantSpec, QuantTrainer, TrainSettings, on_grid, quantizable, quantize, select_params
from packzoo.zoo.quant.levels import NAMED_LEVELS, Levels, QuantError, as_levels, project
from packzoo.zoo.weights import WeightsError, has_weights, load_card, load_weights

FAMILY = "quant"
CHECK_LIMITS: dict[str, Any] = {"images": 500}
DATASET = ("Fashion-MNIST (Xiao et al. 2017, MIT licence) from Debian's dataset-fashion-mnist: trained on the "
           "60,000 training images (no augmentation), metrics on the 10,000 test images")
SOURCE = "Leng, Dou, Li, Zhu, Jin: Extremely low bit neural network: squeeze the last bit out with ADMM (AAAI 2018); He et al. 2016 (ResNet)"
QUANT_METHODS = ("admm", "ste")


def model_name(method: str, levels: str | None = None) -> str:
    """Zoo name: ``quant-resnet-fashion-fp`` or ``quant-resnet-fashion-<method>-<levels>``."""
    return "quant-resnet-fashion-fp" if method == "fp" else f"quant-resnet-fashion-{method}-{levels}"


def build(name: str | None = None, pretrained: bool = False, directory: str | os.PathLike | None = None, **overrides: Any):
    """A :class:`~packzoo.zoo.quant.resnet.SmallResNet` in eval mode; ``pretrained`` loads the shipped
    (sha256-checked) weights ``name``, expanding compact codes into level x alpha float weights
    and attaching ``model.quant_spec``. ``overrides`` replace :class:`ResNetConfig` fields (fresh models only)."""
    from packzoo.zoo.quant.export import LEVELS_KEY, CompactFileError, expand_tensors
    from packzoo.zoo.quant.resnet import ResNetConfig, SmallResNet

    cfg: dict[str, Any] = {}
    spec = None
    sd = None
    if pretrained:
        if name is None:
            raise ValueError("pretrained needs a model name")
        if overrides:
            raise ValueError(f"pretrained weights fix the architecture; cannot override {sorted(overrides)}")
        tensors = load_weights(name, directory)
        cfg = {k: v for k, v in load_card(name, directory).config.items() if k != "quant"}
        if LEVELS_KEY in tensors:
            try:
                sd, spec = expand_tensors(tensors)
            except CompactFileError as e:
                raise WeightsError(f"weights {name!r}: {e}") from None
        else:
            sd = tensors
    cfg.update(overrides)
    model = SmallResNet(ResNetConfig.from_dict(cfg))
    if sd is not None:
        try:
            model.load_state_dict(sd)
        except RuntimeError as exc:
            raise WeightsError(f"weights {name!r} do not fit the network: {exc}") from None
    if spec is not None:
        model.quant_spec = spec
    model.eval()
    return model


def evaluate_pretrained(name: str, images: int = 10000, directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """Top-1 and top-2 accuracy of the shipped ``name`` on the first ``images`` Fashion-MNIST test images."""
    import torch

    from packzoo.zoo.quant import data as D

    if not isinstance(images, int) or not 1 <= images <= 10000:
        raise ValueError(f"images must be an integer in 1..10000, got {images!r}")
    model = build(name, pretrained=True, directory=directory)
    x, y = D.load("test", images)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same reduction order every time, on any machine
    try:
        return {**D.accuracy(model, x, y), "images": images}
    finally:
        torch.set_num_threads(threads)


def _factory(name: str):
    def make(pretrained: bool = False, **overrides: Any):
        return build(name, pretrained, **overrides)

    return make


def _evaluator(name: str):
    def evaluate(images: int = 10000) -> dict[str, Any]:
        return evaluate_pretrained(name, images)

    return evaluate


def _register() -> None:
    entries = [("fp", None)] + [(m, lv) for m in QUANT_METHODS for lv in NAMED_LEVELS]
    for method, lv in entries:
        name = model_name(method, lv)
        # STE models are comparison baselines: registered only when their weights ship.
        if method == "ste" and not has_weights(name):
            continue
        what = "full precision" if method == "fp" else f"{lv} weights ({as_levels(lv).bits} bit) by {method.upper()}"
        register_model(
            name, _factory(name), family=FAMILY, evaluate=_evaluator(name),
            summary=f"ResNet-18-shaped net (width 8, 4x2 BasicBlocks) on Fashion-MNIST, {what}",
            source=SOURCE, task="Fashion-MNIST 10-class image classification: top-1/top-2 test accuracy",
            method=method, levels=lv or "float32",
        )


_register()

__all__ = ["CHECK_LIMITS", "DATASET", "FAMILY", "METHODS", "NAMED_LEVELS", "Levels", "QuantError", "QuantSpec",
           "QuantTrainer", "TrainSettings", "as_levels", "build", "evaluate_pretrained", "model_name", "on_grid",
           "project", "quantizable", "quantize", "select_params"]
