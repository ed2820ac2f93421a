"""The offline HTML report: self-contained, plotly.js once, the table, charts and rebuilt packings, in
every container mode (its own columns and charts; packings rebuilt with their bins and checked against
the recorded objective)."""

from __future__ import annotations

import json
import re

import pytest
from plotly.offline import get_plotlyjs

from packzoo.envs import instance_set
from packzoo.solvers import create_solver
from packzoo.solvers.leaderboard import run_leaderboard
from packzoo.viz import gap_histogram, leaderboard_figure, report
from packzoo.viz.metrics import board_mode, metric_label
from packzoo.viz.report import cli, pick_instances, rebuild_packings, summarise

JS_HEAD = get_plotlyjs()[:300]


def figure_ids(text: str) -> list[str]:
    return re.findall(r'Plotly\.newPlot\(\s*"([^"]+)"', text)


def summary_table(text: str) -> dict[str, dict[str, str]]:
    """solver -> {column title: cell text} of the report's summary table, in the table's order."""
    table = re.search(r"<h2>Summary</h2>\s*<table>(.*?)</table>", text, re.S).group(1)
    header = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    rows = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table)[1:]:
        cells = dict(zip(header, re.findall(r"<td[^>]*>([^<]*)</td>", tr)))
        rows[cells["solver"]] = cells
    return rows


def check_offline(text: str) -> None:
    assert text.count(JS_HEAD) == 1, "plotly.js must be embedded exactly once"
    assert text.count(get_plotlyjs()) == 1, "the whole bundle, unchanged"
    # Outside the bundle (whose code mentions URLs it never loads here), nothing points to a network.
    page = text.replace(get_plotlyjs(), "")
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I), "no external script"
    assert not re.search(r"<link\b", page, re.I), "no external stylesheet"
    assert not re.search(r"https?://|cdn", page, re.I), "no network reference"


def test_report_is_one_offline_page(small_lb, tmp_path):
    out = report(small_lb, tmp_path / "sub" / "report.html")
    assert out == tmp_path / "sub" / "report.html" and out.exists()
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # atomic: no temp file left
    text = out.read_text(encoding="utf-8")
    check_offline(text)
    assert text.startswith("<!DOCTYPE html>")
    # 3 charts (gap boxes, gap histogram, ratio boxes), 3 instances animated, 1 comparison
    ids = figure_ids(text)
    assert len(ids) == len(set(ids)) == 7
    for i in ids:
        assert f'id="{i}"' in text
    assert "packzoo leaderboard: uniform-n8" in text
    # the summary table shows each solver's row with its numbers
    shown = summary_table(text)
    table = re.search(r"<h2>Summary</h2>\s*<table>(.*?)</table>", text, re.S).group(1)
    assert list(next(iter(shown.values())))[:3] == ["solver", "instances", "valid"]
    for row in small_lb["summary"]:
        cells = shown[row["solver"]]
        assert float(cells["mean surface"]) == pytest.approx(row["mean_surface"], abs=0.05)
        assert float(cells["mean gap"]) == pytest.approx(row["mean_gap"], abs=5e-5)
        assert int(cells["invalid"]) == row["invalid"] and int(cells["wins"]) == row["wins"]
    # the best mean gap first, highlighted
    assert list(shown) == sorted(shown, key=lambda s: float(shown[s]["mean gap"]))
    assert re.search(r'<tr class="best"><td class="name">' + re.escape(list(shown)[0]), table)
    # the invalid result is listed with its error, not scored
    assert "Invalid results (1)" in text and "items never placed" in text
    assert text.count('"type":"mesh3d"') >= 3 * 8
    # the animations wait for Play: the page opens on the complete packings
    assert "Plotly.animate(" not in text.replace(get_plotlyjs(), "")
    assert text.count("Plotly.addFrames(") == 3


def test_rebuilt_packings_match_the_results(small_lb):
    inst = instance_set("uniform-n8", 3)[1]
    packs = rebuild_packings(small_lb, 1)
    assert set(packs) == {"random", "sort-volume"}
    for name, p in packs.items():
        again = create_solver(name).solve(inst, seed=1).packing
        assert [q.to_list() for q in p.placements] == [q.to_list() for q in again.placements]
    assert set(rebuild_packings(small_lb, 2)) == {"sort-volume"}  # the corrupted result is left out
    with pytest.raises(ValueError, match="not in the set"):
        rebuild_packings(small_lb, 7)
    bad = json.loads(json.dumps(small_lb))
    bad["results"][0]["surface"] += 1
    with pytest.raises(ValueError, match="not of set"):
        rebuild_packings(bad, bad["results"][0]["instance"])


def test_pick_instances_by_spread(small_lb):
    spread = {}
    for r in small_lb["results"]:
        if r["valid"]:
            spread.setdefault(r["instance"], []).append(r["surface"])
    expected = sorted(spread, key=lambda k: (-(max(spread[k]) - min(spread[k])), k))
    assert pick_instances(small_lb, 3) == expected
    assert pick_instances(small_lb, 1) == expected[:1]


def test_summary_computed_when_missing(small_lb):
    lb = dict(small_lb)
    del lb["summary"]
    rows = {r["solver"]: r for r in summarise(lb)}
    for want in small_lb["summary"]:
        got = rows[want["solver"]]
        for key, value in want.items():
            assert got[key] == pytest.approx(value), key


def test_report_options(small_lb, tmp_path):
    log = tmp_path / "train.csv"
    log.write_text("step,loss\n0,1.0\n5,0.5\n")
    out = report(small_lb, tmp_path / "r.html", training_logs=[log], title="<b>run</b>", max_packings=0)
    text = out.read_text(encoding="utf-8")
    check_offline(text)
    assert "&lt;b&gt;run&lt;/b&gt;" in text and "<b>run</b>" not in text
    assert '"name":"item ' not in text
    assert "training curves" in text and len(figure_ids(text)) == 4
    one = report(small_lb, tmp_path / "one.html", training_logs=str(log), max_packings=0).read_text(encoding="utf-8")
    assert "training curves" in one
    with pytest.raises(ValueError, match="max_packings"):
        report(small_lb, tmp_path / "x.html", max_packings=99)
    with pytest.raises(ValueError, match="no x column"):
        bad = tmp_path / "bad.csv"
        bad.write_text("epoch,loss\n1,2\n")
        report(small_lb, tmp_path / "x.html", training_logs=[bad])
    assert not (tmp_path / "x.html").exists()


def test_report_notes_unrebuildable_packings(small_lb, tmp_path):
    bad = json.loads(json.dumps(small_lb))
    for r in bad["results"]:
        if r["surface"] is not None:
            r["surface"] += 1
    text = report(bad, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "3D views unavailable" in text
    assert len(figure_ids(text)) == 3  # the charts only


def test_cube_set_report_shows_the_optimum(tmp_path, leaderboard_factory):
    lb = leaderboard_factory("cube-n8", 2)
    text = report(lb, tmp_path / "cube.html", max_packings=1).read_text(encoding="utf-8")
    assert "known optimum (every instance, surface)</th><td>60000</td>" in text
    assert "optimum (the cut cube)\\u003cbr\\u003esurface 60000, ratio 1.0000" in text  # plotly escapes <>
    assert len(figure_ids(text)) == 3 + 1 + 1


def test_cli(small_lb, tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    (results / "leaderboard.json").write_text(json.dumps(small_lb))
    (results / "leaderboard.csv").write_text("solver,instance,surface\nrandom,0,1\n")  # not a training log
    (results / "ptrnet").mkdir()
    (results / "ptrnet" / "metrics.csv").write_text("step,loss\n0,1\n1,0.5\n")
    runs = tmp_path / "runs" / "sb3-a"
    runs.mkdir(parents=True)
    (runs / "metrics.csv").write_text("timesteps,val_ratio\n0,1.3\n5000,1.2\n")
    (runs / "broken.csv").write_text("step,name\n1,a\n")  # a stray CSV does not sink the report
    out = tmp_path / "report.html"
    common = ["--out", str(out), "--runs", str(tmp_path / "runs")]
    assert cli([*common, "--results", str(results)]) == 0
    assert "wrote" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    check_offline(text)
    assert "training curves" in text
    assert re.search(r"ptrnet(/|\\u002f)metrics", text) and re.search(r"sb3-a(/|\\u002f)metrics", text)
    assert "val_ratio" in text and "broken" not in text
    assert cli([*common, "--results", str(results / "leaderboard.json"), "--max-packings", "1",
                "--log", str(runs / "metrics.csv")]) == 0
    text = out.read_text(encoding="utf-8")
    assert len(figure_ids(text)) == 3 + 2 + 1  # charts, one instance and its comparison, one training figure
    assert re.search(r"sb3-a(/|\\u002f)metrics", text) and not re.search(r"ptrnet(/|\\u002f)metrics", text)
    assert cli([*common, "--results", str(tmp_path / "none")]) == 2
    assert "no leaderboard file" in capsys.readouterr().err
    assert cli([*common, "--results", str(results), "--max-packings", "50"]) == 2
    assert "max_packings" in capsys.readouterr().err


def test_report_has_a_zoo_section_filled_from_the_registry(small_lb, tmp_path):
    from packzoo.zoo import families, list_models

    text = report(small_lb, tmp_path / "z.html", max_packings=0, zoo=True).read_text(encoding="utf-8")
    zoo = text[text.index("<h2>Model zoo</h2>"):]
    for fam in families():
        assert f"<h3>{fam}</h3>" in zoo
    for name in list_models():
        assert name in zoo
    assert "packzoo train ptrnet" in zoo  # the recipe, from the weights card
    none = report(small_lb, tmp_path / "n.html", max_packings=0).read_text(encoding="utf-8")
    assert "Model zoo" not in none


def test_a_bad_orientation_is_a_clear_error_and_noted_in_the_report(small_lb, tmp_path):
    # On main: IndexError from deep inside Packing.boxes, and `packzoo report` crashed.
    bad = json.loads(json.dumps(small_lb))
    row = next(r for r in bad["results"] if r["solver"] == "sort-volume" and r["instance"] == 1)
    row["placements"][3][1] = 9
    with pytest.raises(ValueError, match=r"sort-volume on instance 1: .*bad orientation 9"):
        rebuild_packings(bad, 1)
    row["placements"][3] = row["placements"][3][:4]
    with pytest.raises(ValueError, match=r"sort-volume on instance 1: the recorded placements cannot be rebuilt"):
        rebuild_packings(bad, 1)
    row["placements"][3] = ["x", 0, 0, 0, 0]
    with pytest.raises(ValueError, match=r"sort-volume on instance 1: the recorded placements cannot be rebuilt"):
        rebuild_packings(bad, 1)
    row["placements"][3] = row["placements"][2]  # an edited, overlapping packing marked valid
    with pytest.raises(ValueError, match=r"sort-volume on instance 1: .*not a valid packing.*repeated"):
        rebuild_packings(bad, 1)
    text = report(bad, tmp_path / "r.html", max_packings=3).read_text(encoding="utf-8")
    assert "3D views unavailable: sort-volume on instance 1" in text
    assert text.count("3D views unavailable") == 1
    assert "<h3>Instance 1:" not in text and len(re.findall(r"<h3>Instance \d+: best packing", text)) == 2  # the others stay
    path = tmp_path / "lb.json"
    path.write_text(json.dumps(bad))
    assert cli(["--results", str(path), "--out", str(tmp_path / "c.html"), "--runs", str(tmp_path)]) == 0


def test_parameters_show_the_applied_time_limit(small_lb, tmp_path):
    lb = json.loads(json.dumps(small_lb))
    lb["solvers"]["random"]["params"] = {"placement": "lsa"}
    lb["solvers"]["sort-volume"]["card"]["keeps_time_limit"] = False
    text = report(lb, tmp_path / "r.html", max_packings=0).read_text(encoding="utf-8")
    assert "placement=&#x27;lsa&#x27;, time_limit=5 s</td>" in text
    assert "time_limit=5 s (not kept: a fixed number of passes)</td>" in text
    lb["time_limit"] = None
    text = report(lb, tmp_path / "r.html", max_packings=0).read_text(encoding="utf-8")
    assert "placement=&#x27;lsa&#x27;, time_limit=none</td>" in text


def test_the_wins_note_says_ties_count(small_lb, tmp_path):
    text = report(small_lb, tmp_path / "r.html", max_packings=0).read_text(encoding="utf-8")
    assert "ties count for every solver that reaches it" in text


# --- every container mode -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bins_lb(tmp_path_factory) -> dict:
    """first-fit decreasing and LSAH on the first 3 instances of bins-n20 (2 bins optimal each)."""
    out = tmp_path_factory.mktemp("bins")
    return run_leaderboard("bins-n20", 3, "ffd-volume,lsah", None, out, progress=False)


@pytest.fixture(scope="module")
def container_lb(tmp_path_factory) -> dict:
    """deepest-bottom-left-fill and the boundary rule on the first 3 instances of container-n10."""
    out = tmp_path_factory.mktemp("container")
    return run_leaderboard("container-n10", 3, "dblf-volume,boundary", None, out, progress=False)


def test_bins_report(bins_lb, tmp_path):
    # the report reads the file the leaderboard wrote, as `packzoo report --results DIR` does
    text = report(bins_lb, tmp_path / "bins.html", max_packings=2).read_text(encoding="utf-8")
    check_offline(text)
    assert "<th class=\"name\">mode</th><td>bins (objective: bins, minimised)</td>" in text
    assert "each bin (L x W x H)</th><td>100x100x100</td>" in text
    assert "known optimum (every instance, bins)</th><td>2</td>" in text
    rows = summary_table(text)
    assert list(next(iter(rows.values()))) == [
        "solver", "instances", "valid", "mean bins", "mean utilisation", "mean bins / LB", "mean gap", "max gap",
        "wins", "mean s", "max s", "invalid"]
    for want in bins_lb["summary"]:
        cells = rows[want["solver"]]
        assert cells["mean bins"] == f"{want['mean_objective']:.2f}"
        assert cells["mean utilisation"] == f"{100 * want['mean_utilisation']:.1f}%"
        assert float(cells["mean bins / LB"]) == pytest.approx(want["mean_ratio_lb"], abs=5e-5)
        assert int(cells["wins"]) == want["wins"] and int(cells["invalid"]) == want["invalid"] == 0
    assert "gap = bins / best known - 1" in text and "utilisation = packed volume / the bins used" in text
    # charts: gap and ratio boxes, the utilisation's and the bins' distributions; then 2 instances
    # animated and one comparison (with the cut optimum)
    assert len(figure_ids(text)) == 4 + 2 + 1
    plain = text.replace("\\u002f", "/")  # plotly's JSON escapes a slash
    assert "distribution of utilisation (packed volume / bins used)" in plain and "distribution of bins used" in text
    assert "optimum (the cut bins)\\u003cbr\\u003ebins 2, ratio 1.0000" in text
    # the 3D views draw each bin used
    assert '"name":"bin 0"' in text and '"name":"bin 1"' in text and '"name":"bin 2"' in text


def test_bins_packings_rebuilt_with_their_bins(bins_lb):
    insts = instance_set("bins-n20", 3)
    for k in range(3):
        packs = rebuild_packings(bins_lb, k)
        assert set(packs) == {"ffd-volume", "lsah"}
        for row in bins_lb["results"]:
            if row["instance"] == k:
                p = packs[row["solver"]]
                assert p.instance == insts[k]
                assert [q.to_list() for q in p.placements] == row["placements"]
                assert p.bins_used == row["objective"] >= 2 and p.utilisation == pytest.approx(row["utilisation"])
                assert any(len(r) == 6 for r in row["placements"])  # items in bins other than bin 0
    bad = json.loads(json.dumps(bins_lb))
    row = bad["results"][0]
    row["objective"] += 1
    with pytest.raises(ValueError, match=rf"{row['solver']} on instance 0: the placements give bins "
                                         rf"{row['objective'] - 1}, the leaderboard says {row['objective']}"):
        rebuild_packings(bad, 0)
    # an item moved into a bin of its own: a valid packing, but not the one recorded
    bad = json.loads(json.dumps(bins_lb))
    row = bad["results"][0]
    row["placements"][0] = row["placements"][0][:5] + [99]
    with pytest.raises(ValueError, match="the placements give bins"):
        rebuild_packings(bad, 0)
    # a result recorded in another mode is not of this set
    bad = json.loads(json.dumps(bins_lb))
    bad["results"][0]["mode"] = "container"
    with pytest.raises(ValueError, match="of mode 'container'"):
        rebuild_packings(bad, 0)
    bad["results"][0]["mode"] = "bins"
    bad["results"][0]["placements"][0][2] = 0.5
    with pytest.raises(ValueError, match="cannot be rebuilt: placement entry 0.5 is not an integer"):
        rebuild_packings(bad, 0)


def test_container_report(container_lb, tmp_path):
    text = report(container_lb, tmp_path / "c.html", max_packings=1).read_text(encoding="utf-8")
    check_offline(text)
    assert "container (objective: volume, maximised)" in text
    rows = summary_table(text)
    header = list(next(iter(rows.values())))
    assert header[3:6] == ["mean volume", "mean utilisation", "mean UB / volume"]
    by_volume = sorted(container_lb["summary"], key=lambda r: -r["mean_objective"])
    assert list(rows) == [r["solver"] for r in by_volume]  # least gap first = most volume first
    for want in container_lb["summary"]:
        assert rows[want["solver"]]["mean volume"] == f"{want['mean_objective']:.0f}"
    assert "gap = 1 - volume / best known" in text and "reaches the most valid volume" in text
    # the best packing shown is the one with the most volume on its instance
    k, best = re.search(r"<h3>Instance (\d+): best packing, by (\S+)</h3>", text).groups()
    mine = {r["solver"]: r["objective"] for r in container_lb["results"] if r["instance"] == int(k)}
    assert mine[best] == max(mine.values())
    assert '"name":"container"' in text and "left out" in text
    assert "optimum (the cut container)\\u003cbr\\u003evolume 1000000, ratio 1.0000" in text
    assert len(figure_ids(text)) == 3 + 1 + 1  # gap, ratio, utilisation; one instance and its comparison


def test_container_metric_figures(container_lb):
    assert board_mode(container_lb) == "container"
    fig = leaderboard_figure(container_lb, metric="utilisation")
    means = {t.name: sum(t.y) / len(t.y) for t in fig.data}
    assert list(means) == sorted(means, key=lambda s: -means[s])  # the most utilisation first
    assert fig.layout.yaxis.title.text == "utilisation (packed volume / container)"
    fig = leaderboard_figure(container_lb, metric="objective")
    assert fig.layout.yaxis.title.text == "packed volume"
    assert metric_label("gap", "container") == "gap to the best known (1 - volume / best)"
    assert metric_label("ratio_lb", "base") == "height / lower bound"
    with pytest.raises(ValueError, match="metric must be one of"):
        leaderboard_figure(container_lb, metric="height")


def test_bins_histogram_has_a_bar_per_count(bins_lb):
    fig = gap_histogram(bins_lb, metric="objective")
    counts = [r["objective"] for r in bins_lb["results"]]
    for trace in fig.data:
        assert trace.xbins.size == 1 and (trace.xbins.start + 0.5) == min(counts)
    assert fig.layout.xaxis.dtick == 1


def test_an_old_file_is_free_mode(small_lb, tmp_path):
    assert "mode" not in small_lb and "objective" not in small_lb["results"][0]
    assert board_mode(small_lb) == "free"
    text = report(small_lb, tmp_path / "old.html", max_packings=1).read_text(encoding="utf-8")
    assert "free (objective: surface, minimised)" in text
    assert list(next(iter(summary_table(text).values())))[3:5] == ["mean surface", "mean surface / LB"]


def test_report_of_the_users_container_files(tmp_path):
    """A leaderboard of a folder of instance files records the instances (mode, container): the
    report needs no file. An older board with their dims only reads the files again; when they are
    gone it says so and still writes the page."""
    from packzoo.envs import container_cut

    folder = tmp_path / "mine"
    folder.mkdir()
    for k in range(2):
        container_cut(6, container=(10, 8, 6), seed=k)[0].save(folder / f"c{k}.json")
    lb = run_leaderboard(str(folder), 2, "dblf-volume,boundary", None, None, progress=False)
    assert lb["mode"] == "container" and "instance_dims" in lb
    text = report(lb, tmp_path / "mine.html", max_packings=2).read_text(encoding="utf-8")
    assert "container (L x W x H)</th><td>10x8x6</td>" in text
    assert "3D views unavailable" not in text and len(re.findall(r"<h3>Instance \d: best packing", text)) == 2
    assert text.count('"name":"container"') >= 2
    (folder / "c0.json").rename(tmp_path / "moved.json")
    text = report(lb, tmp_path / "mine.html", max_packings=2).read_text(encoding="utf-8")
    assert "3D views unavailable" not in text  # the board carries the instances themselves
    lb = {k: v for k, v in lb.items() if k != "instance_dicts"}  # a board from before they were kept
    text = report(lb, tmp_path / "mine.html", max_packings=2).read_text(encoding="utf-8")
    assert re.search(r"3D views unavailable: instance 0: cannot read \S*c0.json again", text)
    assert "<h2>Summary</h2>" in text and "mean volume" in text


def test_base_report(tmp_path):
    lb = run_leaderboard("base-n8", 2, "dblf-volume,lsah", None, None, progress=False)
    text = report(lb, tmp_path / "base.html", max_packings=1).read_text(encoding="utf-8")
    assert "base (objective: height, minimised)" in text and "base (L x W)</th><td>100x100</td>" in text
    header = list(next(iter(summary_table(text).values())))
    assert header[3:6] == ["mean height", "mean utilisation", "mean height / LB"]
    assert '"name":"base"' in text
    assert "optimum (the cut container)\\u003cbr\\u003eheight 100, ratio 1.0000" in text
