"""Shallow networks with learned activation functions (the talk's section 6).

Instead of ever deeper nets, put the non-linearity into a learned univariate activation inside a
shallow net: Pinkus (1999, Theorem 7.1) shows two hidden layers suffice with a suitable activation.

- :class:`LearnedActivation`: a learnable univariate function as piecewise-linear on learnable knots
  (Agostinelli et al. 2015), cubic B-spline (the KAN spline, Liu et al. 2024) or safe rational
  (Padé activation units, Molina et al. 2020), shared per layer or per unit, pure PyTorch.
- :class:`ActNet`: ``Linear -> activation -> ... -> Linear`` with a fixed or learned activation.
- Tasks (:mod:`~packzoo.zoo.activations.tasks`): a seeded function-fitting suite, MNIST-1D (the
  ``mnist1d`` package's offline generator) and Fashion-MNIST.

Zoo models, three architectures at equal parameter count per task (:data:`VARIANTS`):
``shallow-learned-act`` (two hidden layers with learned activations),
``shallow-relu`` (two hidden ReLU layers) and ``mlp-relu-deep`` (four hidden ReLU layers). Without
suffix they are trained on MNIST-1D at the size of its reference MLP 40-100-100-10 (about 15,200
parameters; the learned net has one piecewise-linear function with 8 learned knots per layer); ``...-fit-exp-sin-sq`` fit the KAN paper's
exp(sin(pi x) + y^2) at about 390 parameters (the learned net has one B-spline per unit).
``evaluate_model(name, samples=1000)`` gives the test accuracy (or RMSE) on the first ``samples``
test examples. Training: ``packzoo train activations``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from packzoo.zoo import register_model
from packzoo.zoo.activations.functions import FORMS, ActivationError, ActivationSpec, LearnedActivation
from packzoo.zoo.activations.nets import PRESETS, ActNet, NetConfig, count_params, preset_config, width_for_params
from packzoo.zoo.weights import WeightsError, load_card, load_weights

FAMILY = "activations"
MODEL_NAMES = PRESETS  # the architectures; zoo names are these, plus a task suffix for other tasks
CHECK_LIMITS: dict[str, Any] = {"samples": 200}
SOURCE = ("Pinkus 1999 (Acta Numerica, Thm 7.1); Liu et al. 2024 (KAN); Molina et al. 2020 (Padé activation units); "
          "Agostinelli et al. 2015 (adaptive piecewise-linear units); Greydanus & Steinbach 2024 (MNIST-1D)")


@dataclass(frozen=True)
class Variant:
    """The zoo's models on one task: names ``<architecture><suffix>``, their size and learned activation."""

    suffix: str
    task: str
    in_dim: int
    out_dim: int
    params: int
    activation: dict[str, Any]
    what: str


VARIANTS = (
    # MNIST-1D at the reference MLP's size (40-100-100-10: 15,210 parameters); one learned
    # piecewise-linear function (8 learned knots) per layer: the best form on a validation split.
    Variant("", "mnist1d", 40, 10, 15210, {"form": "pwl", "size": 8, "shared": True},
            "MNIST-1D 10-class classification of length-40 signals: test accuracy"),
    # The KAN paper's exp(sin(pi x) + y^2) at the size of pykan's KAN [2, 13, 1] (390 parameters).
    Variant("-fit-exp-sin-sq", "fit:exp-sin-sq", 2, 1, 390, {"form": "bspline", "size": 5, "lo": -2.0, "hi": 2.0},
            "regression of exp(sin(pi x1) + x2^2) on [-1, 1]^2 (KAN paper): test RMSE"),
)
_SUMMARIES = {
    "shallow-learned-act": "two hidden layers with learned activations (Pinkus form)",
    "shallow-relu": "two hidden ReLU layers at the learned-activation net's parameter count",
    "mlp-relu-deep": "four hidden ReLU layers at the same parameter count",
}


def default_config(name: str) -> dict[str, Any]:
    """The architecture the registry builds fresh for ``name`` (the shipped card records the same)."""
    for v in VARIANTS:
        for arch in PRESETS:
            if name == arch + v.suffix:
                kw = v.activation if arch == "shallow-learned-act" else {}
                return preset_config(arch, v.in_dim, v.out_dim, v.params, **kw).to_dict()
    raise ValueError(f"unknown model {name!r}; models: {', '.join(a + v.suffix for v in VARIANTS for a in PRESETS)}")


def dataset_text(task: str) -> str:
    """What a card says about the data of ``task``."""
    if task == "mnist1d":
        return ("MNIST-1D (Greydanus & Steinbach 2024, Apache-2.0), generated offline by the mnist1d package's "
                "make_dataset with its default arguments (5,000 signals of length 40, seed 42): trained on the "
                "4,000 training signals, metrics on the 1,000 test signals")
    if task == "fashion":
        return ("Fashion-MNIST (Xiao et al. 2017, MIT licence) from Debian's dataset-fashion-mnist, flattened to "
                "784 features: trained on the 60,000 training images, metrics on the 10,000 test images")
    return f"function-fitting task {task!r}: 1,000 seeded uniform points of [-1, 1]^d for training, 1,000 for testing"


def build(name: str | None = None, pretrained: bool = False, directory: str | os.PathLike | None = None,
          **overrides: Any) -> ActNet:
    """The net ``name`` (eval mode when ``pretrained``, with its sha256-checked shipped weights).

    ``overrides`` replace :class:`NetConfig` fields of a fresh model (``hidden``, ``activation``, ...).
    """
    if pretrained:
        if name is None:
            raise ValueError("pretrained needs a model name")
        if overrides:
            raise ValueError(f"pretrained weights fix the architecture; cannot override {sorted(overrides)}")
        tensors = load_weights(name, directory)
        cfg = load_card(name, directory).config["net"]
        model = ActNet(NetConfig.from_dict(cfg))
        try:
            model.load_state_dict(tensors)
        except RuntimeError as exc:
            raise WeightsError(f"weights {name!r} do not fit the network: {exc}") from None
        model.eval()
        return model
    cfg = default_config(name or "shallow-learned-act")
    cfg.update(overrides)
    return ActNet(NetConfig.from_dict(cfg))


def evaluate_net(model: ActNet, task: str, task_seed: int = 0, samples: int | None = None) -> dict[str, Any]:
    """The metric of ``model`` on the first ``samples`` test examples of ``task`` (all when None)."""
    import torch

    from packzoo.zoo.activations.tasks import load_task, score

    torch.set_num_threads(1)  # the same reduction order every time
    t = load_task(task, seed=task_seed, train_limit=1, test_limit=samples)
    return {t.metric: round(score(model, t.x_test, t.y_test, t.kind), 9), "samples": len(t.x_test)}


def evaluate_pretrained(name: str, samples: int = 1000, directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """Metric of the shipped ``name`` on the first ``samples`` test examples of its task."""
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    card = load_card(name, directory)
    model = build(name, pretrained=True, directory=directory)
    return evaluate_net(model, card.config["task"], int(card.config.get("task_seed", 0)), samples)


def _register() -> None:
    for v in VARIANTS:
        for arch in PRESETS:
            name = arch + v.suffix

            def make(pretrained: bool = False, _name: str = name, **overrides: Any) -> ActNet:
                return build(_name, pretrained, **overrides)

            def evaluate(samples: int = 1000, _name: str = name) -> dict[str, Any]:
                return evaluate_pretrained(_name, samples)

            register_model(name, make, family=FAMILY, evaluate=evaluate, summary=f"{_SUMMARIES[arch]}; {v.task}",
                           source=SOURCE, task=v.what, architecture=arch, task_name=v.task,
                           params=count_params(NetConfig.from_dict(default_config(name))))


_register()

__all__ = ["CHECK_LIMITS", "VARIANTS", "Variant", "default_config", "FAMILY", "FORMS", "MODEL_NAMES", "ActNet", "ActivationError", "ActivationSpec",
           "LearnedActivation", "NetConfig", "build", "count_params", "dataset_text", "evaluate_net", "evaluate_pretrained",
           "width_for_params"]
