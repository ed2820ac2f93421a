"""The envs on every mode and constraint, and the online env (issue 14).

Oracles: the independent validator (:func:`packzoo.envs.validate`) referees every packing the envs
make; the item env's packings are compared with :func:`packzoo.envs.fixed.pack_order` (the engine
driven without the env); rewards are summed and compared with the mode's objective computed from
the final packing; small hand cases fix the online env's end and lookahead.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import packzoo
from packzoo.envs import Instance, validate
from packzoo.envs.binpack import (
    ENV_IDS,
    BinPack3DEnv,
    BinPack3DPlaceEnv,
    InstanceGenerator,
    InvalidActionError,
)
from packzoo.envs.fixed import pack_order
from packzoo.envs.online import BinPack3DOnlineEnv
from packzoo.envs.packing import bound, lower_bound

ALL = [BinPack3DEnv, BinPack3DPlaceEnv, BinPack3DOnlineEnv]


def _play(env, rng, **reset):
    """A random episode of masked actions; (return, infos)."""
    obs, info = env.reset(**reset)
    ret, infos, done = 0.0, [info], False
    while not done:
        mask = env.action_masks()
        assert np.array_equal(obs["action_mask"].astype(bool), mask)
        a = int(rng.choice(np.flatnonzero(mask))) if mask.any() else 0
        obs, r, term, trunc, info = env.step(a)
        assert not info["invalid_action"]
        assert env.observation_space.contains(obs), {k: v for k, v in obs.items() if not env.observation_space[k].contains(v)}
        ret += r
        done = term or trunc
        infos.append(info)
    return ret, infos


def _expected_return(packing, stuck_left: int) -> float:
    """The mode's return computed from the final packing alone (module doc of envs.binpack)."""
    inst = packing.instance
    if inst.mode == "container":
        return packing.packed_volume / float(np.prod(inst.container))
    if inst.mode == "free":
        objective = packing.surface_area
    elif inst.mode == "base":
        objective = packing.height
    else:
        objective = packing.bins_used
    return -objective / bound(inst) - stuck_left


# -- instances of every mode and constraint set ----------------------------------------------------
@st.composite
def instances(draw):
    mode = draw(st.sampled_from(["free", "base", "container", "bins"]))
    box = tuple(draw(st.lists(st.integers(3, 8), min_size=3, max_size=3)))
    n = draw(st.integers(1, 7))
    hi = box if mode in ("base", "bins") else (8, 8, 8)  # base and bins: every item must fit
    dims = [[draw(st.integers(1, min(hi))) for _ in range(3)] for _ in range(n)]
    orient = draw(st.sampled_from([None, "upright", "fixed", "mixed"]))
    if orient == "mixed":
        orient = [draw(st.sampled_from(["all", "upright", "fixed", (1, 4)])) for _ in range(n)]
    support = draw(st.sampled_from([None, 0.5, 0.8, 1.0]))
    kw = {"mode": mode, "orientations": orient, "support": support}
    if mode != "free":
        kw["container"] = box[:2] if mode == "base" else box
    if mode in ("container", "bins") and draw(st.booleans()):
        w = [float(draw(st.integers(1, 9))) for _ in range(n)]
        kw["weights"] = w
        kw["max_weight"] = float(max(w) + draw(st.integers(0, 12)))
    try:
        return Instance(dims, **kw)
    except ValueError:  # e.g. an item no allowed orientation fits in the base or bin
        return Instance(dims, **{**kw, "orientations": None})


def _check_final(env, infos, ret):
    packing = env.packing
    errors = validate(packing)
    last = infos[-1]
    left = env.instance.n - packing.items_packed
    if env.instance.mode == "container" or left == 0:
        assert errors == []
    else:  # a dead end (base mode with support or orientation limits): only the missing items
        assert last["stuck"] and all(e.startswith("items never placed") for e in errors), errors
    if env.reward_mode == "dense":
        assert ret == pytest.approx(_expected_return(packing, left if env.instance.mode != "container" else 0))


@settings(max_examples=60, deadline=None)
@given(inst=instances(), which=st.sampled_from([0, 1, 2]), seed=st.integers(0, 2**31))
def test_random_masked_episodes_of_every_mode_are_valid(inst, which, seed):
    kwargs = {"observe_mode": True} if which < 2 else {}
    env = ALL[which](n_items=7, **kwargs)
    rng = np.random.default_rng(seed)
    ret, infos = _play(env, rng, options={"instance": inst})
    _check_final(env, infos, ret)
    # Masked actions never broke a constraint on the way: every prefix passes the validator but
    # for the items not yet placed.
    placements = env.packing.placements
    for k in range(1, len(placements)):
        part = type(env.packing)(inst, placements[:k])
        assert all(e.startswith("items never placed") for e in validate(part))


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("mode", ["base", "container", "bins"])
def test_same_seed_same_episode_in_every_mode(cls, mode):
    kw = {"support": 0.75, "orientations": "upright"}

    def run(seed):
        env = cls(mode=mode, n_items=8, **kw)
        ret, infos = _play(env, np.random.default_rng(5), seed=seed)
        return ret, [i["placement"] for i in infos]

    a, b, c = run(3), run(3), run(4)
    assert a == b and a != c


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("kwargs", [{"mode": "container"}, {"mode": "bins", "max_weight": 400.0},
                                    {"mode": "base", "support": 0.8, "orientations": "upright"},
                                    {"mode": "free", "support": 1.0}])
def test_checkers_pass_in_every_mode(env_id, kwargs):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make(env_id, **kwargs).unwrapped)
        sb3_check_env(gym.make(env_id, **kwargs).unwrapped)


def test_registered_ids_and_defaults():
    assert packzoo.ENV_IDS == ENV_IDS and "packzoo/BinPack3DOnline-v0" in ENV_IDS
    env = gym.make("packzoo/BinPack3DOnline-v0").unwrapped
    env.reset(seed=0)
    inst = env.instance
    # Zhao et al. 2021's setting: a 10^3 container, items of the 64 types {2..5}^3, support on.
    assert inst.mode == "container" and inst.container == (10, 10, 10) and inst.support == 0.8
    assert inst.dims.min() >= 2 and inst.dims.max() <= 5 and env.action_space.n == 6 * 64


# -- observation of the mode ---------------------------------------------------------------------
def test_free_env_keeps_its_observation_and_refuses_what_it_cannot_observe():
    old_keys = {"boxes", "present", "packed", "bin", "action_mask", "ems"}
    env = BinPack3DPlaceEnv(n_items=3)
    assert set(env.observation_space.spaces) == old_keys and not env.observe_mode
    with pytest.raises(ValueError, match="observes unconstrained free-bin instances only"):
        env.reset(options={"instance": Instance([[1, 1, 1]], mode="container", container=(2, 2, 2))})
    with pytest.raises(ValueError, match="with constraints"):
        env.reset(options={"instance": Instance([[1, 1, 1]], support=0.5)})
    seen = BinPack3DPlaceEnv(n_items=3, mode="bins")
    assert seen.observe_mode and {"mode", "container", "constraints", "status", "item_weights", "ems_bin"} <= set(
        seen.observation_space.spaces)


def test_mode_observation_values():
    inst = Instance([[2, 2, 2], [4, 1, 1]], mode="bins", container=(4, 2, 2), orientations=["all", "upright"],
                    support=0.5, weights=[1.0, 3.0], max_weight=4.0)
    env = BinPack3DPlaceEnv(n_items=2, observe_mode=True)
    obs, _ = env.reset(options={"instance": inst})
    assert obs["mode"].tolist() == [0, 0, 0, 1]
    assert np.allclose(obs["container"], [1.0, 0.5, 0.5])  # over the largest dim, 4
    assert np.allclose(obs["constraints"], [0.5, 0.5, 1.0])  # 1 of 2 items limited; support; weights
    assert np.allclose(obs["item_weights"], [0.25, 0.75])
    a = env.encode_action(0, 0, 0)
    obs, *_ = env.step(a)
    assert np.allclose(obs["status"], [8 / 12, 0.5, 0.25])  # volume share; 1 bin of max 2; load 1/4


# -- rewards and rules ----------------------------------------------------------------------------
@pytest.mark.parametrize("mode, rule", [("container", "auto"), ("bins", "best-fit"), ("base", "auto"),
                                        ("container", "ems-fit"), ("free", "dblf")])
def test_item_env_packs_as_the_engine_and_returns_the_modes_ratio(mode, rule):
    gen = InstanceGenerator("uniform" if mode == "free" else "types", 12, mode, support=0.8)
    inst = gen.draw(7)
    env = BinPack3DEnv(n_items=12, placement=rule, observe_mode=True, invalid_action="raise")
    env.reset(options={"instance": inst})
    ret, order, done = 0.0, [], False
    while not done:  # the lowest available item each time: the order 0, 1, 2, ... minus misfits
        a = int(np.flatnonzero(env.action_masks())[0])
        _, r, done, _, info = env.step(a)
        ret += r
        order.append(a)
    want = pack_order(inst, order, rule)
    assert [p.to_list() for p in env.packing.placements] == [p.to_list() for p in want.placements]
    assert validate(env.packing) == []
    assert ret == pytest.approx(_expected_return(want, 0))
    if mode == "container":  # what is left fits nowhere
        assert pack_order(inst, [*order, *sorted(set(range(inst.n)) - set(order))], rule).items_packed == len(order)
        assert info["utilisation"] == pytest.approx(ret)
    else:
        assert info["ratio"] == pytest.approx(-ret)


def test_bad_mode_arguments():
    with pytest.raises(ValueError, match="mode must be one of"):
        BinPack3DEnv(mode="pallet")
    with pytest.raises(ValueError, match="placement must be"):
        BinPack3DEnv(placement="tetris")
    with pytest.raises(ValueError, match="'container_cut' makes container or base"):
        BinPack3DEnv(mode="bins", generator="container_cut")
    with pytest.raises(ValueError, match="max_weight applies"):
        BinPack3DEnv(mode="base", max_weight=3.0)
    with pytest.raises(ValueError, match="support must be"):
        BinPack3DOnlineEnv(support=1.5)
    with pytest.raises(ValueError, match="lookahead"):
        BinPack3DOnlineEnv(lookahead=0)
    with pytest.raises(ValueError, match="free' has no container"):
        BinPack3DEnv(container=(5, 5, 5))


# -- the online env --------------------------------------------------------------------------------
def test_online_episode_ends_when_the_arriving_item_fits_nowhere():
    inst = Instance([[2, 2, 1], [2, 2, 1], [1, 1, 1], [1, 1, 1]], mode="container", container=(2, 2, 2))
    env = BinPack3DOnlineEnv(invalid_action="raise")
    env.reset(options={"instance": inst})
    _, r1, term, _, _ = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert not term and r1 == pytest.approx(0.5)
    _, r2, term, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
    # Full: item 2 fits nowhere, so the episode ends (the offline envs would skip it and stop too).
    assert term and info["utilisation"] == 1.0 and r1 + r2 == pytest.approx(1.0) and not info["stuck"]
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


def test_online_lookahead_and_the_arriving_items_mask():
    inst = Instance([[3, 1, 1], [1, 2, 1], [1, 1, 1]], mode="container", container=(3, 3, 1))
    env = BinPack3DOnlineEnv(lookahead=2, support=None, max_ems=4, invalid_action="raise")
    obs, _ = env.reset(options={"instance": inst})
    assert np.allclose(obs["boxes"], np.array([3, 1, 1, 1, 2, 1]) / 3) and obs["visible"].tolist() == [1, 1]
    m = env.action_masks().reshape(6, 4)
    # 3x1x1 in a 3x3x1 container: along x (orientation 0) or along y (orientation 2), one space;
    # the other orientations stand it up (too tall) or repeat a shape.
    assert m.sum() == 2 and m[0, 0] and m[2, 0]
    with pytest.raises(InvalidActionError, match="masked out"):
        env.step(env.encode_action(1, 0))
    obs, *_ = env.step(env.encode_action(0, 0))
    assert np.allclose(obs["boxes"], np.array([1, 2, 1, 1, 1, 1]) / 3)
    obs, *_ = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert obs["visible"].tolist() == [1, 0] and np.allclose(obs["boxes"][3:], 0)
    assert validate(env.packing) == []


def test_online_random_policy_in_zhaos_setting_is_valid_and_seeded():
    utils = []
    for seed in range(3):
        env = gym.make("packzoo/BinPack3DOnline-v0").unwrapped
        ret, infos = _play(env, np.random.default_rng(seed), seed=seed)
        assert validate(env.packing) == [] and ret == pytest.approx(infos[-1]["utilisation"])
        utils.append(ret)
        # The episode ended right after a placement: the next arrival fits nowhere (or none is left).
        assert 0 < ret <= 1 and infos[-1]["placement"] is not None
        assert infos[-1]["items_left"] == 0 or not env.action_masks().any()
    env = gym.make("packzoo/BinPack3DOnline-v0").unwrapped
    assert _play(env, np.random.default_rng(0), seed=0)[0] == utils[0]


def test_online_bins_mode_opens_bins_and_never_ends_early():
    env = BinPack3DOnlineEnv(mode="bins", n_items=12)
    ret, infos = _play(env, np.random.default_rng(0), seed=1)
    p = env.packing
    assert p.items_packed == 12 and validate(p) == [] and ret == pytest.approx(-p.bins_used / bound(p.instance))
    assert lower_bound(p.instance) == bound(p.instance)


@pytest.mark.parametrize("env_id, kwargs", [("packzoo/BinPack3DOnline-v0", {}), ("packzoo/BinPack3DPlace-v0", {"mode": "bins"}),
                                            ("packzoo/BinPack3D-v0", {"mode": "base", "support": 0.8})])
def test_envs_on_packstate_pickle_mid_episode(env_id, kwargs):
    import pickle

    env = gym.make(env_id, **kwargs)
    env.reset(seed=1)
    env.step(int(np.flatnonzero(env.unwrapped.action_masks())[0]))
    twin = pickle.loads(pickle.dumps(env))  # SubprocVecEnv workers get such copies
    a = int(np.flatnonzero(env.unwrapped.action_masks())[-1])
    o1, r1, *_ = env.step(a)
    o2, r2, *_ = twin.step(a)
    assert r1 == r2 and all(np.array_equal(o1[k], o2[k]) for k in o1)
