"""Online packing (packzoo/BinPack3DOnline-v0): a MaskablePPO agent against random placement and
the online heuristics, on the same held-out episodes.

Usage::

    python benchmarks/bench_sb3_online.py [--agent runs/online/best] [--episodes 200]

Every policy packs the same ``--episodes`` instances: the agent's training generator (by default
the env's, Zhao et al. 2021's setting: a 10^3 container, items of the 64 types {2..5}^3, support
0.8) drawn at the held-out seeds ``(TEST_SEED_BASE, k)`` of :mod:`packzoo.zoo.sb3.agent`, never a
training or validation seed. Every policy follows the env's protocol: items arrive in order and
the episode ends at the first arriving item that fits nowhere.

- ``random``: uniform over the feasible placements of the arriving item (the env's mask; its
  ``info["hidden"]`` is checked to be 0, so the mask holds every feasible placement), seeded per
  episode.
- ``<solver>``: the registered online solvers with ``until_misfit=True`` (the env's end):
  ``online-bph`` (Ha et al. 2017), ``lsah``, ``boundary`` (Zhao et al. 2021's baseline),
  ``online-contact``.
- ``rule:<name>``: other placement rules of the engine (:data:`packzoo.envs.fixed.PLACEMENT_RULES`)
  on the arriving item, stopping at the first misfit as the env does (``dblf``, ``ems-fit``).
- ``<solver>+skip``: the same solvers as registered by default: they leave a misfit out and go on
  with the next arrival, a different protocol from the env's (shown for reference only).
- ``agent``: the agent's deterministic masked argmax (if ``--agent`` is given).

Prints one row per policy: mean utilisation, its standard error, and the mean number of items
packed. Nothing is asserted; the figures are what they are.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def run_random(env, instances, seed: int) -> list[float]:
    out = []
    for k, inst in enumerate(instances):
        rng = np.random.default_rng((seed, k))
        env.reset(options={"instance": inst})
        done = False
        while not done:
            mask = env.action_masks()
            if not mask.any():
                _, _, done, _, info = env.step(0)
                continue
            _, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(mask))))
            if info["hidden"]:
                raise RuntimeError("the env hid feasible placements: raise max_ems for a fair random policy")
        out.append(env.packing)
    return out


def run_rule(instances, rule: str) -> list:
    from packzoo.envs.fixed import PackState

    out = []
    for inst in instances:
        state = PackState(inst)
        for t in range(inst.n):
            c = state.choose(t, rule)
            if c is None:
                break  # the env's end: the arriving item fits nowhere
            state.place(t, *c)
        out.append(state.packing())
    return out


def run_solver(instances, name: str, until_misfit: bool) -> list:
    from packzoo.solvers import create_solver

    solver = create_solver(name, until_misfit=until_misfit)
    return [solver.solve(inst, seed=0).packing for inst in instances]


def run_agent(path: str, instances) -> list:
    from packzoo.zoo.sb3.agent import load_agent, make_play_env, play, split_path

    name, directory = split_path(path)
    model, agent, _ = load_agent(name, directory)
    env = make_play_env(agent)
    return [play(model, inst, env) for inst in instances]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agent", help="a saved agent (DIR/NAME[.safetensors]), e.g. runs/online/best")
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--seed", type=int, default=0, help="seed of the random policy")
    p.add_argument("--rules", default="dblf,ems-fit")
    p.add_argument("--solvers", default="online-bph,lsah,boundary,online-contact")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    import gymnasium as gym

    import packzoo  # noqa: F401
    from packzoo.envs import validate
    from packzoo.zoo.sb3.agent import ONLINE_ENV_ID, held_out_instances, load_card, split_path

    config = {"env_id": ONLINE_ENV_ID, "n_items": 100}
    if args.agent:
        name, directory = split_path(args.agent)
        config = load_card(name, directory).train_config
    instances = held_out_instances(config, args.episodes)
    i0 = instances[0]
    print(f"{args.episodes} held-out episodes: mode {i0.mode}, container {i0.container}, support {i0.support}, "
          f"{i0.n} arrivals each")
    env = gym.make(ONLINE_ENV_ID, n_items=int(config["n_items"])).unwrapped
    policies: list[tuple[str, object]] = [("random", lambda: run_random(env, instances, args.seed))]
    solvers = [s for s in args.solvers.split(",") if s]
    policies += [(s, lambda s=s: run_solver(instances, s, True)) for s in solvers]
    policies += [(f"rule:{r}", lambda r=r: run_rule(instances, r)) for r in args.rules.split(",") if r]
    policies += [(f"{s}+skip", lambda s=s: run_solver(instances, s, False)) for s in solvers]
    if args.agent:
        policies.append(("agent", lambda: run_agent(args.agent, instances)))
    print(f"{'policy':<20} {'utilisation':>11} {'+-se':>7} {'items':>6} {'seconds':>8}")
    for label, fn in policies:
        t = time.perf_counter()
        packings = fn()
        seconds = time.perf_counter() - t
        bad = [e for q in packings for e in validate(q)]
        if bad:
            raise RuntimeError(f"{label}: invalid packing: {bad[:3]}")
        u = np.array([q.utilisation for q in packings])
        items = np.mean([q.items_packed for q in packings])
        print(f"{label:<20} {u.mean():>11.4f} {u.std(ddof=1) / np.sqrt(len(u)):>7.4f} {items:>6.1f} {seconds:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
