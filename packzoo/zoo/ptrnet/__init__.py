"""Pointer network for the packing order, trained with REINFORCE (Hu et al. 2017; Bello et al. 2017).

Zoo models ``ptrnet-binpack-n8``, ``ptrnet-binpack-n10``, ``ptrnet-binpack-n12``: one network
per training size (each also decodes other sizes). ``create_model(name, pretrained=True)`` loads the
shipped, sha256-checked safetensors; ``evaluate_model(name, instances=20)`` recomputes its metrics
on the held-out named sets. Training: ``packzoo train ptrnet`` (:mod:`packzoo.train.ptrnet`).
"""

from __future__ import annotations

import os
from typing import Any

from packzoo.zoo import register_model
from packzoo.zoo.weights import fit_weights, load_card, load_weights

SIZES = (8, 10, 12)
FAMILY = "ptrnet"
# The small evaluation every weights card records and the conformance check repeats: greedy
# decoding on the first 10 instances of uniform-nN.
CHECK_LIMITS: dict[str, Any] = {"instances": 10, "families": ["uniform"], "samples": 0, "beam": [], "multistart": False}


def model_name(n_items: int) -> str:
    """The zoo name of the network trained on ``n_items`` items."""
    return f"ptrnet-binpack-n{n_items}"


def build(name: str | None = None, pretrained: bool = False, directory: str | os.PathLike | None = None, **overrides: Any):
    """A :class:`PointerNet` in eval mode; ``pretrained`` loads the shipped weights ``name``.

    ``overrides`` replace :class:`PtrNetConfig` fields (only without pretrained weights, or ones
    that do not change the tensors' shapes, such as ``clip``).
    """
    from packzoo.zoo.ptrnet.model import PointerNet, PtrNetConfig

    cfg: dict[str, Any] = {}
    tensors = None
    if pretrained:
        if name is None:
            raise ValueError("pretrained needs a model name")
        tensors = load_weights(name, directory)
        cfg = dict(load_card(name, directory).config)
    unknown = set(overrides) - set(PtrNetConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown PointerNet settings {sorted(unknown)}; known: {sorted(PtrNetConfig.__dataclass_fields__)}")
    cfg.update(overrides)
    model = PointerNet(PtrNetConfig.from_dict(cfg))
    if tensors is not None:
        return fit_weights(model, tensors, name)
    model.eval()
    return model


def _factory(name: str):
    def make(pretrained: bool = False, **overrides: Any):
        return build(name, pretrained, **overrides)

    return make


def _evaluator(name: str, n_items: int):
    def evaluate(instances: int = 20, samples: int = 128, beam: tuple[int, ...] = (3,), **kw: Any) -> dict[str, Any]:
        """Mean surfaces of the decodings and the order rules on ``instances`` of uniform/orders-nN.

        Flat keys ``"<set>.<method>"`` (e.g. ``"uniform-n10.ptrnet-greedy"``) sit beside the nested
        dict, so a card's check can name one number.
        """
        from packzoo.zoo.ptrnet.evaluate import evaluate_network

        model = build(name, pretrained=True)
        res = evaluate_network(model, n_items, instances=instances, samples=samples, beam=tuple(beam), **kw)
        flat = {f"{s}.{k}": v for s, m in res.items() for k, v in m.items() if isinstance(v, (int, float))}
        return {**res, **flat}

    return evaluate


for _n in SIZES:
    register_model(
        model_name(_n),
        _factory(model_name(_n)),
        family=FAMILY,
        evaluate=_evaluator(model_name(_n), _n),
        summary=f"pointer network (LSTM encoder/decoder, 1 glimpse) choosing the packing order, trained on N={_n}",
        source="Hu et al. 2017; Bello et al. 2017; multi-sample baseline of Kool et al. 2019; expert iteration",
        task="packzoo/BinPack3D-v0 item order (LSA placement): mean surface on uniform/orders-nN",
        n_items=_n,
        headline=tuple(f"{fam}-n{_n}.{m}" for fam in ("uniform", "orders")
                       for m in ("ptrnet-greedy", "ptrnet-sample128", "best-sort", "ptrnet-greedy/best-sort")),
    )


__all__ = ["CHECK_LIMITS", "FAMILY", "SIZES", "build", "model_name"]
