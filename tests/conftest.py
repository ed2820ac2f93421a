"""Shared fixtures: a tiny fixed instance and its known optimum."""

import numpy as np
import pytest

from packzoo.envs import Instance, cube_cut


@pytest.fixture(autouse=True)
def _work_in_a_temporary_folder(tmp_path, monkeypatch):
    """Every test runs in its own temporary folder: a relative path (results/, report.html, runs/)
    never lands in the checkout, where it would overwrite what `make run` wrote."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def tiny() -> Instance:
    """Four small items (volume 10); their optimum is a 2x2x3 box (surface 32)."""
    return Instance([[2, 1, 1], [1, 2, 1], [2, 2, 1], [1, 1, 2]])


@pytest.fixture
def cube8():
    """A cube of side 20 cut into 8 boxes, and its optimal packing."""
    return cube_cut(8, side=20, seed=5)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
