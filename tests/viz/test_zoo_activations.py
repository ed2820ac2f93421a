"""The activations family's report figures build from the shipped cards and weights."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from packzoo.viz.zoo_activations import activation_figure, error_points, error_vs_params, zoo_figures
from packzoo.zoo import create_model, has_weights


def test_activation_figure_draws_every_learned_layer():
    if not has_weights("shallow-learned-act"):
        pytest.skip("shallow-learned-act ships no weights")
    fig = activation_figure("shallow-learned-act")
    model = create_model("shallow-learned-act", pretrained=True)
    layers = {t.legendgroup for t in fig.data}
    assert layers == {f"layer {i + 1}" for i in range(len(model.learned_activations()))}
    # The curve is the module's function: the figure's y at x is f(x).
    import torch

    act = model.learned_activations()[0]
    trace = next(t for t in fig.data if t.legendgroup == "layer 1")
    x = torch.tensor(trace.x[::40], dtype=torch.float32)
    with torch.no_grad():
        want = act(x.unsqueeze(-1)).squeeze(-1) if act.spec.units is None else act(x.unsqueeze(-1).expand(-1, act.spec.units))[:, 0]
    assert [round(v, 5) for v in want.tolist()] == [round(v, 5) for v in trace.y[::40]]


def test_error_vs_params_has_a_point_per_shipped_model():
    pts = error_points()
    fig = error_vs_params()
    n = sum(len(v) for v in pts.values())
    assert len(fig.data) == n
    for task, rows in pts.items():
        for r in rows:
            assert r["params"] > 0 and r["error"] >= 0
            if task == "mnist1d":
                assert r["error"] < 0.9  # better than chance


def test_zoo_figures_are_titled_figures():
    figs = zoo_figures()
    assert figs and all(isinstance(f, go.Figure) and t for t, f in figs)
    assert any("against parameters" in t for t, _ in figs)
