"""Low-bit ResNets on Fashion-MNIST: ADMM against STE, post-training rounding and brevitas.

Prints the table shaped like Leng et al.'s Table 1 (top-1 and top-2 per method and bits, file
sizes) for the shipped ``quant-resnet-fashion-*`` models on the 10,000 test images, with
post-training rounding of the full-precision net computed here. With brevitas installed
(``pip install -c constraints.txt -e ".[bench-quant]"``), it also trains brevitas's binary and
ternary weight quantizers (``SignedBinaryWeightPerTensorConst``, ``SignedTernaryWeightPerTensorConst``:
straight-through estimator, constant per-tensor scale, here set per layer to the iterative
projection's alpha of the full-precision weights) on the same layers, from the same start, with
the same optimiser, schedule, batches and steps as the shipped ADMM model of that level set.

    .venv/bin/python benchmarks/bench_quant.py [--no-brevitas] [--json results/bench_quant.json]

The brevitas runs take a few CPU-minutes each (run them under the machine's heavy-job lock).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import nn

from packzoo._io import atomic_write_text
from packzoo.zoo import create_model, has_weights, model_card
from packzoo.zoo.quant import NAMED_LEVELS, model_name, project, quantize, select_params
from packzoo.zoo.quant import data as D
from packzoo.zoo.quant.core import TrainSettings
from packzoo.zoo.quant.export import compact_bytes

FP = "quant-resnet-fashion-fp"


def brevitas_model(fp: nn.Module, levels: str) -> nn.Module:
    """A copy of ``fp`` whose quantized convs are brevitas ``QuantConv2d`` with its shipped quantizer."""
    import copy

    from brevitas.nn import QuantConv2d
    from brevitas.quant.binary import SignedBinaryWeightPerTensorConst
    from brevitas.quant.ternary import SignedTernaryWeightPerTensorConst

    quant = {"binary": SignedBinaryWeightPerTensorConst, "ternary": SignedTernaryWeightPerTensorConst}[levels]
    m = copy.deepcopy(fp)
    for pname in select_params(m):
        mname = pname[: -len(".weight")]
        parent_name, _, child = mname.rpartition(".")
        parent = m.get_submodule(parent_name) if parent_name else m
        old = getattr(parent, child)
        alpha = project(old.weight.data, levels).alpha
        new = QuantConv2d(old.in_channels, old.out_channels, old.kernel_size, stride=old.stride, padding=old.padding,
                          bias=False, weight_quant=quant, weight_scaling_const=alpha)
        new.weight.data.copy_(old.weight.data)
        setattr(parent, child, new)
    return m


def train_brevitas(levels: str, steps: int, lr: float, batch_size: int, seed: int, xtr, ytr) -> tuple[nn.Module, float]:
    """Train the brevitas net like the ADMM/STE runs: SGD momentum 0.9, cosine lr, no decay on quantized weights."""
    import math

    torch.manual_seed(seed)
    m = brevitas_model(create_model(FP, pretrained=True), levels)
    s = TrainSettings(lr=lr)
    qw = [mod.weight for mod in m.modules() if type(mod).__name__ == "QuantConv2d"]
    qids = {id(p) for p in qw}
    rest = [p for p in m.parameters() if id(p) not in qids]
    opt = torch.optim.SGD([{"params": rest, "weight_decay": s.weight_decay}, {"params": qw, "weight_decay": 0.0}],
                          lr=lr, momentum=s.momentum)
    t0 = time.process_time()
    m.train()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / steps))
        idx = torch.from_numpy(D.batch_indices(len(xtr), batch_size, step, seed))
        opt.zero_grad()
        nn.functional.cross_entropy(m(xtr[idx]), ytr[idx]).backward()
        opt.step()
    m.eval()
    return m, time.process_time() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-brevitas", action="store_true", help="skip the brevitas trainings")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    xte, yte = D.load("test")
    fp = create_model(FP, pretrained=True)
    rows = []

    def add(method: str, levels: str, bits: int, acc: dict, size: int | None, cpu: float | None, model: str) -> None:
        rows.append({"method": method, "levels": levels, "bits": bits, **acc, "bytes": size, "train_cpu_s": cpu, "model": model})

    fcard = model_card(FP).weights
    add("full precision", "float32", 32, D.accuracy(fp, xte, yte), fcard.bytes, fcard.training.get("cpu_seconds"), FP)
    for lv in NAMED_LEVELS:
        r = quantize(fp, lv, method="round")
        add("round", lv, r.quant_spec.levels.bits, D.accuracy(r, xte, yte), len(compact_bytes(r)), 0.0, f"round({FP})")
        for method in ("ste", "admm"):
            name = model_name(method, lv)
            if not has_weights(name):
                continue
            w = model_card(name).weights
            add(method.upper(), lv, w.metrics["bits"], D.accuracy(create_model(name, pretrained=True), xte, yte),
                w.bytes, w.training.get("cpu_seconds"), name)
    if not args.no_brevitas:
        try:
            import brevitas  # noqa: F401
        except ImportError:
            print("brevitas is not installed (pip install -c constraints.txt -e '.[bench-quant]'): skipping its rows")
        else:
            xtr, ytr = D.load("train")
            for lv in ("binary", "ternary"):
                name = model_name("admm", lv)
                if not has_weights(name):
                    continue
                tc = model_card(name).weights.train_config
                m, cpu = train_brevitas(lv, int(tc["steps"]), float(tc["lr"]), int(tc["batch_size"]), int(tc["seed"]), xtr, ytr)
                add("brevitas", lv, 1 if lv == "binary" else 2, D.accuracy(m, xte, yte), None, round(cpu, 1),
                    f"brevitas {lv}, {tc['steps']} steps")
    print(f"Fashion-MNIST test (10,000 images), ResNet-18-shaped net width {fp.config.width}")
    print(f"{'method':15s} {'levels':10s} {'bits':>4s} {'top-1':>7s} {'top-2':>7s} {'file KB':>8s} {'train CPU s':>11s}  model")
    for r in rows:
        kb = "-" if r["bytes"] is None else f"{r['bytes'] / 1024:.1f}"
        cpu = "-" if r["train_cpu_s"] is None else f"{r['train_cpu_s']:.0f}"
        print(f"{r['method']:15s} {r['levels']:10s} {r['bits']:4d} {r['top1']:7.4f} {r['top2']:7.4f} {kb:>8s} {cpu:>11s}  {r['model']}")
    pow2 = model_name("admm", "pow2-3bit")
    if has_weights(pow2):
        # The bit-shift claim on a real layer: integer (int8-range) activations through the shipped
        # pow2 layer by shifts and adds, against the float layer.
        from packzoo.zoo.quant.kernel import integer_forward

        q = create_model(pow2, pretrained=True)
        layer_name = "layers.2.0.conv2"
        layer = q.get_submodule(layer_name)
        x_int = torch.randint(-127, 128, (4, layer.in_channels, 7, 7), generator=torch.Generator().manual_seed(0))
        scale = 0.02
        t0 = time.perf_counter()
        y_int = integer_forward(layer, q.quant_spec.alphas[layer_name + ".weight"], "pow2-3bit", x_int, scale)
        secs = time.perf_counter() - t0
        with torch.no_grad():
            y_float = layer.double()(x_int.double() * scale)
        rel = float((y_int - y_float).abs().max() / y_float.abs().max())
        print(f"shift-and-add {layer_name} ({tuple(layer.weight.shape)}): max |int - float| / max |float| = {rel:.2e} "
              f"({secs:.2f} s in numpy, a demonstration, not a fast kernel)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(args.json), json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
