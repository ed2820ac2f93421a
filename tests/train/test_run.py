"""The shared training plumbing: run folders, checkpoints that resume bit-identically, budgets,
clean stops on signals, metrics, shipping."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from packzoo.train.run import (  # noqa: E402
    RunError,
    TrainRun,
    finish,
    load_module_tensors,
    load_optimizer_state,
    module_tensors,
    numpy_rng_state,
    optimizer_state,
    recipe,
    rng_tensors,
    load_rng_tensors,
    set_numpy_rng_state,
)


def _train(out, steps, *, resume=False, stop_at=None, budget=0.0):
    """A tiny regression trainer on the plumbing: torch and numpy randomness, Adam, checkpoints."""
    cfg = {"steps": steps, "lr": 0.05, "seed": 3}
    run = TrainRun(out, family="test", config=cfg, resume=resume, time_budget=budget, progress=False,
                   recipe=recipe("test", ["--steps", str(steps)]))
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    start = 0
    restored = run.restore()
    if restored:
        start, tensors, state = restored
        load_module_tensors("model", model, tensors)
        load_optimizer_state("opt", opt, tensors, state["opt"])
        load_rng_tensors(tensors)
        set_numpy_rng_state(rng, state["rng"])

    def save(step):
        t, meta = optimizer_state("opt", opt)
        run.checkpoint(step, {**module_tensors("model", model), **t, **rng_tensors()},
                       {"opt": meta, "rng": numpy_rng_state(rng)})

    with run:
        step = start
        for step in run.steps(steps, start):
            x = torch.as_tensor(rng.normal(size=(16, 4)), dtype=torch.float32) + 0.1 * torch.randn(16, 4)
            loss = ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.log(step, loss=round(float(loss.detach()), 6))
            if step == stop_at:
                os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C would
            if step % 4 == 0:
                save(step)
        save(step)
    return run, model


def test_interrupted_and_resumed_run_equals_one_run(tmp_path):
    _, straight = _train(tmp_path / "a", 20)
    run, _ = _train(tmp_path / "b", 20, stop_at=9)
    assert run.interrupted and run.stopped_by == "SIGINT" and finish(run) == 130
    assert json.loads((tmp_path / "b" / "checkpoint.json").read_text())["step"] == 9
    _, resumed = _train(tmp_path / "b", 20, resume=True)
    for k, v in straight.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    a = (tmp_path / "a" / "metrics.csv").read_text().splitlines()
    b = (tmp_path / "b" / "metrics.csv").read_text().splitlines()
    def step_and_loss(rows):  # the seconds column differs between runs
        return [(r.split(",")[0], r.split(",")[2]) for r in rows]

    assert step_and_loss(a) == step_and_loss(b) and len(a) == 21


def test_signal_handlers_are_restored(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    _train(tmp_path / "a", 2)
    assert signal.getsignal(signal.SIGINT) is before


def test_time_budget_stops_and_the_run_extends(tmp_path):
    run, _ = _train(tmp_path / "a", 10**9, budget=0.2)
    assert not run.interrupted and run.stopped_by == "time budget" and finish(run) == 0
    step = json.loads((tmp_path / "a" / "checkpoint.json").read_text())["step"]
    assert 0 < step < 10**9


def test_run_folder_errors(tmp_path):
    with pytest.raises(RunError, match="no checkpoint"):
        TrainRun(tmp_path / "x", family="t", config={}, resume=True)
    _train(tmp_path / "a", 2)
    with pytest.raises(RunError, match="already holds a run"):
        TrainRun(tmp_path / "a", family="test", config={"steps": 2, "lr": 0.05, "seed": 3})
    with pytest.raises(RunError, match=r"differs .*\['lr'\]"):
        TrainRun(tmp_path / "a", family="test", config={"steps": 9, "lr": 0.5, "seed": 3}, resume=True)
    with pytest.raises(RunError, match="holds a 'test' run"):
        TrainRun(tmp_path / "a", family="other", config={}, resume=True)
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(ValueError, match="is a file"):
        TrainRun(f, family="t", config={})


def test_a_torn_checkpoint_is_refused(tmp_path):
    _train(tmp_path / "a", 4)
    p = tmp_path / "a" / "checkpoint.safetensors"
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(RunError, match="disagree"):
        TrainRun(tmp_path / "a", family="test", config={"steps": 8, "lr": 0.05, "seed": 3}, resume=True).restore()


def test_metrics_columns_are_fixed_by_the_first_row(tmp_path):
    run = TrainRun(tmp_path / "m", family="t", config={}, progress=False)
    run.log(1, loss=1.0)
    with pytest.raises(ValueError, match="first row"):
        run.log(2, loss=1.0, acc=0.5)


def test_ship_writes_a_typed_card(tmp_path):
    from packzoo.zoo.weights import load_card, load_weights

    run, model = _train(tmp_path / "a", 3)
    card = run.ship("tiny", module_tensors("model", model), config={"hidden": 8}, metrics={"loss": 0.1},
                    dataset="synthetic", check={"limits": {}, "metrics": {"loss": 0.1}}, directory=tmp_path / "w")
    again = load_card("tiny", tmp_path / "w")
    assert again == card and again.family == "test" and again.recipe == "packzoo train test --steps 3"
    assert again.train_config == {"steps": 3, "lr": 0.05, "seed": 3} and again.training["seconds"] >= 0
    assert set(load_weights("tiny", tmp_path / "w")) == set(module_tensors("model", model))
