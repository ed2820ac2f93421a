"""The transfer family's report pictures build from the shipped cards and weights."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from packzoo.viz import zoo_transfer  # noqa: E402


def test_precision_figure_has_a_line_per_method_and_target():
    sweep = {"seeds": [0, 1], "table": {
        "fashion59": {"10": {"identity": {"p_at_1": 0.8, "p_at_1_std": 0.0}, "hard": {"p_at_1": 0.85, "p_at_1_std": 0.01}},
                      "all": {"identity": {"p_at_1": 0.8, "p_at_1_std": 0.0}, "hard": {"p_at_1": 0.9, "p_at_1_std": 0.01}}},
        "digits": {"10": {"identity": {"p_at_1": 0.7, "p_at_1_std": 0.0}, "hard": {"p_at_1": 0.9, "p_at_1_std": 0.02}}}}}
    fig = zoo_transfer.precision_figure(sweep)
    names = [(t.name, tuple(t.x)) for t in fig.data]
    assert names == [("identity", (10, 6000)), ("hard", (10, 6000)), ("identity", (10,)), ("hard", (10,))]
    assert list(fig.data[1].y) == [0.85, 0.9]


def test_zoo_figures_from_the_shipped_models():
    figs = dict(zoo_transfer.zoo_figures())
    if zoo_transfer.sweep_table() is not None:
        fig = figs["Transfer: precision@1 against labels per tag"]
        assert {t.name for t in fig.data} >= {"identity", "hard", "random"}
    proj = figs.get("Transfer: embeddings before and after the transform")
    if proj is not None:
        # one trace per tag in each of the two panels
        assert len(proj.data) == 10 and len({t.name for t in proj.data}) == 5
        assert all(len(t.x) > 100 for t in proj.data)
