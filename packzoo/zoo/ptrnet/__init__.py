"""Pointer network for the packing order, trained with REINFORCE (Hu et al. 2017; Bello et al. 2017).

Zoo models ``ptrnet-binpack-n8``, ``ptrnet-binpack-n10``, ``ptrnet-binpack-n12``: one network
per training size (each also decodes other sizes). ``create_model(name, pretrained=True)`` loads the
shipped, sha256-checked safetensors; ``evaluate_model(name, instances=20)`` recomputes its metrics
on the held-out named sets. Training: ``packzoo train ptrnet`` (:mod:`packzoo.zoo.ptrnet.train`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from packzoo.zoo import register_model
from packzoo.zoo.weights import WeightsError, load_card, load_weights, save_weights

SIZES = (8, 10, 12)


def model_name(n_items: int) -> str:
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
        cfg = dict(load_card(name, directory).get("config", {}).get("model", {}))
    unknown = set(overrides) - set(PtrNetConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown PointerNet settings {sorted(unknown)}; known: {sorted(PtrNetConfig.__dataclass_fields__)}")
    cfg.update(overrides)
    model = PointerNet(PtrNetConfig.from_dict(cfg))
    if tensors is not None:
        try:
            model.load_state_dict(tensors)
        except RuntimeError as exc:
            raise WeightsError(f"weights {name!r} do not fit the network: {exc}") from None
    model.eval()
    return model


def _factory(name: str):
    def make(pretrained: bool = False, **overrides: Any):
        return build(name, pretrained, **overrides)

    return make


def _evaluator(name: str, n_items: int):
    def evaluate(instances: int = 20, samples: int = 128, beam: tuple[int, ...] = (3,), best_order: bool | int = False, **kw: Any) -> dict[str, Any]:
        from packzoo.zoo.ptrnet.evaluate import evaluate_network

        model = build(name, pretrained=True)
        return evaluate_network(model, n_items, instances=instances, samples=samples, beam=beam, best_order=best_order, **kw)

    return evaluate


for _n in SIZES:
    register_model(
        model_name(_n),
        _factory(model_name(_n)),
        evaluate=_evaluator(model_name(_n), _n),
        summary=f"pointer network (LSTM encoder/decoder, 1 glimpse) choosing the packing order, trained by REINFORCE on N={_n}",
        source="Hu et al. 2017; Bello et al. 2017; greedy-rollout baseline of Kool et al. 2019",
        n_items=_n,
        task="packzoo/BinPack3D-v0 item order (LSA placement)",
    )


def export_to_zoo(
    run_dir: str | os.PathLike,
    name: str,
    *,
    recipe: str,
    instances: int = 100,
    best_order: bool | int = True,
    directory: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Evaluate a run's model on the held-out sets and save it to the zoo as ``name``.

    The card holds the network and training config, the metrics, the data description, the exact
    recipe, the training time, and the small-slice metric the tests recompute.
    """
    from packzoo.zoo.ptrnet.evaluate import evaluate_network, small_slice_metric
    from packzoo.zoo.ptrnet.train import load_run_model

    model, meta = load_run_model(run_dir)
    n_items = int(meta["train"]["n_items"])
    cache = Path(run_dir).parent / "best-order-cache.json"
    metrics = evaluate_network(model, n_items, instances=instances, best_order=best_order, best_order_cache=cache)
    card = {
        "config": {"model": meta["model"], "train": meta["train"]},
        "metrics": metrics,
        "small_slice": {
            "what": f"greedy mean surface on the first 10 instances of uniform-n{n_items}",
            "set": f"uniform-n{n_items}",
            "count": 10,
            "greedy_mean_surface": small_slice_metric(model, n_items, 10),
        },
        "dataset": (
            (
                f"expert iteration (--mode imitate, expert {meta['train'].get('expert')}): cross-entropy toward the best of the "
                "expert's order, the sort rules' and the policy's greedy order, "
                + (f"starting from {meta['train']['init']}, " if meta["train"].get("init") else "")
                if meta["train"].get("mode") == "imitate"
                else "REINFORCE "
            )
            + f"on fresh instances drawn with seeds (TRAIN_SEED_BASE + family, {n_items}, k); "
            f"family={meta['train']['family']} (mix: uniform and orders alternately); validation and "
            "rollout-baseline sets on other seed ranges; metrics on the named held-out sets"
        ),
        "recipe": recipe,
        "training_steps": meta["step"],
        "training_seconds": meta["seconds"],
        "training_cpu_seconds": meta.get("cpu_seconds"),
        "hardware": f"2-core CPU shared with other jobs (wall seconds include waiting); torch.set_num_threads({meta['train'].get('threads', 1)})",
    }
    init = meta["train"].get("init")
    if init and (Path(init) / "model.json").exists():
        # Fine-tuned from another run: its training time counts too.
        prev = json.loads((Path(init) / "model.json").read_text())
        card["init_run"] = {"folder": str(init), "steps": prev.get("step"), "seconds": prev.get("seconds"), "cpu_seconds": prev.get("cpu_seconds")}
        card["training_seconds_total"] = round(float(meta["seconds"]) + float(prev.get("seconds") or 0.0), 1)
    save_weights(name, model.tensors(), card, directory)
    return json.loads(json.dumps(card))


__all__ = ["SIZES", "build", "export_to_zoo", "model_name"]
