"""Pointer-network solvers: the zoo's trained networks choose the order, the env's LSA packs it.

``ptrnet-greedy`` (argmax decoding), ``ptrnet-sample128`` (best of 128 sampled orders and the
greedy one), ``ptrnet-beam`` (beam search, width 3 as in the paper), ``ptrnet-beam16`` and
``ptrnet-multistart`` (greedy forced to start from every item; POMO's inference). With
``model="auto"`` the solver uses the shipped network trained on the instance's N, or the nearest
N (the network handles any N). torch is imported lazily, so ``import packzoo.solvers`` stays fast.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import numpy as np

from packzoo._checks import positive_int
from packzoo.envs.instance import Instance
from packzoo.solvers.base import BaseSolver, Solution, pack_in_order, register_solver

DECODERS = ("greedy", "sample", "beam", "multistart")
_TRAINED_N = (8, 10, 12)


def auto_model_name(n: int) -> str:
    """The shipped network for ``n`` items: trained on n, else the nearest size (ties: the larger)."""
    best = min(_TRAINED_N, key=lambda k: (abs(k - n), -k))
    return f"ptrnet-binpack-n{best}"


@lru_cache(maxsize=8)
def _load(name: str, device: str):
    """The pretrained network ``name`` on ``device``, loaded once per process (sha256-checked)."""
    from packzoo.zoo import create_model

    model = create_model(name, pretrained=True)
    return model.to(device)


class PtrNetSolver(BaseSolver):
    """A trained pointer network picks the item order; LSA places the items (Hu et al. 2017).

    Args:
        model: a zoo model name (``ptrnet-binpack-n10``) or "auto" (the one trained on the
            instance's N, else the nearest).
        decode: "greedy", "sample" (best of ``samples`` orders and the greedy one), "beam"
            (width ``width``; of the final beams the one with the least surface) or "multistart".
        samples: orders drawn by "sample".
        width: beam width.
        temperature: softmax temperature of "sample".
        device: torch device.
    """

    def __init__(
        self,
        *,
        model: str = "auto",
        decode: str = "greedy",
        samples: int = 128,
        width: int = 3,
        temperature: float = 1.0,
        device: str = "cpu",
    ) -> None:
        if decode not in DECODERS:
            raise ValueError(f"decode must be one of {DECODERS}, got {decode!r}")
        if not isinstance(model, str) or not (model == "auto" or model.startswith("ptrnet-")):
            raise ValueError(f"model must be 'auto' or a ptrnet zoo name, got {model!r}")
        for name, v in (("samples", samples), ("width", width)):
            positive_int(v, name)
        if not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        self.model = model
        self.decode = decode
        self.samples = int(samples)
        self.width = int(width)
        self.temperature = float(temperature)
        self.device = device

    def fingerprint(self) -> str:
        """The sha256 of the weights it may play (all shipped sizes for ``model="auto"``)."""
        from packzoo.zoo.weights import load_card

        names = [f"ptrnet-binpack-n{k}" for k in _TRAINED_N] if self.model == "auto" else [self.model]
        return ",".join(load_card(n).sha256 for n in names)

    def solve(self, instance: Instance, *, seed: int | None = None, time_limit: float | None = None) -> Solution:
        # Loading the network (torch, weights, sha256) is setup, not solving: before the clock starts.
        if isinstance(instance, Instance):
            _load(auto_model_name(instance.n) if self.model == "auto" else self.model, self.device)
        return super().solve(instance, seed=seed, time_limit=time_limit)

    def _solve(self, instance: Instance, rng: np.random.Generator, deadline: float | None) -> Solution:
        from packzoo.zoo.ptrnet import decode as D

        name = auto_model_name(instance.n) if self.model == "auto" else self.model
        net = _load(name, self.device)
        dims, n = D.pad([instance])
        info: dict[str, Any] = {"model": name, "decode": self.decode}
        stopped = False
        if self.decode == "greedy":
            order = D.greedy(net, dims, n)[0]
        elif self.decode == "beam":
            order = D.beam_search(net, dims, n, self.width)[0][0]
        elif self.decode == "multistart":
            order = D.multistart_greedy(net, dims, n)[0][0]
        else:
            # Anytime: the greedy order first (completed by volume if the clock strikes mid-way),
            # then chunks of samples while they fit in the time left, timed on the greedy decode.
            t0 = time.perf_counter()
            best_o = D.greedy(net, dims, n, deadline=deadline)[0]
            t_one = time.perf_counter() - t0
            best_s = int(D.surfaces(dims, n, best_o[None])[0])
            stopped = deadline is not None and time.perf_counter() > deadline
            seed = int(rng.integers(0, 2**31 - 1))
            drawn = 0
            while drawn < self.samples and not stopped:
                k = min(32, self.samples - drawn)
                if deadline is not None:
                    fit = int((deadline - time.perf_counter()) / max(t_one, 1e-6))
                    if fit < k:  # the clock decides how many samples: the last chunk
                        stopped = True
                        k = fit
                    if k < 1:
                        break
                o, s = D.sample_best(net, dims, n, k, temperature=self.temperature, seed=seed + drawn,
                                     include_greedy=False, deadline=deadline)
                if s[0] < best_s:
                    best_o, best_s = o[0], int(s[0])
                drawn += k
            order = best_o
            info["samples"] = drawn
        info["stopped_by_time"] = stopped
        order = [int(i) for i in order[: instance.n]]
        info["order"] = order
        return Solution(pack_in_order(instance, order), "feasible", info=info)


_SRC = "Hu et al. 2017 (RL order + LSA); Bello et al. 2017 (pointer network); packzoo zoo weights"
# name -> (decoding defaults, summary, source)
_VARIANTS = {
    "ptrnet-greedy": ({"decode": "greedy"}, "pointer network, greedy decoding, + LSA placement", _SRC),
    "ptrnet-sample128": (
        {"decode": "sample", "samples": 128},
        "pointer network, best of 128 sampled orders (and the greedy one), + LSA placement",
        _SRC,
    ),
    "ptrnet-beam": ({"decode": "beam", "width": 3}, "pointer network, beam search of width 3 (the paper's), + LSA placement", _SRC),
    "ptrnet-beam16": ({"decode": "beam", "width": 16}, "pointer network, beam search of width 16, + LSA placement", _SRC),
    "ptrnet-multistart": (
        {"decode": "multistart"},
        "pointer network, greedy from every first item (POMO's inference), + LSA placement",
        "Kwon et al. 2020 (POMO) on the pointer network",
    ),
}
for _name, (_defaults, _summary, _source) in _VARIANTS.items():
    register_solver(
        _name,
        lambda _d=_defaults, **kw: PtrNetSolver(**{**_d, **kw}),
        kind="learned",
        keeps_time_limit=_defaults["decode"] == "sample",  # the others decode once, in one pass
        summary=_summary,
        source=_source,
    )
