"""Stable-Baselines3 agents: training, pickling under SubprocVecEnv, safetensors round trips, the zoo.

The learning test compares against the *exact* expected surface of the random-order solver: at
N=4 all 24 orders are evaluated under LSA, so "beats random" is not a lucky draw of the baseline.
"""

from __future__ import annotations

import csv
import json
import pickle
import shlex
import shutil
from itertools import permutations

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sb3_contrib")

import packzoo  # noqa: E402,F401
from packzoo.envs import evaluate_orders, lower_bound, uniform, validate  # noqa: E402
from packzoo.envs.generators import TRAIN_SEED_BASE  # noqa: E402
from packzoo.solvers import check_solver, create_solver  # noqa: E402
from packzoo.solvers.sb3 import SHIPPED, SB3Solver  # noqa: E402
from packzoo.train.sb3 import (  # noqa: E402
    EnvFactory,
    TrainConfig,
    TrainingGenerator,
    cli,
    config_to_command,
    make_vec_env,
    parse_config,
    save_agent,
    validation_set,
)
from packzoo.zoo.sb3.agent import load_agent, make_play_env, masked_action, play  # noqa: E402
from packzoo.zoo.weights import WeightsError  # noqa: E402

torch.set_num_threads(1)

N4_ARGS = ["--algo", "maskable-ppo", "--env", "packzoo/BinPack3D-v0", "--n-items", "4", "--timesteps", "3000",
           "--n-envs", "4", "--n-steps", "32", "--batch-size", "64", "--learning-rate", "0.002",
           "--eval-every", "1000", "--eval-instances", "32", "--seed", "0", "--no-progress"]


@pytest.fixture(scope="module")
def n4_run(tmp_path_factory):
    """A short MaskablePPO run at N=4 through the CLI (trained once for the module)."""
    out = tmp_path_factory.mktemp("sb3") / "n4"
    assert cli([*N4_ARGS, "--out", str(out)]) == 0
    return out


def test_short_maskable_ppo_run_beats_the_random_order_solver(n4_run):
    test = [uniform(4, seed=(4242, k)) for k in range(30)]  # not training seeds (those are >= 1e9)
    perms = np.array(list(permutations(range(4))))
    # The random-order solver's expected surface, exactly: the mean over all 24 orders under LSA.
    expected_random = np.array([evaluate_orders(np.repeat(i.dims[None], 24, 0), perms).mean() for i in test])
    agent = SB3Solver(path=n4_run / "best.safetensors")
    surfaces = []
    for inst in test:
        p = agent.solve(inst, seed=0).packing
        assert validate(p) == []
        surfaces.append(p.surface_area)
    surfaces = np.array(surfaces)
    diff = surfaces - expected_random
    # At least 1% better on average, and by more than two standard errors of the paired difference.
    assert surfaces.mean() < 0.99 * expected_random.mean(), (surfaces.mean(), expected_random.mean())
    assert diff.mean() < -2 * diff.std(ddof=1) / np.sqrt(len(test))
    # The actual random solver (one draw per instance) is beaten too, and so is the untrained agent.
    rnd = create_solver("random")
    assert surfaces.mean() < np.mean([rnd.solve(i, seed=k).packing.surface_area for k, i in enumerate(test)])
    cfg = TrainConfig.from_dict(json.loads((n4_run / "best.json").read_text())["train_config"])
    untrained = cfg.build()
    env = make_play_env(cfg.agent())
    assert surfaces.mean() < np.mean([play(untrained, i, env).surface_area for i in test])


def test_run_directory_log_checkpoint_and_resume(n4_run, tmp_path):
    rows = list(csv.DictReader(open(n4_run / "metrics.csv")))
    assert [int(r["step"]) for r in rows][:4] == [0, 1000, 2000, 3000]
    assert all(float(r["val_ratio"]) >= 1.0 for r in rows)  # a ratio to a lower bound
    assert float(rows[-1]["best_val_ratio"]) == min(float(r["val_ratio"]) for r in rows)
    best = json.loads((n4_run / "best.json").read_text())
    assert best["recipe"].startswith("packzoo train sb3 --algo maskable-ppo")
    assert best["metrics"]["val_mean_ratio"] == pytest.approx(float(rows[-1]["best_val_ratio"]), abs=1e-4)
    # Resume from the checkpoint and go further: counters continue, the log keeps its rows.
    out = tmp_path / "resumed"
    shutil.copytree(n4_run, out)
    args = [a if a != "3000" else "4000" for a in N4_ARGS]
    assert cli([*args, "--out", str(out), "--resume"]) == 0
    again = list(csv.DictReader(open(out / "metrics.csv")))
    assert again[: len(rows)] == rows[: len(again[: len(rows)])]
    assert int(again[-1]["step"]) >= 4000
    assert json.loads((out / "summary.json").read_text())["timesteps"] >= 4000
    # A different config cannot resume that run.
    other = [a if a != "0.002" else "0.001" for a in args]
    with pytest.raises(ValueError, match=r"differs from the saved run in \['learning_rate'\]"):
        cli([*other, "--out", str(out), "--resume"])


def test_cli_rejects_bad_input(tmp_path, capsys):
    assert cli(["--algo", "sac", "--out", str(tmp_path / "x")]) == 2
    assert "algo must be one of" in capsys.readouterr().err
    assert cli(["--n-items", "0", "--out", str(tmp_path / "x")]) == 2
    assert cli(["--net-arch", "a,b", "--out", str(tmp_path / "x")]) == 2
    with pytest.raises(ValueError, match="max_items"):
        TrainConfig(n_items=10, max_items=8)


def test_recipe_command_rebuilds_the_config():
    cfg = TrainConfig(algo="ppo", env_id="packzoo/BinPack3DPlace-v0", n_items=8, max_items=10, max_ems=12,
                      net_arch=[32, 16], learning_rate=0.001, grow_prior=30.0, max_minutes=5.0, vec="subproc")
    argv = shlex.split(config_to_command(cfg, "runs/x"))
    assert argv[:3] == ["packzoo", "train", "sb3"]
    again, args = parse_config(argv[3:])
    assert again == cfg and args.out == "runs/x"


@pytest.mark.parametrize("env_id", ["packzoo/BinPack3D-v0", "packzoo/BinPack3DPlace-v0"])
def test_envs_pickle_and_run_under_subproc_vec_env(env_id):
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    cfg = TrainConfig(env_id=env_id, n_items=5, max_ems=12 if "Place" in env_id else None)
    # The env itself pickles mid-episode and the copy carries on identically.
    env = gym.make(env_id, **cfg.env_kwargs())
    env.reset(seed=3)
    env.step(int(np.flatnonzero(env.unwrapped.action_masks())[0]))
    twin = pickle.loads(pickle.dumps(env))
    a = int(np.flatnonzero(env.unwrapped.action_masks())[-1])
    o1, r1, *_ = env.step(a)
    o2, r2, *_ = twin.step(a)
    assert r1 == r2 and all(np.array_equal(o1[k], o2[k]) for k in o1)
    # SubprocVecEnv (worker processes: the factories and envs cross process boundaries) steps
    # exactly like DummyVecEnv from the same seeds.
    fns = [EnvFactory(env_id, cfg.env_kwargs(), seed=10 + i) for i in range(2)]
    # The factories pickle with plain pickle (stricter than the cloudpickle SB3 uses), so
    # forkserver/spawn workers can rebuild the envs; the workers here are forked because a fresh
    # worker spends seconds importing torch.
    clones = [pickle.loads(pickle.dumps(f)) for f in fns]
    sub, dummy = SubprocVecEnv(clones, start_method="fork"), DummyVecEnv(fns)
    try:
        obs_s, obs_d = sub.reset(), dummy.reset()
        for _ in range(2 * cfg.n_items + 1):  # runs through an auto-reset
            assert all(np.array_equal(obs_s[k], obs_d[k]) for k in obs_s)
            masks = np.stack(sub.env_method("action_masks"))
            assert np.array_equal(masks, np.stack(dummy.env_method("action_masks")))
            actions = np.array([np.flatnonzero(m)[0] for m in masks])
            obs_s, rew_s, done_s, _ = sub.step(actions)
            obs_d, rew_d, done_d, _ = dummy.step(actions)
            # DummyVecEnv buffers rewards as float32, SubprocVecEnv keeps float64.
            assert np.allclose(rew_s, rew_d, rtol=1e-6) and np.array_equal(done_s, done_d)
    finally:
        sub.close()
        dummy.close()


def test_training_instances_never_use_the_named_sets_seeds():
    gen = TrainingGenerator("uniform", 10)
    rng = np.random.default_rng(0)
    from packzoo.envs import instance_set

    named = {inst.dims.tobytes() for inst in instance_set("uniform-n10", 200)}
    drawn = [gen(rng) for _ in range(50)]
    assert all(i.n == 10 for i in drawn)
    assert not named & {i.dims.tobytes() for i in drawn}
    val = validation_set(TrainConfig(eval_instances=20))
    assert not named & {i.dims.tobytes() for i in val}
    assert TRAIN_SEED_BASE > 20_170_200  # the named sets' base seeds are below it


@pytest.mark.parametrize("algo", ["maskable-ppo", "ppo", "a2c", "dqn"])
@pytest.mark.parametrize("env_id", ["packzoo/BinPack3D-v0", "packzoo/BinPack3DPlace-v0"])
def test_saved_agent_reloads_and_acts_identically(tmp_path, algo, env_id):
    cfg = TrainConfig(algo=algo, env_id=env_id, n_items=5, max_items=6, timesteps=200, n_steps=16, batch_size=32,
                      n_envs=2, net_arch=[16], seed=1)
    if algo != "maskable-ppo":
        assert cfg.env_kwargs()["invalid_action"] == "penalize"  # the plain algorithms cannot see masks
    model = cfg.build(make_vec_env(cfg))
    model.learn(64)  # move the weights off their initial values
    save_agent(model, cfg, "agent", tmp_path, recipe="test")
    again, cfg2, card = load_agent("agent", tmp_path)
    assert cfg2 == cfg.agent() and card.family == "sb3" and card.train_config == cfg.to_dict()
    env = make_play_env(cfg.agent())
    for k in range(3):
        inst = uniform(5 if k else 6, seed=(TRAIN_SEED_BASE + 99, k))
        obs, _ = env.reset(options={"instance": inst})
        done = False
        while not done:  # same action, step by step, from the original and the reloaded agent
            a = masked_action(model, obs, env.action_masks())
            assert a == masked_action(again, obs, env.action_masks())
            obs, _, done, _, _ = env.step(a)
    sol = SB3Solver(path=tmp_path / "agent.safetensors", env_id=env_id)
    inst = uniform(6, seed=5)
    got = sol.solve(inst, seed=1).packing
    assert [q.to_list() for q in got.placements] == [q.to_list() for q in play(model, inst, make_play_env(cfg.agent())).placements]


def test_maskable_ppo_masked_action_is_its_deterministic_predict(tmp_path):
    cfg = TrainConfig(env_id="packzoo/BinPack3DPlace-v0", n_items=4, max_ems=8, net_arch=[16], grow_prior=5.0)
    model = cfg.build()
    env = make_play_env(cfg.agent())
    obs, _ = env.reset(seed=2)
    done = False
    while not done:
        a = masked_action(model, obs, env.action_masks())
        pred, _ = model.predict(obs, deterministic=True, action_masks=env.action_masks())
        assert a == int(pred)
        obs, _, done, _, _ = env.step(a)


def test_tampered_or_mismatched_weights_are_refused(tmp_path):
    cfg = TrainConfig(n_items=4, net_arch=[8])
    save_agent(cfg.build(), cfg, "a", tmp_path)
    data = bytearray((tmp_path / "a.safetensors").read_bytes())
    data[-3] ^= 0xFF
    (tmp_path / "a.safetensors").write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256"):
        load_agent("a", tmp_path)
    # A valid file whose card describes another architecture.
    save_agent(cfg.build(), cfg, "b", tmp_path)
    card = json.loads((tmp_path / "b.json").read_text())
    card["config"]["net_arch"] = [9]
    (tmp_path / "b.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="do not fit"):
        load_agent("b", tmp_path)
    with pytest.raises(ValueError, match="exactly one"):
        SB3Solver()
    with pytest.raises(ValueError, match="no weights card"):
        SB3Solver(path=tmp_path / "missing.safetensors").solve(uniform(3, seed=0))


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_agents_load_hash_checked_and_conform(name, tmp_path):
    from packzoo.zoo import create_model, list_models, model_card
    from packzoo.zoo.weights import WEIGHTS_DIR

    assert name in list_models("sb3-*")
    card = model_card(name)
    assert card.family == "sb3" and card.weights.sha256 and card.weights.recipe.startswith("packzoo train sb3")
    model = create_model(name, pretrained=True)
    assert model.__class__.__name__ == "MaskablePPO"
    solver = create_solver(name)
    check_solver(solver)  # 6-item instances: the N=10 agents pad; the online agent gets a cut container
    if "online" in name:  # packs its mode, container: the first arrivals, in order, on held-out sequences
        from packzoo.solvers.base import UnsupportedMode
        from packzoo.zoo.sb3.agent import held_out_instances

        inst = held_out_instances(card.weights.train_config, 1)[0]
        p = solver.solve(inst, seed=0).packing
        assert validate(p) == [] and p.order == list(range(p.items_packed)) and p.ratio >= 1.0
        with pytest.raises(UnsupportedMode):
            solver.solve(uniform(10, seed=0))
        other = "packzoo/BinPack3DPlace-v0"
    else:
        inst = uniform(10, seed=(TRAIN_SEED_BASE + 7, 0))
        p = solver.solve(inst, seed=0).packing
        assert validate(p) == [] and p.surface_area >= lower_bound(inst)
        with pytest.raises(ValueError, match="at most 10"):
            solver.solve(uniform(11, seed=0))
        other = "packzoo/BinPack3D-v0" if "place" in name else "packzoo/BinPack3DPlace-v0"
    with pytest.raises(ValueError, match="trained on"):
        SB3Solver(weights=name, env_id=other).solve(inst)
    # The shipped weights' hash is checked: a corrupted copy is refused.
    for ext in (".safetensors", ".json"):
        shutil.copy(WEIGHTS_DIR / f"{name}{ext}", tmp_path / f"{name}{ext}")
    data = bytearray((tmp_path / f"{name}.safetensors").read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / f"{name}.safetensors").write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256"):
        load_agent(name, tmp_path)
    fresh = create_model(name, pretrained=False)
    assert set(fresh.policy.state_dict()) == set(model.policy.state_dict())


def test_ctrl_c_stops_training_cleanly_and_resumes(tmp_path):
    import os
    import signal
    import threading

    out = tmp_path / "int"
    args = ["--algo", "maskable-ppo", "--n-items", "4", "--steps", "1000000", "--n-envs", "2", "--n-steps", "32",
            "--batch-size", "64", "--eval-every", "500", "--eval-instances", "8", "--no-progress"]
    threading.Timer(2.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    assert cli([*args, "--out", str(out)]) == 130
    done = json.loads((out / "checkpoint.json").read_text())["step"]
    assert 0 < done < 1_000_000 and (out / "best.safetensors").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    more = [a if a != "1000000" else str(done + 200) for a in args]
    assert cli([*more, "--out", str(out), "--resume"]) == 0
    assert json.loads((out / "summary.json").read_text())["timesteps"] >= done + 200


# -- issue 14: every mode, and the online env ------------------------------------------------------
ONLINE_ARGS = ["--env", "packzoo/BinPack3DOnline-v0", "--steps", "512", "--n-envs", "2", "--n-steps", "64",
               "--batch-size", "64", "--eval-every", "256", "--eval-instances", "4", "--net-arch", "16",
               "--n-items", "40", "--no-progress"]


def test_online_config_defaults_are_zhaos_setting():
    cfg = TrainConfig(env_id="packzoo/BinPack3DOnline-v0")
    assert (cfg.mode, cfg.n_items, cfg.generator, cfg.max_ems, cfg.max_items) == ("container", 100, "types", 64, 1000)
    spec = cfg.generator_spec()
    assert spec.support == 0.8 and spec.container == (10, 10, 10)
    assert TrainConfig(env_id="packzoo/BinPack3DOnline-v0", support=0).generator_spec().support is None
    assert TrainConfig().generator == "uniform" and TrainConfig().mode == "free"  # the free bin as before
    with pytest.raises(ValueError, match="lookahead"):
        TrainConfig(lookahead=2)  # the item env has no arrivals
    with pytest.raises(ValueError, match="container_cut"):
        TrainConfig(mode="bins", generator="container_cut")


def test_online_recipe_command_rebuilds_the_config():
    cfg = TrainConfig(env_id="packzoo/BinPack3DOnline-v0", lookahead=3, container=[8, 8, 12], support=0.9,
                      orientations="upright", max_weight=500.0, n_items=60)
    argv = shlex.split(config_to_command(cfg, "runs/y"))
    again, _ = parse_config(argv[3:])
    assert again == cfg


def test_tiny_online_run_plumbing(tmp_path, monkeypatch):
    """Only the plumbing: a 512-step run trains, logs the mode's figures, saves an agent that
    reloads and packs valid online packings (that it beats random is the benchmark's business)."""
    out = tmp_path / "online"
    assert cli([*ONLINE_ARGS, "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert rows and all(0 < float(r["val_utilisation"]) <= 1 for r in rows) and rows[0]["val_surface"] == ""
    card = json.loads((out / "best.json").read_text())
    assert card["config"]["env_id"] == "packzoo/BinPack3DOnline-v0" and card["config"]["mode"] == "container"
    assert "online (lookahead 1)" in card["dataset"] and set(card["metrics"]) >= {"val_mean_ratio", "val_mean_utilisation"}
    model, agent, _ = load_agent("best", out)
    from packzoo.zoo.sb3.agent import evaluate_agent, held_out_instances

    insts = held_out_instances(card["train_config"], 3)
    assert all(i.n == 40 and i.support == 0.8 for i in insts)
    env = make_play_env(agent)
    for inst in insts:
        p = play(model, inst, env)
        assert validate(p) == [] and p.packed_volume > 0
        # Online: the items packed are the first arrivals, in their order.
        assert p.order == list(range(p.items_packed))
    m = evaluate_agent(model, agent, insts)
    assert m["instances"] == 3 and m["mean_utilisation"] == pytest.approx(
        np.mean([play(model, i, env).utilisation for i in insts]))
    assert m["mean_ratio"] >= 1.0
    # Shipping: the check repeats on held-out instances, and the card records the test figures.
    import packzoo.train.sb3 as trainer
    from packzoo.zoo.weights import load_card as zoo_card

    monkeypatch.setattr(trainer, "TEST_INSTANCES", 5)
    trainer.ship(out, "online-x", directory=tmp_path / "zoo")
    shipped = zoo_card("online-x", tmp_path / "zoo")
    assert shipped.check["limits"] == {"instances": 10} and set(shipped.check["metrics"]) == {"mean_utilisation"}
    assert shipped.metrics["test"]["instances"] == 5 and "bench_sb3_online.py" in shipped.metrics["test"]["command"]
    again = evaluate_agent(*load_agent("online-x", tmp_path / "zoo")[:2], held_out_instances(card["train_config"], 10))
    assert again["mean_utilisation"] == shipped.check["metrics"]["mean_utilisation"]


@pytest.mark.parametrize("mode", ["bins", "base"])
def test_place_env_agents_train_on_other_modes(tmp_path, mode):
    cfg = TrainConfig(env_id="packzoo/BinPack3DPlace-v0", mode=mode, n_items=5, max_ems=8, timesteps=64,
                      n_steps=16, batch_size=32, n_envs=2, net_arch=[8], support=0.8 if mode == "base" else None)
    model = cfg.build(make_vec_env(cfg))
    model.learn(64)
    save_agent(model, cfg, "agent", tmp_path)
    again, agent, _ = load_agent("agent", tmp_path)
    assert agent.mode == mode and make_play_env(agent).observe_mode
    from packzoo.zoo.sb3.agent import evaluate_agent

    m = evaluate_agent(again, agent, validation_set(cfg)[:3])
    assert m["mean_ratio"] >= 1.0 and 0 < m["mean_utilisation"] <= 1
