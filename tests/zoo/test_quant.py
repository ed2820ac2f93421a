"""The quant family: projection, ADMM, STE, rounding, compact export, shift-and-add kernel, trainer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from packzoo.zoo import quantize
from packzoo.zoo.quant import QuantError, as_levels, on_grid, project, quantizable, select_params
from packzoo.zoo.quant.export import (
    CompactFileError,
    compact_tensors,
    expand_tensors,
    load_compact,
    pack_codes,
    save_compact,
    unpack_codes,
)
from packzoo.zoo.quant.kernel import integer_forward, shift_add_conv2d, shift_add_linear


# -- projection ------------------------------------------------------------------------------
def test_projection_hand_case_ternary():
    # V = [3, 1, -2, 0.1]; start alpha = mean|V| / 1 = 1.525 -> V/alpha = [1.97, .66, -1.31, .07]
    # -> Q = [1, 1, -1, 0]; alpha = <V,Q>/<Q,Q> = (3 + 1 + 2) / 3 = 2 -> V/2 = [1.5, .5, -1, .05]
    # -> Q = [1, 0, -1, 0] (0.5 is a midpoint: ties go to the lower level); alpha = 5/2 = 2.5
    # -> V/2.5 = [1.2, .4, -.8, .04] -> same Q: stable.
    v = torch.tensor([3.0, 1.0, -2.0, 0.1])
    pr = project(v, "ternary")
    assert pr.codes.tolist() == [2, 1, 0, 1]  # indices into (-1, 0, 1)
    assert pr.alpha == pytest.approx(2.5)
    assert pr.values(as_levels("ternary")).tolist() == pytest.approx([2.5, 0.0, -2.5, 0.0])
    assert pr.error == pytest.approx(0.25 + 1 + 0.25 + 0.01)


def test_projection_binary_is_bwn():
    v = torch.tensor([[0.3, -0.1], [0.2, -0.6]])
    pr = project(v, "binary")
    assert pr.alpha == pytest.approx(float(v.abs().mean()))
    assert torch.equal(pr.values(as_levels("binary")), torch.sign(v) * pr.alpha)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=3, max_size=40),
       st.sampled_from(["binary", "ternary", "pow2-3bit", (-2, -1, 0, 1, 2)]))
def test_projection_alpha_optimal_for_q_and_q_nearest_for_alpha(vals, levels):
    v = torch.tensor(vals, dtype=torch.float64)
    if float(v.abs().sum()) < 1e-6:
        return
    lv = as_levels(levels)
    pr = project(v, lv)
    q = lv.tensor(torch.float64)[pr.codes]
    # alpha is the least-squares scale of the final Q ...
    assert pr.alpha == pytest.approx(float(v.dot(q) / q.dot(q)), rel=1e-12)
    # ... and no other scale does better for this Q; no other level does better entry-wise for it.
    err = lambda a: float((v - a * q).pow(2).sum())  # noqa: E731
    assert err(pr.alpha) <= min(err(pr.alpha * 1.01), err(pr.alpha * 0.99)) + 1e-12
    grid = lv.tensor(torch.float64) * pr.alpha
    best = (v[:, None] - grid[None]).abs().min(dim=1).values
    assert torch.allclose((v - pr.alpha * q).abs(), best, atol=1e-12)


def test_levels_parsing_and_errors():
    assert as_levels([1, 0, -1]).name == "ternary"
    assert as_levels("pow2-3bit").bits == 3 and as_levels("binary").bits == 1 and as_levels("ternary").bits == 2
    assert as_levels("pow2-3bit").is_pow2 and not as_levels([-3, 0, 3]).is_pow2
    for bad in ("quaternary", [1], [1, 1], [0, 0.0], [float("nan"), 1]):
        with pytest.raises(QuantError):
            as_levels(bad)
    with pytest.raises(QuantError, match="NaN"):
        project(torch.tensor([1.0, float("nan")]), "binary")


# -- layer selection and the API -------------------------------------------------------------
def _mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def _blobs(n: int = 240, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(3, 6, generator=g) * 2
    y = torch.randint(0, 3, (n,), generator=g)
    x = centres[y] + 0.5 * torch.randn(n, 6, generator=g)
    return [(x[i:i + 40], y[i:i + 40]) for i in range(0, n, 40)]


def test_select_params_keeps_first_and_last():
    m = _mlp()
    assert select_params(m) == ["2.weight", "4.weight"]
    assert select_params(m, keep_first_last=False) == ["0.weight", "2.weight", "4.weight", "6.weight"]
    assert select_params(m, layers=["6"]) == ["6.weight"]
    with pytest.raises(QuantError, match="candidates"):
        select_params(m, layers=["nope"])
    lstm = nn.LSTM(4, 8)
    assert [p for _, p in quantizable(lstm)] == ["weight_ih_l0", "weight_hh_l0"]


def test_api_errors_are_clear():
    m = _mlp()
    with pytest.raises(QuantError, match="method"):
        quantize(m, "binary", method="magic")
    with pytest.raises(QuantError, match="data="):
        quantize(m, "binary", method="admm")
    with pytest.raises(QuantError, match="unknown quantize settings"):
        quantize(m, "binary", method="round", rhoo=1)
    with pytest.raises(QuantError, match="nn.Module"):
        quantize("not a model", "binary")


def test_round_puts_every_weight_on_grid_and_leaves_original():
    m = _mlp()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    q = quantize(m, "pow2-3bit", method="round")
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert on_grid(q, q.quant_spec)
    assert torch.equal(q.state_dict()["0.weight"], before["0.weight"])  # first layer kept
    w = q.state_dict()["2.weight"]
    assert len(torch.unique(w)) <= 7


def test_admm_ends_with_w_equal_g_and_every_weight_on_grid():
    data = _blobs()
    q = quantize(_mlp(), "ternary", method="admm", data=data, steps=120, lr=0.05, rho=0.5, rho_growth=1.3,
                 admm_every=10, keep_first_last=False)
    spec = q.quant_spec
    # W was pulled onto G by the penalty before the final snap (not merely snapped from afar) ...
    assert spec.history["residual_before_snap"] < 0.05
    # ... and every quantized weight equals level x alpha exactly.
    params = dict(q.named_parameters())
    for name in spec.params:
        w = params[name].detach().to(torch.float64)
        alpha = spec.alphas[name]
        k = torch.round(w / alpha)
        assert torch.equal((k * alpha).to(torch.float32).to(torch.float64), w), name
        assert set(k.unique().tolist()) <= {-1.0, 0.0, 1.0}
    acc = np.mean([float((q(x).argmax(1) == y).float().mean()) for x, y in data])
    assert acc > 0.8  # chance is 1/3


def test_ste_and_admm_same_seed_same_result():
    def run(method):
        torch.manual_seed(0)
        return quantize(_mlp(), "binary", method=method, data=_blobs(), steps=20, admm_every=5)

    for method in ("ste", "admm"):
        a, b = run(method), run(method)
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
        assert on_grid(a, a.quant_spec)


# -- compact export --------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.integers(0, 50), st.integers(0, 2**31))
def test_pack_unpack_roundtrip(bits, n, seed):
    codes = np.random.default_rng(seed).integers(0, 1 << bits, n)
    packed = pack_codes(codes, bits)
    assert packed.nbytes == (n * bits + 7) // 8
    assert np.array_equal(unpack_codes(packed, bits, n), codes)


@pytest.mark.parametrize("levels,bits", [("binary", 1), ("ternary", 2), ("pow2-3bit", 3)])
def test_export_roundtrip_same_outputs_and_size(tmp_path, levels, bits):
    from packzoo.zoo.quant.resnet import ResNetConfig, SmallResNet

    torch.manual_seed(0)
    net = SmallResNet(ResNetConfig(width=4))
    q = quantize(net, levels, method="round")
    path = tmp_path / "q.pzq"
    size = save_compact(q, path)
    fresh = SmallResNet(ResNetConfig(width=4))
    back = load_compact(path, fresh)
    x = torch.randn(3, 1, 28, 28)
    assert torch.equal(back(x), q.eval()(x))
    assert back.quant_spec.alphas == q.quant_spec.alphas
    n_q = sum(p.numel() for n, p in q.named_parameters() if n in q.quant_spec.params)
    n_float = sum(t.numel() for n, t in q.state_dict().items() if n not in q.quant_spec.params)
    # The file is magic + sha256 + safetensors (8-byte length, JSON header, data). The data holds
    # ceil(n * bits / 8) bytes of codes per quantized tensor, its alpha (8) and shape (8 per dim),
    # the float tensors as they are, and the level set.
    raw = path.read_bytes()
    header = int.from_bytes(raw[40:48], "little")
    sd = q.state_dict()
    codes_bytes = sum((sd[n].numel() * bits + 7) // 8 + 8 + 8 * sd[n].dim() for n in q.quant_spec.params)
    float_bytes = sum(t.numel() * t.element_size() for n, t in sd.items() if n not in q.quant_spec.params)
    levels_bytes = 8 * len(q.quant_spec.levels.values) + 8
    assert size == 40 + 8 + header + codes_bytes + float_bytes + levels_bytes
    assert codes_bytes < n_q * bits / 8 * 1.05 + 2000
    assert n_q * 4 / (codes_bytes - 8 * 0) > 25 / bits  # about 32/bits smaller than float32
    del n_float


def test_corrupted_or_foreign_file_refused(tmp_path):
    q = quantize(_mlp(), "ternary", method="round")
    path = tmp_path / "q.pzq"
    save_compact(q, path)
    data = bytearray(path.read_bytes())
    data[len(data) - 10] ^= 0x01
    bad = tmp_path / "bad.pzq"
    bad.write_bytes(bytes(data))
    with pytest.raises(CompactFileError, match="checksum"):
        load_compact(bad, _mlp())
    (tmp_path / "short.pzq").write_bytes(path.read_bytes()[:-7])
    with pytest.raises(CompactFileError, match="corrupted or truncated"):
        load_compact(tmp_path / "short.pzq")
    (tmp_path / "other.pzq").write_bytes(b"hello world, not a model")
    with pytest.raises(CompactFileError, match="not a packzoo compact file"):
        load_compact(tmp_path / "other.pzq")
    with pytest.raises(CompactFileError, match="do not fit"):
        load_compact(path, nn.Sequential(nn.Linear(2, 2)))


def test_export_refuses_off_grid_weights():
    q = quantize(_mlp(), "binary", method="round")
    with torch.no_grad():
        q[2].weight[0, 0] += 1e-3
    with pytest.raises(QuantError, match="not on its grid"):
        compact_tensors(q)


def test_expand_rejects_bad_codes():
    q = quantize(_mlp(), "ternary", method="round")
    t = compact_tensors(q)
    t["2.weight::codes"] = torch.full_like(t["2.weight::codes"], 0xFF)  # code 3 of a 3-level set
    with pytest.raises(CompactFileError, match="only 3 levels"):
        expand_tensors(t)


# -- the shift-and-add kernel ----------------------------------------------------------------
def test_shift_add_linear_hand_case():
    # levels (-4 -2 -1 0 1 2 4): codes 6 -> 4, 0 -> -4, 4 -> 1, 3 -> 0
    codes = np.array([[6, 0, 4, 3]])
    x = np.array([[1, 2, 3, 4], [-5, 0, 7, 1]])
    assert shift_add_linear(x, codes, "pow2-3bit").tolist() == [[4 - 8 + 3], [-20 + 7]]
    with pytest.raises(QuantError, match="not all 0 or"):
        shift_add_linear(x, np.array([[0, 1, 2, 0]]), [-3, 0, 3])
    with pytest.raises(QuantError, match="integer"):
        shift_add_linear(x.astype(float), codes, "pow2-3bit")


@pytest.mark.parametrize("levels", ["pow2-3bit", "ternary", "binary"])
def test_integer_kernel_equals_float_layer(levels):
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=True)
    lin = nn.Linear(12, 4)
    for layer in (conv, lin):
        spec = quantize(layer, levels, method="round", keep_first_last=False, inplace=True).quant_spec
        alpha = spec.alphas["weight"]
        scale = 0.05
        shape = (2, 3, 7, 6) if layer is conv else (6, 12)
        x_int = torch.randint(-128, 128, shape)
        got = integer_forward(layer, alpha, levels, x_int, scale)
        # exact in integers: the kernel's sum equals a float64 layer with the level codes as weights
        w_levels = (layer.weight.detach().double() / alpha).round()
        ref_int = (nn.functional.conv2d(x_int.double(), w_levels, stride=2, padding=1) if layer is conv
                   else x_int.double() @ w_levels.T)
        codes = torch.bucketize(w_levels, (as_levels(levels).tensor(torch.float64)[1:] + as_levels(levels).tensor(torch.float64)[:-1]) / 2)
        raw = (shift_add_conv2d(x_int.numpy(), codes.numpy(), levels, 2, 1) if layer is conv
               else shift_add_linear(x_int.numpy(), codes.numpy(), levels))
        assert np.array_equal(raw, ref_int.numpy().astype(np.int64))
        # and the rescaled output is the float layer's output
        want = layer.double()(x_int.double() * scale)
        layer.float()
        assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)


# -- trainer: resume is bit-identical --------------------------------------------------------
def test_trainer_resume_bit_identical(tmp_path):
    from safetensors.torch import load

    from packzoo.train.quant import cli

    common = ["--method", "fp", "--train-limit", "256", "--eval-limit", "50", "--batch-size", "32",
              "--log-every", "2", "--ckpt-every", "2", "--width", "2", "--no-progress"]
    assert cli([*common, "--steps", "6", "--out", str(tmp_path / "a")]) == 0
    assert cli([*common, "--steps", "6", "--stop-at", "3", "--out", str(tmp_path / "b")]) == 0
    assert cli([*common, "--steps", "6", "--out", str(tmp_path / "b"), "--resume"]) == 0
    a = load((tmp_path / "a" / "checkpoint.safetensors").read_bytes())
    b = load((tmp_path / "b" / "checkpoint.safetensors").read_bytes())
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # the seconds column differs; every other column must match
    rows = lambda p: [ln.split(",")[2:] for ln in (p / "metrics.csv").read_text().splitlines()[1:]]  # noqa: E731
    assert rows(tmp_path / "a") == rows(tmp_path / "b")


def test_trainer_admm_resume_bit_identical(tmp_path):
    from safetensors.torch import load

    from packzoo.train.quant import cli

    common = ["--train-limit", "256", "--eval-limit", "50", "--batch-size", "32", "--log-every", "2",
              "--ckpt-every", "2", "--width", "2", "--no-progress"]
    assert cli(["--method", "fp", *common, "--steps", "2", "--out", str(tmp_path / "fp")]) == 0
    q = ["--method", "admm", "--levels", "pow2-3bit", "--init", str(tmp_path / "fp"), "--admm-every", "2", *common]
    assert cli([*q, "--steps", "6", "--out", str(tmp_path / "a")]) == 0
    assert cli([*q, "--steps", "6", "--stop-at", "3", "--out", str(tmp_path / "b")]) == 0
    assert cli([*q, "--steps", "6", "--out", str(tmp_path / "b"), "--resume"]) == 0
    a = load((tmp_path / "a" / "checkpoint.safetensors").read_bytes())
    b = load((tmp_path / "b" / "checkpoint.safetensors").read_bytes())
    assert any(k.startswith("admm_lambda/") for k in a)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)



# -- shipped models --------------------------------------------------------------------------
def test_shipped_quantized_models_are_on_grid_and_compact():
    from packzoo.zoo import create_model, list_models, model_card

    names = [n for n in list_models(family="quant") if model_card(n).weights is not None]
    assert "quant-resnet-fashion-fp" in names
    fp_bytes = model_card("quant-resnet-fashion-fp").weights.bytes
    for name in names:
        card = model_card(name)
        if card.extra["method"] == "fp":
            continue
        m = create_model(name, pretrained=True)
        spec = m.quant_spec
        assert spec.levels.name == card.extra["levels"] and on_grid(m, spec), name
        assert len(spec.params) == len(select_params(m))  # all but the first and last layer
        # the compact file is several times smaller than the float one
        assert card.weights.bytes < fp_bytes * (spec.levels.bits + 4) / 32, name
