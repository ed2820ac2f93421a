"""The activations family: learned activation forms, nets at equal size, tasks, trainer, shipped models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from packzoo.zoo.activations import ActNet, NetConfig, count_params, width_for_params
from packzoo.zoo.activations.functions import FORMS, ActivationError, ActivationSpec, LearnedActivation
from packzoo.zoo.activations.tasks import FUNCTIONS, batch_indices, fit_points, load_task


def _jiggle(act: LearnedActivation, seed: int = 0) -> LearnedActivation:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in act.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return act


# -- the activation forms ------------------------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("units", [None, 3])
def test_gradcheck_every_form(form, units):
    act = _jiggle(LearnedActivation(form, units=units, size=6, dtype=torch.float64))
    g = torch.Generator().manual_seed(1)
    # Wide inputs: inside and outside the grid [-3, 3] (the B-spline's linear extension is checked too).
    x = (4.0 * torch.randn(5, 3, generator=g, dtype=torch.float64)).requires_grad_()
    params = tuple(act.parameters())
    assert torch.autograd.gradcheck(lambda x, *ps: act(x), (x, *params), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("form", FORMS)
def test_each_form_represents_sin_on_a_grid(form):
    act = LearnedActivation(form, size=12, degrees=(5, 4), dtype=torch.float64)
    rms = act.fit_(torch.sin, -3.0, 3.0)
    x = torch.linspace(-3, 3, 1001, dtype=torch.float64)
    with torch.no_grad():
        err = float((act(x) - torch.sin(x)).abs().max())
    # Bounds from the forms' approximation orders at 12 knots/intervals on [-3, 3]:
    # pwl ~ h^2 max|sin''| / 8 with h = 0.5 -> 0.03; cubic spline and rational 5/4 are far closer.
    bound = {"pwl": 0.05, "bspline": 2e-3, "rational": 5e-3}[form]
    assert rms < bound and err < 2 * bound


@pytest.mark.parametrize("form", FORMS)
def test_each_form_represents_abs(form):
    act = LearnedActivation(form, size=9, degrees=(5, 4), dtype=torch.float64)
    act.fit_(torch.abs, -3.0, 3.0)
    x = torch.linspace(-3, 3, 1001, dtype=torch.float64)
    with torch.no_grad():
        err = float((act(x) - x.abs()).abs().max())
    # pwl with a knot at 0 is exact; the cubic spline smooths the kink over one cell (2/3 wide);
    # the safe rational gets |x| through its |.| denominator (e.g. a x^2 / (1 + |b x|) -> |x|).
    bound = {"pwl": 1e-8, "bspline": 0.2, "rational": 0.05}[form]
    assert err < bound


def test_per_unit_functions_are_independent():
    act = LearnedActivation("bspline", units=2, size=6, dtype=torch.float64)
    with torch.no_grad():
        act.coef[1].mul_(-1.0)
    x = torch.tensor([[0.7, 0.7]], dtype=torch.float64)
    with torch.no_grad():
        y = act(x)[0]
    assert float(y[0]) == pytest.approx(-float(y[1]))
    shared = LearnedActivation("bspline", units=None, size=6, dtype=torch.float64)
    assert shared(torch.randn(2, 3, 4, dtype=torch.float64)).shape == (2, 3, 4)


def test_bspline_is_c1_across_the_grid_end():
    act = _jiggle(LearnedActivation("bspline", size=5, dtype=torch.float64))
    eps = 1e-7
    for edge in (-3.0, 3.0):
        x = torch.tensor([edge - eps, edge, edge + eps], dtype=torch.float64)
        with torch.no_grad():
            y = act(x)
        assert abs(float(y[1] - y[0]) / eps - float(y[2] - y[1]) / eps) < 1e-4


def test_rational_never_has_a_pole():
    act = LearnedActivation("rational", degrees=(3, 3), dtype=torch.float64)
    with torch.no_grad():
        act.denominator.copy_(torch.tensor([[-3.0, 0.5, 2.0]]))  # polynomial with real roots
    x = torch.linspace(-10, 10, 20001, dtype=torch.float64)
    y = act(x)
    assert bool(torch.isfinite(y).all())
    # The denominator is >= 1 everywhere, so |f| <= |numerator|.
    num = sum(act.numerator[0, j] * x ** j for j in range(4))
    assert bool((y.abs() <= num.abs() + 1e-12).all())


@pytest.mark.parametrize("bad, message", [
    ({"form": "spline"}, "form"), ({"units": 0}, "units"), ({"size": 1, "form": "bspline"}, "size"),
    ({"degrees": (0, 2)}, "degrees"), ({"lo": 1.0, "hi": 1.0}, "lo < hi"), ({"init": "gelu"}, "init"),
])
def test_bad_specs_are_named(bad, message):
    with pytest.raises(ActivationError, match=message):
        LearnedActivation(**bad)


def test_per_unit_width_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="3 units"):
        LearnedActivation("pwl", units=3)(torch.zeros(2, 4))


# -- nets and sizes -------------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(st.integers(1, 50), st.integers(1, 12), st.integers(1, 4), st.sampled_from(["relu", "pwl", "bspline", "rational"]),
       st.booleans())
def test_count_params_matches_the_module(in_dim, out_dim, layers, act, shared):
    activation = act if act == "relu" else {"form": act, "size": 4, "per_unit": not shared}
    cfg = NetConfig(in_dim, out_dim, (7,) * layers, activation)
    net = ActNet(cfg)
    assert count_params(cfg) == sum(p.numel() for p in net.parameters())


def test_width_for_params_is_nearest():
    act = {"form": "bspline", "size": 8, "per_unit": True}
    w = width_for_params(40, 10, 2, 15210, act)
    gaps = {v: abs(count_params(NetConfig(40, 10, (v, v), act)) - 15210) for v in (w - 1, w, w + 1)}
    assert min(gaps, key=gaps.get) == w
    assert width_for_params(40, 10, 2, 15210) == 100  # the MNIST-1D reference MLP 40-100-100-10


# -- tasks ------------------------------------------------------------------------------------------
def test_fit_points_seeded_and_distinct_splits():
    a = fit_points("exp-sin-sq", 50, 3, "train")
    b = fit_points("exp-sin-sq", 50, 3, "train")
    c = fit_points("exp-sin-sq", 50, 3, "test")
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    x, y = a
    assert float(x.abs().max()) <= 1.0
    hand = torch.exp(torch.sin(math.pi * x[:, 0].double()) + x[:, 1].double() ** 2).float()
    assert torch.allclose(y[:, 0], hand, atol=1e-6)


def test_every_fit_function_has_its_dimension():
    for name, f in FUNCTIONS.items():
        t = load_task(f"fit:{name}", train_limit=5, test_limit=5)
        assert t.x_train.shape == (5, f.dim) and t.y_train.shape == (5, 1) and 2 <= f.dim <= 8


def test_unknown_tasks_are_named():
    with pytest.raises(ValueError, match="unknown task"):
        load_task("cifar")
    with pytest.raises(ValueError, match="unknown function"):
        load_task("fit:nope")


def test_mnist1d_is_the_packages_offline_dataset():
    from packzoo.zoo.data.mnist1d import mnist1d

    state = np.random.get_state()
    x, y = mnist1d("train")
    xt, yt = mnist1d("test")
    # The caller's global RNG is untouched.
    assert np.array_equal(np.random.get_state()[1], state[1])
    assert x.shape == (4000, 40) and xt.shape == (1000, 40) and x.dtype == np.float32
    assert sorted(set(y.tolist())) == list(range(10)) and np.bincount(np.concatenate([y, yt])).tolist() == [500] * 10
    x2, _ = mnist1d("train")
    assert np.array_equal(x, x2)
    with pytest.raises(ValueError, match="split"):
        mnist1d("valid")


def test_batches_are_a_function_of_seed_and_step():
    a = batch_indices(100, 32, 5, seed=1)
    assert np.array_equal(a, batch_indices(100, 32, 5, seed=1))
    epoch = np.concatenate([batch_indices(100, 32, k, seed=1) for k in range(3)])
    assert len(set(epoch.tolist())) == 96
    assert np.array_equal(batch_indices(10, 64, 0, seed=0), np.arange(10))


# -- learning -----------------------------------------------------------------------------------------
def test_short_run_fits_a_1d_target_better_than_relu_of_equal_size():
    from packzoo.train.activations import Trainer, TrainSettings
    from packzoo.zoo.activations.tasks import Task

    torch.set_num_threads(1)
    g = np.random.default_rng(0)
    xtr = torch.from_numpy(g.uniform(-1, 1, (256, 1))).float()
    xte = torch.from_numpy(g.uniform(-1, 1, (256, 1))).float()
    f = lambda x: torch.sin(3 * x) + 0.5 * x ** 2  # noqa: E731
    task = Task("1d", "regression", xtr, f(xtr), xte, f(xte), 1, 1)
    results = {}
    for name, act in (("relu", "relu"), ("bspline", {"form": "bspline", "size": 6, "per_unit": True})):
        w = width_for_params(1, 1, 2, 120, act)
        cfg = NetConfig(1, 1, (w, w), act)
        torch.manual_seed(0)
        net = ActNet(cfg)
        tr = Trainer(net, task, TrainSettings(steps=500, lr=2e-2, batch_size=256, weight_decay=0.0))
        for k in range(500):
            tr.step(k)
        with torch.no_grad():
            results[name] = (float((net(xte) - f(xte)).pow(2).mean().sqrt()), count_params(cfg))
    (relu_err, relu_n), (act_err, act_n) = results["relu"], results["bspline"]
    assert act_n <= relu_n  # the learned-activation net is not the bigger one
    assert act_err < relu_err / 2, results


@pytest.mark.parametrize("optimizer, batch", [("adam", "64"), ("lbfgs", "1000")])
def test_trainer_resume_is_bit_identical(tmp_path, optimizer, batch):
    from packzoo.train.activations import cli

    common = ["--model", "shallow-learned-act", "--task", "fit:product", "--params", "150", "--steps", "12",
              "--batch-size", batch, "--optimizer", optimizer, "--lr", "1" if optimizer == "lbfgs" else "0.01",
              "--log-every", "3", "--ckpt-every", "4", "--no-progress"]
    assert cli([*common, "--out", str(tmp_path / "a")]) == 0
    assert cli([*common, "--out", str(tmp_path / "b"), "--stop-at", "6"]) == 0
    assert cli([*common, "--out", str(tmp_path / "b"), "--resume"]) == 0
    from safetensors.torch import load_file

    a = load_file(tmp_path / "a" / "checkpoint.safetensors")
    b = load_file(tmp_path / "b" / "checkpoint.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "a" / "metrics.csv").read_text() .splitlines()[1:] != []
    rows_a = [r.split(",")[0] for r in (tmp_path / "a" / "metrics.csv").read_text().splitlines()]
    rows_b = [r.split(",")[0] for r in (tmp_path / "b" / "metrics.csv").read_text().splitlines()]
    assert rows_a == rows_b
    assert json.loads((tmp_path / "b" / "checkpoint.json").read_text())["step"] == 12


def test_ship_writes_a_card_that_check_model_accepts(tmp_path, monkeypatch):
    from packzoo.train.activations import cli
    from packzoo.zoo import weights
    from packzoo.zoo.activations import evaluate_pretrained

    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path / "w")
    (tmp_path / "w").mkdir()
    argv = ["--model", "shallow-relu", "--task", "mnist1d", "--params", "2000", "--steps", "5", "--no-progress",
            "--out", str(tmp_path / "run"), "--ship", "shallow-relu"]
    assert cli(argv) == 0
    card = weights.load_card("shallow-relu")
    assert card.recipe.startswith("packzoo train activations") and card.config["task"] == "mnist1d"
    got = evaluate_pretrained("shallow-relu", **card.check["limits"])
    assert got["accuracy"] == card.check["metrics"]["accuracy"]


@pytest.mark.parametrize("arch", ["shallow-learned-act", "shallow-relu", "mlp-relu-deep"])
@pytest.mark.parametrize("suffix, task", [("", "mnist1d"), ("-fit-exp-sin-sq", "fit:exp-sin-sq")])
def test_shipped_models_pass_check_model(arch, suffix, task):
    from packzoo.zoo import check_model

    card = check_model(arch + suffix)
    assert card.weights is not None, f"{arch + suffix} ships no weights"
    assert card.weights.config["task"] == task and card.weights.extra["model"] == arch


def test_shipped_nets_have_equal_size_per_task():
    from packzoo.zoo import model_card

    for suffix in ("", "-fit-exp-sin-sq"):
        n = [model_card(a + suffix).weights.metrics["params"] for a in ("shallow-learned-act", "shallow-relu", "mlp-relu-deep")]
        # Equal widths in every layer make counts come in steps: within 8% at 390 parameters, 1% at 15k.
        assert max(n) - min(n) <= 0.08 * max(n), n
