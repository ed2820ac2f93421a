"""The quant family's report figures build from the shipped cards and weights."""

from __future__ import annotations

import plotly.graph_objects as go

from packzoo.viz.zoo_quant import accuracy_points, accuracy_vs_bits, weight_histogram, zoo_figures
from packzoo.zoo import has_weights


def test_accuracy_vs_bits_has_a_line_per_shipped_method():
    pts = accuracy_points()
    assert pts["fp"][0][0] == 32 and 0.9 < pts["fp"][0][1] <= 1.0
    fig = accuracy_vs_bits()
    names = {t.name for t in fig.data}
    assert "full precision" in names
    for method in ("admm", "ste"):
        if method in pts:
            trace = next(t for t in fig.data if t.name == method.upper())
            assert list(trace.x) == [b for b, _, _ in pts[method]]
            assert all(0 <= y <= 1 for y in trace.y)
    if "admm" in pts:
        assert "rounding" in names


def test_histogram_and_zoo_figures():
    figs = zoo_figures()
    assert all(isinstance(f, go.Figure) and t for t, f in figs)
    if has_weights("quant-resnet-fashion-admm-pow2-3bit"):
        fig = weight_histogram()
        hist, bars = fig.data[0], fig.data[1]
        assert isinstance(hist, go.Histogram) and isinstance(bars, go.Bar)
        assert len(bars.x) == 7  # the pow2-3bit levels x alpha
        assert sum(bars.y) == len(hist.x)  # every quantized weight sits on a level
