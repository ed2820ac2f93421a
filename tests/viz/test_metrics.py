"""Leaderboard charts, gap histograms and training curves plot exactly the numbers they are given."""

from __future__ import annotations

import json

import pytest

from packzoo.viz import gap_histogram, leaderboard_figure, load_leaderboard, read_metrics_csv, training_curves
from packzoo.viz.metrics import scores, solver_colors


def valid_values(lb, solver, metric):
    return sorted(r[metric] for r in lb["results"] if r["solver"] == solver and r["valid"])


def test_load_leaderboard_from_dict_file_and_folder(small_lb, tmp_path):
    (tmp_path / "leaderboard.json").write_text(json.dumps(small_lb))
    assert load_leaderboard(small_lb)["set"] == "uniform-n8"
    assert load_leaderboard(tmp_path)["results"] == small_lb["results"]
    assert load_leaderboard(tmp_path / "leaderboard.json")["set"] == "uniform-n8"
    with pytest.raises(FileNotFoundError):
        load_leaderboard(tmp_path / "nope")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_leaderboard(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="'results'"):
        load_leaderboard({"set": "uniform-n8"})
    with pytest.raises(ValueError, match="solver"):
        load_leaderboard({"set": "x", "results": [{"instance": 0}]})
    with pytest.raises(ValueError, match="dict or a path"):
        load_leaderboard(3)


def test_leaderboard_boxes_hold_the_valid_gaps(small_lb):
    fig = leaderboard_figure(small_lb)
    assert [t.type for t in fig.data] == ["box", "box"]
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"random", "sort-volume"}
    for s, t in by_name.items():
        assert sorted(t.y) == pytest.approx(valid_values(small_lb, s, "gap"))
    # the corrupted result (random, instance 2) is not plotted
    assert len(by_name["random"].y) == 2 and 2 not in list(by_name["random"].customdata)
    assert "gap" in fig.layout.yaxis.title.text
    # best median first
    med = [sorted(t.y)[len(t.y) // 2] if len(t.y) % 2 else sum(sorted(t.y)[len(t.y) // 2 - 1 : len(t.y) // 2 + 1]) / 2
           for t in fig.data]
    assert med == sorted(med)
    # ratio to the lower bound on request
    fig2 = leaderboard_figure(small_lb, metric="ratio_lb")
    for t in fig2.data:
        assert sorted(t.y) == pytest.approx(valid_values(small_lb, t.name, "ratio_lb"))
        assert min(t.y) >= 1.0  # nothing beats the lower bound


def test_leaderboard_falls_back_to_ratio_without_gaps(small_lb):
    lb = json.loads(json.dumps(small_lb))
    for r in lb["results"]:
        r["gap"] = None
    fig = leaderboard_figure(lb)
    assert "lower bound" in fig.layout.yaxis.title.text
    with pytest.raises(ValueError, match="metric"):
        leaderboard_figure(lb, metric="speed")
    for r in lb["results"]:
        r["valid"] = False
    with pytest.raises(ValueError, match="no valid result"):
        leaderboard_figure(lb)


def test_gap_histogram(small_lb):
    fig = gap_histogram(small_lb, nbins=10)
    assert {t.name for t in fig.data} == {"random", "sort-volume"}
    for t in fig.data:
        assert sorted(t.x) == pytest.approx(valid_values(small_lb, t.name, "gap"))
    assert fig.layout.barmode == "overlay"
    # same bins for every solver, so bars line up
    assert len({(t.xbins.start, t.xbins.size) for t in fig.data}) == 1
    # colours agree with the box plot's
    colors = solver_colors(small_lb)
    assert {t.name: t.marker.color for t in fig.data} == colors
    assert {t.name: t.marker.color for t in leaderboard_figure(small_lb).data} == colors
    with pytest.raises(ValueError, match="nbins"):
        gap_histogram(small_lb, nbins=0)


def test_scores_skip_invalid(small_lb):
    s = scores(small_lb, "surface")
    assert [k for k, _ in s["random"]] == [0, 1]
    assert [k for k, _ in s["sort-volume"]] == [0, 1, 2]


def test_training_curves_read_csv(tmp_path):
    a = tmp_path / "ptrnet" / "metrics.csv"
    a.parent.mkdir()
    a.write_text("step,loss,mean_ratio,note\n0,2.5,1.30,start\n10,1.5,,x\n20,0.5,1.10,end\n")
    b = tmp_path / "sb3.csv"
    b.write_text("timesteps,mean_ratio,ep_rew\n100,1.25,-1.25\n200,1.15,-1.15\n")
    xcol, series = read_metrics_csv(a)
    assert xcol == "step"
    assert series["loss"] == [(0.0, 2.5), (10.0, 1.5), (20.0, 0.5)]
    assert series["mean_ratio"] == [(0.0, 1.30), (20.0, 1.10)]  # empty cell skipped
    assert "note" not in series  # not numeric
    fig = training_curves([a, b])
    lines = {(t.name, t.yaxis): (list(t.x), list(t.y)) for t in fig.data}
    titles = [ann.text for ann in fig.layout.annotations]
    # steps and timesteps are different units: the same metric gets a panel per x column
    assert titles == ["loss (by step)", "mean_ratio (by step)", "mean_ratio (by timesteps)", "ep_rew (by timesteps)"]
    assert lines[("ptrnet/metrics", "y")] == ([0.0, 10.0, 20.0], [2.5, 1.5, 0.5])
    assert lines[("ptrnet/metrics", "y2")] == ([0.0, 20.0], [1.30, 1.10])
    assert lines[("sb3", "y3")] == ([100.0, 200.0], [1.25, 1.15])
    assert lines[("sb3", "y4")] == ([100.0, 200.0], [-1.25, -1.15])
    assert len(fig.data) == 4
    assert [fig.layout[f"xaxis{k if k > 1 else ''}"].title.text for k in range(1, 5)] == ["step"] * 2 + ["timesteps"] * 2
    same = tmp_path / "sb3b.csv"
    same.write_text("timesteps,mean_ratio\n100,1.3\n")
    assert [a.text for a in training_curves([b, same]).layout.annotations] == ["mean_ratio", "ep_rew"]
    # a legend entry per log, once
    assert sorted(t.name for t in fig.data if t.showlegend) == ["ptrnet/metrics", "sb3"]
    only = training_curves({"pointer net": a}, metrics=["loss"])
    assert [t.name for t in only.data] == ["pointer net"]


def test_training_curves_bad_logs(tmp_path):
    noc = tmp_path / "no_step.csv"
    noc.write_text("epoch,loss\n1,2\n")
    with pytest.raises(ValueError, match="no x column"):
        training_curves(noc)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="header"):
        training_curves(empty)
    text = tmp_path / "text.csv"
    text.write_text("step,name\n1,a\n")
    with pytest.raises(ValueError, match="no numeric metric"):
        training_curves(text)
    good = tmp_path / "good.csv"
    good.write_text("step,loss\n1,2\n")
    with pytest.raises(ValueError, match="no log has"):
        training_curves(good, metrics=["accuracy"])
    with pytest.raises(ValueError, match="at least one"):
        training_curves([])
    with pytest.raises(FileNotFoundError):
        training_curves(tmp_path / "missing.csv")


def _lab(color):
    """CIELAB of a #rrggbb colour (D65), to measure how far apart two colours look."""
    import numpy as np

    c = np.array([int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    x, y, z = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ c
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x / 0.95047, y, z / 1.08883)]
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_twenty_solvers_get_twenty_distinct_colours(leaderboard_factory):
    import itertools

    import numpy as np

    lb = leaderboard_factory(count=1, solvers=("random",))
    names = [f"solver-{k:02d}" for k in range(20)]
    lb["results"] = [dict(lb["results"][0], solver=s, surface=1000 + k, ratio_lb=1 + k / 100, gap=k / 100)
                     for k, s in enumerate(names)]
    lb["solvers"] = {s: {"params": {}, "card": {}} for s in names}
    lb.pop("summary")
    colors = solver_colors(lb)
    # On main the palette had 10 colours: solver 10 got solver 0's.
    assert len(set(colors.values())) == 20
    closest = min(np.linalg.norm(_lab(a) - _lab(b)) for a, b in itertools.combinations(colors.values(), 2))
    assert closest > 25  # as far apart as plotly's default ten among themselves (27.7)
    assert {t.name: t.marker.color for t in leaderboard_figure(lb).data} == colors
    assert {t.name: t.marker.color for t in gap_histogram(lb).data} == colors
