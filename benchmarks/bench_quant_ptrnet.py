"""What low-bit weights cost the packing pointer network (beyond the talk).

Takes the shipped ``ptrnet-binpack-n10``, quantizes its weights with post-training projection
(``packzoo.zoo.quantize(..., method="round")``: iterative quantization, one alpha per tensor, no
training) and compares the greedy decoding's mean surface on the first ``--instances`` of
``uniform-n10`` (and ``orders-n10``) with the full-precision network. The pointer net's 12 weight
tensors (embedding, encoder LSTM, decoder LSTM cell, glimpse and pointer projections, dynamic
features) are all quantized ("all"), or all but the first and last module in registration order
(``embed`` and ``ctx``, the default ``keep_first_last=True``). Biases and the attention vectors
``v`` stay float.

    .venv/bin/python benchmarks/bench_quant_ptrnet.py [--instances 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from packzoo.envs.generators import instance_set
from packzoo.envs.rules import sort_orders
from packzoo.zoo import create_model, quantize
from packzoo.zoo.ptrnet import decode as D
from packzoo.zoo.quant.export import compact_bytes


def mean_surface(model, name: str, instances: int) -> tuple[float, np.ndarray]:
    insts = instance_set(name, instances)
    dims, n = D.pad(insts)
    s = D.surfaces(dims, n, D.greedy(model, dims, n))
    return float(np.mean(s)), s


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", type=int, default=100)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    fp = create_model("ptrnet-binpack-n10", pretrained=True)
    variants = [("full precision", None, None)]
    for levels in ("pow2-3bit", "ternary", "binary"):
        variants += [(f"{levels}, all weights", levels, False), (f"{levels}, keep embed+ctx", levels, True)]
    sets = ("uniform-n10", "orders-n10")
    base = {s: mean_surface(fp, s, args.instances) for s in sets}
    float_bytes = sum(t.numel() * t.element_size() for t in fp.state_dict().values())
    print(f"ptrnet-binpack-n10, greedy decoding, first {args.instances} instances; post-training projection")
    print(f"{'weights':30s} {'file KB':>8s} " + " ".join(f"{s + ' mean':>17s} {'vs fp':>7s} {'worse on':>8s}" for s in sets))
    for label, levels, keep in variants:
        t0 = time.perf_counter()
        if levels is None:
            model, kb = fp, float_bytes / 1024
        else:
            model = quantize(fp, levels, method="round", keep_first_last=keep)
            kb = len(compact_bytes(model)) / 1024
        cells = []
        for s in sets:
            mean, per = mean_surface(model, s, args.instances)
            worse = int((per > base[s][1] + 1e-9).sum())
            cells.append(f"{mean:17.1f} {mean / base[s][0] - 1:+7.2%} {worse:8d}")
        print(f"{label:30s} {kb:8.1f} " + " ".join(cells) + f"   ({time.perf_counter() - t0:.1f} s)")
    # For scale: the best simple order rule on the same instances.
    cells = []
    for s in sets:
        dims, n = D.pad(instance_set(s, args.instances))
        mean = float(np.mean(D.surfaces(dims, n, sort_orders(dims)["volume"])))
        cells.append(f"{mean:17.1f} {mean / base[s][0] - 1:+7.2%} {'':8s}")
    print(f"{'(sort-volume rule, no network)':30s} {'':8s} " + " ".join(cells))


if __name__ == "__main__":
    main()
