"""Speed of the packing core: env steps per second and batched LSA orders per second.

Run: .venv/bin/python benchmarks/bench_env.py [--quick]

Prints:
- env steps/s of both envs at N=10 under a random masked policy, stepped from a plain Python loop;
- orders/s of ``evaluate_orders`` at N = 8, 10, 12 with batch 128, on one core and on all cores
  (numba threads), and the ratio to the issue's target of 30,000 orders/s of 10 items on one core.
For scale (the issue's figures, same kind of machine): Jumanji's BinPack-v2 (JAX, 20 items) ran about
260 steps/s from a Python loop and about 6,000 steps/s vmapped over 128 environments.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from packzoo.envs import BinPack3DEnv, BinPack3DPlaceEnv, evaluate_orders, uniform


def env_steps_per_second(cls, n_items: int, seconds: float, seed: int = 0) -> tuple[float, int]:
    env = cls(n_items=n_items)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    steps, episodes = 0, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        _, _, term, trunc, _ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
        steps += 1
        if term or trunc:
            episodes += 1
            env.reset()
    return steps / (time.perf_counter() - t0), episodes


def orders_per_second(n: int, batch: int, parallel: bool, repeats: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    dims = np.stack([uniform(n, seed=(seed, n, b)).dims for b in range(batch)])
    ords = np.stack([rng.permutation(n) for _ in range(batch)])
    evaluate_orders(dims, ords, parallel=parallel)  # compile / load from cache
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(20):
            evaluate_orders(dims, ords, parallel=parallel)
        best = max(best, 20 * batch / (time.perf_counter() - t0))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter timings")
    args = ap.parse_args()
    secs = 1.0 if args.quick else 3.0
    reps = 2 if args.quick else 5
    print("env steps/s, N=10, random masked policy, plain Python loop")
    for cls in (BinPack3DEnv, BinPack3DPlaceEnv):
        env_steps_per_second(cls, 10, 0.2)  # warm up
        sps, eps = env_steps_per_second(cls, 10, secs)
        print(f"  {cls.__name__:18s} {sps:9.0f} steps/s  ({eps} episodes)")
    print("evaluate_orders, batch 128 (best of repeats)")
    for n in (8, 10, 12):
        one = orders_per_second(n, 128, False, reps)
        par = orders_per_second(n, 128, True, reps)
        print(f"  N={n:2d}  1 core {one:9.0f} orders/s   all cores {par:9.0f} orders/s")
        if n == 10:
            print(f"        ratio to the 30,000 orders/s target on one core: {one / 30000:.2f}")


if __name__ == "__main__":
    main()
