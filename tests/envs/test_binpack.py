import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import packzoo
from packzoo.envs import BinPack3DEnv, BinPack3DPlaceEnv, Instance, InvalidActionError, lower_bound, validate

ENVS = [BinPack3DEnv, BinPack3DPlaceEnv]


def _play(env, rng, instance=None, seed=None):
    obs, info = env.reset(seed=seed, options=None if instance is None else {"instance": instance})
    ret, done, infos = 0.0, False, []
    while not done:
        assert np.array_equal(obs["action_mask"].astype(bool), env.action_masks())
        a = int(rng.choice(np.flatnonzero(env.action_masks())))
        obs, r, term, trunc, info = env.step(a)
        assert env.observation_space.contains(obs)
        ret += r
        done = term or trunc
        infos.append(info)
    return ret, infos


def test_registered_on_import():
    from packzoo.envs.online import BinPack3DOnlineEnv

    for env_id in packzoo.ENV_IDS:
        env = gym.make(env_id, n_items=4)
        assert isinstance(env.unwrapped, (BinPack3DEnv, BinPack3DPlaceEnv, BinPack3DOnlineEnv))


@pytest.mark.parametrize("env_id", packzoo.ENV_IDS)
def test_checkers_pass_without_warnings(env_id):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    # The checkers step random unmasked actions: the registered defaults (invalid actions are
    # penalised) must pass them as they are (on env.unwrapped, as Gymnasium's checker asks).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make(env_id).unwrapped)
        sb3_check_env(gym.make(env_id).unwrapped)
        check_env(gym.make(env_id, n_items=5).unwrapped)


def test_raise_mode_refuses_a_masked_action():
    env = gym.make("packzoo/BinPack3D-v0", n_items=3, invalid_action="raise").unwrapped
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(InvalidActionError):
        env.step(0)


@settings(max_examples=40, deadline=None)
@given(
    dims=st.lists(st.tuples(*[st.integers(1, 12)] * 3), min_size=1, max_size=7),
    which=st.sampled_from([0, 1]),
    sparse=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_random_valid_episodes(dims, which, sparse, seed):
    inst = Instance(dims)
    env = ENVS[which](n_items=7, reward="sparse" if sparse else "dense")
    ret, infos = _play(env, np.random.default_rng(seed), instance=inst)
    packing = env.packing
    assert validate(packing) == []
    assert len(infos) == inst.n
    assert packing.surface_area >= lower_bound(inst) - 1e-9
    assert infos[-1]["surface_area"] == packing.surface_area
    assert ret == pytest.approx(-packing.surface_area / lower_bound(inst))
    assert infos[-1]["ratio"] == pytest.approx(-ret)


@pytest.mark.parametrize("cls", ENVS)
def test_same_seed_same_episode(cls):
    a = _play(cls(n_items=6), np.random.default_rng(1), seed=42)
    b = _play(cls(n_items=6), np.random.default_rng(1), seed=42)
    c = _play(cls(n_items=6), np.random.default_rng(1), seed=43)
    assert a[0] == b[0] and [i["placement"] for i in a[1]] == [i["placement"] for i in b[1]]
    assert a[0] != c[0]


def test_item_env_places_by_lsa():
    env = BinPack3DEnv(n_items=2)
    env.reset(options={"instance": Instance([[2, 1, 1], [2, 1, 1]])})
    env.step(0)
    _, _, term, _, info = env.step(1)
    assert term and info["placement"].to_list() == [1, 0, 0, 1, 0] and info["surface_area"] == 16


def test_place_env_corner_and_orientation():
    env = BinPack3DPlaceEnv(n_items=2, max_ems=4)
    env.reset(options={"instance": Instance([[3, 1, 1], [1, 1, 1]])})
    # Item 0 along y (orientation 2: (w, l, h) = (1, 3, 1)) in the only EMS; orientation 4 gives
    # the same shape, so the mask offers only the first of the two.
    assert not env.action_masks()[env.encode_action(0, 4, 0)]
    _, _, _, _, info = env.step(env.encode_action(0, 2, 0))
    assert info["placement"].to_list() == [0, 2, 0, 0, 0] and info["bin"] == (1, 3, 1)
    # A duplicate orientation of a cube is masked: only orientation 0 of item 1 is offered.
    m = env.action_masks().reshape(2, 6, 4)
    assert m[1, 1:].sum() == 0 and m[1, 0].sum() == 3 and m[0].sum() == 0


def test_padding_and_mixed_sizes():
    env = BinPack3DEnv(n_items=3, max_items=6, invalid_action="raise")
    obs, _ = env.reset(options={"instance": Instance([[1, 2, 3], [2, 2, 2]])})
    assert obs["present"].tolist() == [1, 1, 0, 0, 0, 0]
    assert env.action_masks().tolist() == [True, True, False, False, False, False]
    with pytest.raises(InvalidActionError, match="padding"):
        env.step(4)
    with pytest.raises(ValueError, match="more than max_items"):
        env.reset(options={"instance": Instance([[1, 1, 1]] * 7)})


def test_invalid_action_raises_or_penalizes():
    assert BinPack3DEnv(n_items=3).invalid_action == "penalize"  # the default passes the checkers
    env = BinPack3DEnv(n_items=3, invalid_action="raise")
    env.reset(seed=0)
    env.step(1)
    with pytest.raises(InvalidActionError, match="already packed"):
        env.step(1)
    with pytest.raises(InvalidActionError, match="outside"):
        env.step(9)
    pen = BinPack3DEnv(n_items=3, invalid_action="penalize", invalid_penalty=0.5, max_invalid=2)
    pen.reset(seed=0)
    pen.step(1)
    before = pen.packing.placements
    _, r, term, trunc, info = pen.step(1)
    assert r == -0.5 and info["invalid_action"] and not term and not trunc and pen.packing.placements == before
    _, _, _, trunc, _ = pen.step(1)
    assert trunc


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"n_items": 0}, "n_items"),
        ({"n_items": 4, "max_items": 3}, "max_items"),
        ({"generator": "gauss"}, "generator"),
        ({"reward": "shaped"}, "reward"),
        ({"invalid_action": "ignore"}, "invalid_action"),
        ({"render_mode": "rgb_array"}, "render_mode"),
        ({"instance_set": "uniform-n9"}, "unknown instance set"),
    ],
)
def test_bad_env_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        BinPack3DEnv(**kwargs)


def test_generators_and_instance_sets():
    env = BinPack3DEnv(generator="cube", n_items=8)
    env.reset(seed=3)
    assert lower_bound(env.instance) == 60000  # cube-cut of side 100
    env = BinPack3DEnv(instance_set="orders-n8")
    env.reset(seed=0)
    assert env.instance.n == 8 and env.max_items == 8
    env = BinPack3DEnv(generator=lambda rng: Instance(rng.integers(1, 5, size=(3, 3))), n_items=3)
    env.reset(seed=0)
    assert env.instance.n == 3


def test_render_ansi_and_pickle():
    env = BinPack3DPlaceEnv(n_items=3, render_mode="ansi")
    env.reset(seed=1)
    env.step(int(np.flatnonzero(env.action_masks())[0]))
    text = env.render()
    assert "1/3 items packed" in text and "orient" in text
    clone = pickle.loads(pickle.dumps(env))
    assert np.array_equal(clone.action_masks(), env.action_masks())


# -- issue 11 item 9: the env's misuse errors ----------------------------------------------------


@pytest.mark.parametrize("cls", ENVS)
def test_action_masks_before_reset_is_reset_needed(cls):
    env = cls(n_items=3)
    # On main: AttributeError ('_mask'). Gymnasium users catch ResetNeeded; old code RuntimeError.
    with pytest.raises(gym.error.ResetNeeded, match="call reset"):
        env.action_masks()
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    env.reset(seed=0)
    assert env.action_masks().any()


@pytest.mark.parametrize("bad", [1.5, 1.0, "1", None, True, np.float64(1.0), np.array([1]), np.array(1.5)])
def test_non_integer_actions_are_refused(bad):
    env = BinPack3DEnv(n_items=3, invalid_action="penalize")  # even when invalid actions only cost
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="is not an integer"):
        env.step(bad)
    assert env.packing.placements == ()  # step(1.5) used to place item 1


@pytest.mark.parametrize("good", [1, np.int64(1), np.int32(1), np.uint8(1), np.array(1)])
def test_integer_actions_of_any_kind_are_taken(good):
    env = BinPack3DEnv(n_items=3)
    env.reset(seed=0)
    env.step(good)
    assert env.packing.order == [1]


def test_unknown_reset_options_are_refused():
    env = BinPack3DEnv(n_items=3)
    with pytest.raises(ValueError, match=r"unknown reset option\(s\) \['instnace'\]; the known keys are \['instance'\]"):
        env.reset(options={"instnace": [[1, 1, 1]] * 3})
    with pytest.raises(ValueError, match="options must be a dict"):
        env.reset(options=[("instance", None)])
    env.reset(options={"instance": [[1, 2, 3]] * 2})
    env.reset(options={})
    assert env.instance.n == 3


def test_instance_set_and_a_conflicting_n_items():
    # On main n_items=10 was silently replaced by the set's 8.
    with pytest.raises(ValueError, match=r"n_items=10 conflicts with instance_set='uniform-n8', whose instances have 8"):
        BinPack3DEnv(instance_set="uniform-n8", n_items=10)
    assert BinPack3DEnv(instance_set="uniform-n8", n_items=8).n_items == 8  # agreeing is fine
    padded = BinPack3DEnv(instance_set="uniform-n8", max_items=10)
    assert padded.n_items == 8 and padded.max_items == 10
    assert BinPack3DEnv().n_items == 10  # the default without a set


# -- human rendering, as Gymnasium's convention: on every reset() and step() ---------------------


class _Recorder:
    """A picklable renderer that records the placements it was shown."""

    def __init__(self):
        self.seen = []

    def __call__(self, packing):
        self.seen.append(len(packing.placements))
        return f"frame {len(self.seen)}"


@pytest.mark.parametrize("cls", ENVS)
def test_human_mode_renders_on_reset_and_every_step(cls):
    rec = _Recorder()
    env = cls(n_items=3, render_mode="human", renderer=rec, invalid_action="penalize")
    env.reset(seed=0)
    assert rec.seen == [0]  # on main nothing was drawn until render() was called
    env.step(int(np.flatnonzero(env.action_masks())[0]))
    env.step(env.action_space.n - 1 if not env.action_masks()[-1] else 0)  # an invalid step renders too
    assert rec.seen == [0, 1, 1] and env.last_render == "frame 3"
    assert env.render() is None and rec.seen[-1] == 1
    clone = pickle.loads(pickle.dumps(env))  # SubprocVecEnv-style pickling keeps the renderer
    assert isinstance(clone.renderer, _Recorder) and clone.renderer.seen == rec.seen


def test_render_before_reset_is_reset_needed():
    env = BinPack3DEnv(n_items=3, render_mode="ansi")
    with pytest.raises(gym.error.ResetNeeded):
        env.render()
