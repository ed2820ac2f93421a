"""The offline HTML report of a leaderboard: one self-contained page that opens without a network.

plotly.js is embedded once, in the page's head; every figure is a div drawn by ``Plotly.newPlot``.
The page holds the run's facts, the summary table, the leaderboard charts, 3D views of a few
instances (the best solver's packing, animated, and a side-by-side comparison of the solvers) and,
when given, training curves. Every container mode has its own columns and charts: the mode's
objective (surface, height, volume, bins), the utilisation in the fixed modes, the ratio to the
mode's bound; its 3D views draw the base, the container or the bins side by side. Packings are
rebuilt from the results' placements (with their bin) and checked against the recorded objectives
before they are drawn. Leaderboard files written before the modes are read as free mode.

Command line: ``packzoo report --out report.html [--results results/]``.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from packzoo._io import atomic_write_text
from packzoo.envs.files import read_instance
from packzoo.envs.generators import cube_set_solutions, instance_set, known_optimum
from packzoo.envs.instance import Instance
from packzoo.envs.packing import Packing, validate
from packzoo.solvers.leaderboard import MAXIMISE, OBJECTIVE_NAMES
from packzoo.solvers.leaderboard import summarise as leaderboard_summary
from packzoo.viz.figures import compare_figure, packing_animation
from packzoo.viz.metrics import (
    X_COLUMNS,
    board_mode,
    gap_histogram,
    leaderboard_figure,
    load_leaderboard,
    scores,
    solvers_of,
    training_curves,
)

__all__ = ["cli", "pick_instances", "rebuild_packings", "report", "summarise"]

# Each 3D scene is a WebGL context; Chrome keeps at most 16 per page and silently drops the oldest,
# so the report bounds the scenes it draws: max_packings animations + MAX_COMPARE comparison scenes.
MAX_PACKINGS = 8
MAX_COMPARE = 4

# Plotly rejects an interrupted animation's promise with no reason at all (the Pause button, or a
# slider step while playing). Nothing is wrong then, so keep exactly those off the console.
_QUIET_INTERRUPTS = (
    "window.addEventListener('unhandledrejection', function (e) { if (e.reason === undefined) e.preventDefault(); });"
)

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 1em 2em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }
th { background: #f3f3f3; } td.name, th.name { text-align: left; }
tr.best td { background: #eef7ee; }
.facts td { text-align: left; } .note { color: #666; font-size: 0.9em; }
.figure { margin: 1em 0; border: 1px solid #eee; }
.zoo td, .zoo th { text-align: left; vertical-align: top; } .zoo td:last-child { font-family: monospace; font-size: 0.85em; }
"""


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:  # NaN
            return "-"
        if v.is_integer() and abs(v) >= 1:
            return f"{v:.0f}"
        return f"{v:.{digits}f}" if abs(v) < 1000 else f"{v:.1f}"
    return str(v)


def summarise(lb: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The leaderboard's ``summary`` rows, or rows computed from its results by the leaderboard's
    own :func:`packzoo.solvers.leaderboard.summarise` when it has none."""
    if lb.get("summary"):
        return [dict(r) for r in lb["summary"]]
    return leaderboard_summary(list(lb["results"]), solvers_of(lb))


def _file_instances(lb: Mapping[str, Any]) -> list[Instance]:
    """The instances of a board of the user's own files. It records their dims only: in free mode
    they are the instances; in the other modes the files are read again (when they still exist and
    still hold those dims), since the dims alone do not say the container or the constraints.
    Boards that record the instances themselves (``instance_dicts``) need no file."""
    if lb.get("instance_dicts"):
        return [Instance.from_dict(d) for d in lb["instance_dicts"]]
    dims = [np.asarray(d, dtype=np.int64) for d in lb["instance_dims"]]
    if board_mode(lb) == "free":
        return [Instance(d) for d in dims]
    files = list(lb.get("files") or [])
    out = []
    for k, d in enumerate(dims):
        if k >= len(files):
            raise ValueError(f"instance {k}: the leaderboard names no file for it")
        try:
            inst = read_instance(files[k])
        except (OSError, ValueError) as err:
            raise ValueError(f"instance {k}: cannot read {files[k]} again ({err})") from None
        if inst.dims.shape != d.shape or not np.array_equal(inst.dims, d):
            raise ValueError(f"instance {k}: {files[k]} no longer holds the items the leaderboard ran on")
        out.append(inst)
    return out


def _instances(lb: Mapping[str, Any], count: int | None = None) -> list[Instance]:
    """The leaderboard's instances (the first ``count`` of them)."""
    if lb.get("instance_dims"):  # a board of the user's own instance files carries them
        insts = _file_instances({**lb, "instance_dims": lb["instance_dims"][:count],
                                 **({"instance_dicts": lb["instance_dicts"][:count]} if lb.get("instance_dicts") else {})})
        return insts
    if count is None:
        count = lb.get("instances")
        if not isinstance(count, int):
            count = 1 + max((int(r["instance"]) for r in lb["results"]), default=0)
    return instance_set(str(lb["set"]), count)


def _objective(row: Mapping[str, Any]) -> Any:
    """A result's objective (a file written before the modes records only the surface)."""
    return row["objective"] if "objective" in row else row.get("surface")


def rebuild_packings(lb: Mapping[str, Any], instance: int, instances: Sequence[Instance] | None = None) -> dict[str, Packing]:
    """solver -> Packing of ``instance``, rebuilt from the valid results' placements.

    Placements are rows ``[item, orientation, x, y, z]`` with a sixth entry, the bin, in bins mode.

    Raises:
        ValueError: the set cannot be rebuilt; a result's placements are malformed (not rows of
            five or six integers) or not a valid packing of the instance (an orientation outside
            0..5, an item out of range, an overlap, outside the container ...); or a rebuilt
            packing's mode, objective or surface differs from the recorded one (the results then
            belong to other instances than the named set's). The message names the solver and the
            instance.
    """
    if instances is None:
        instances = _instances(lb)
    if not 0 <= instance < len(instances):
        raise ValueError(f"instance {instance} is not in the set's first {len(instances)} instances")
    out: dict[str, Packing] = {}
    for row in lb["results"]:
        if int(row["instance"]) != instance or not row.get("valid", True) or not row.get("placements"):
            continue
        where = f"{row['solver']} on instance {instance}"
        try:
            rows = [[_integer(v) for v in pl] for pl in row["placements"]]
            p = Packing(instances[instance], rows)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: the recorded placements cannot be rebuilt: {err}") from None
        # The file says valid, but it may have been edited: referee it before measuring or drawing.
        errors = validate(p)
        if errors:
            raise ValueError(f"{where}: the recorded placements are not a valid packing of set {lb['set']!r}'s "
                             f"instance: {'; '.join(errors[:3])}")
        mode = p.instance.mode
        if row.get("mode") is not None and row["mode"] != mode:
            raise ValueError(f"{where}: the result is of mode {row['mode']!r}, set {lb['set']!r}'s instance "
                             f"of mode {mode!r}; the results are not of set {lb['set']!r}")
        name = OBJECTIVE_NAMES.get(mode, "objective")
        recorded = row.get("objective")
        if recorded is not None and float(p.objective) != float(recorded):
            raise ValueError(
                f"{where}: the placements give {name} {p.objective}, "
                f"the leaderboard says {recorded}; the results are not of set {lb['set']!r}"
            )
        if row.get("surface") is not None and p.surface_area != int(row["surface"]):
            raise ValueError(
                f"{where}: the placements give surface {p.surface_area}, "
                f"the leaderboard says {row['surface']}; the results are not of set {lb['set']!r}"
            )
        out[row["solver"]] = p
    return out


def _integer(v: Any) -> int:
    """A placement entry as an int: an integral number; a fraction or a string is refused, never
    truncated into another placement."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise ValueError(f"placement entry {v!r} is not an integer")


def _cut_optimum(lb: Mapping[str, Any], k: int, instance: Instance) -> Packing | None:
    """The known optimal packing of instance ``k`` of a cut set (cube, container, base, bins),
    None for other sets."""
    try:
        if known_optimum(str(lb["set"])) is None:
            return None
        opt = cube_set_solutions(str(lb["set"]), k + 1)[k]
    except ValueError:
        return None
    # Guard against a set whose generation changed: the optimum must be of this very instance.
    return opt if opt.instance == instance else None


# What a cut set's optimum is cut from, by mode.
_CUT_FROM = {"free": "the cut cube", "base": "the cut container", "container": "the cut container",
             "bins": "the cut bins"}


def pick_instances(lb: Mapping[str, Any], count: int) -> list[int]:
    """The ``count`` instances where the solvers' objectives spread most (ties: lowest index first)."""
    per: dict[int, list[float]] = {}
    for vals in scores(lb, "objective").values():
        for k, v in vals:
            per.setdefault(k, []).append(v)
    ranked = sorted(per, key=lambda k: (-(max(per[k]) - min(per[k])), k))
    return ranked[:count]


class _Page:
    """Accumulates HTML parts; figures become divs drawn by the one embedded plotly.js."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.n_figures = 0

    def add(self, text: str) -> None:
        self.parts.append(text)

    def figure(self, fig: go.Figure, height: int | None = None) -> None:
        self.n_figures += 1
        h = height or fig.layout.height or 480
        div = fig.to_html(
            full_html=False, include_plotlyjs=False, include_mathjax=False, div_id=f"figure-{self.n_figures}",
            default_height=f"{int(h)}px", default_width="100%", auto_play=False,  # open on the full packing
            config={"displaylogo": False, "responsive": True},
        )
        self.add(f'<div class="figure">{div}</div>')


def _percent(v: Any) -> str:
    return "-" if not isinstance(v, (int, float)) or v != v else f"{100 * v:.1f}%"


def _table(rows: list[dict[str, Any]], columns: Sequence[tuple], best_key: str | None = None) -> str:
    """An HTML table; ``columns`` are ``(key, title)`` or ``(key, title, format)`` (default :func:`_fmt`)."""
    best = None
    if best_key:
        vals = [r.get(best_key) for r in rows if isinstance(r.get(best_key), (int, float))]
        best = min(vals) if vals else None
    head = "".join(f'<th class="{"name" if i == 0 else ""}">{html.escape(c[1])}</th>' for i, c in enumerate(columns))
    body = []
    for r in rows:
        cls = ' class="best"' if best is not None and r.get(best_key) == best else ""
        cells = "".join(
            f'<td class="{"name" if i == 0 else ""}">{html.escape((c[2] if len(c) > 2 else _fmt)(r.get(c[0])))}</td>'
            for i, c in enumerate(columns)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _params_text(meta: Any, time_limit: Any) -> str:
    """A solver's constructor parameters and the time limit the leaderboard applied to each solve:
    the limit is a parameter of every result, though no constructor holds it."""
    meta = meta if isinstance(meta, Mapping) else {}
    params = meta.get("params") if isinstance(meta.get("params"), Mapping) else {}
    parts = [f"{k}={v!r}" for k, v in params.items()]
    limit = "time_limit=none" if time_limit is None else f"time_limit={_fmt(time_limit)} s"
    card = meta.get("card") if isinstance(meta.get("card"), Mapping) else {}
    if card.get("keeps_time_limit") is False:
        limit += " (not kept: a fixed number of passes)"
    return ", ".join(parts + [limit])


_SUMMARY_COLUMNS = [
    ("solver", "solver"), ("n", "instances"), ("valid", "valid"), ("mean_surface", "mean surface"), ("mean_ratio_lb", "mean surface / LB"),
    ("mean_gap", "mean gap"), ("max_gap", "max gap"), ("wins", "wins"), ("mean_seconds", "mean s"),
    ("max_seconds", "max s"), ("invalid", "invalid"),
]
# The ratio column of each mode: its objective over the mode's lower bound, or in container mode
# the volume's upper bound over the packed volume (>= 1 either way).
_RATIO_TITLES = {"base": "mean height / LB", "bins": "mean bins / LB", "container": "mean UB / volume"}


def summary_columns(mode: str) -> list[tuple]:
    """The summary table's columns for ``mode``: free as ever (mean surface, surface / LB); the
    fixed modes (and ``"mixed"``) the mean of their objective (height, volume, bins), the mean
    utilisation and the ratio to their bound; then gap, wins, seconds and invalid for every mode."""
    if mode == "free":
        return list(_SUMMARY_COLUMNS)
    name = OBJECTIVE_NAMES.get(mode, "objective")
    digits = {"base": 1, "container": 0, "bins": 2}.get(mode)
    mean = _fmt if digits is None else (lambda v: "-" if not isinstance(v, (int, float)) or v != v else f"{v:.{digits}f}")
    return [
        ("solver", "solver"), ("n", "instances"), ("valid", "valid"), ("mean_objective", f"mean {name}", mean),
        ("mean_utilisation", "mean utilisation", _percent), ("mean_ratio_lb", _RATIO_TITLES.get(mode, "mean ratio to bound")),
        *_SUMMARY_COLUMNS[5:],
    ]


def _gap_note(mode: str) -> str:
    """The note under the summary table: what gap, the ratio, wins and utilisation mean in ``mode``."""
    name = OBJECTIVE_NAMES.get(mode, "objective")
    if mode in MAXIMISE:
        gap = f"gap = 1 - {name} / best known"
        best, most = "most", "the upper bound on the packable volume (UB)"
    else:
        gap = f"gap = {name} / best known - 1"
        best, most = "least", "the instance's lower bound (LB)"
    known = "the known optimum of a cut set" if mode != "mixed" else "a known optimum"
    text = (f"{gap} ({known}, else a proven optimum, else the best valid {name} of the run); "
            f"the ratio is measured against {most}, 1 meaning proven optimal. ")
    if mode != "free":
        util = {"base": "the base times the height used", "container": "the container",
                "bins": "the bins used"}.get(mode, "the space the mode counts")
        text += f"utilisation = packed volume / {util}. "
    text += (f"wins = instances where the solver reaches the {best} valid {name} of the run; ties count for "
             "every solver that reaches it, so the wins can add up to more than the instances. "
             "Invalid packings are never scored.")
    return text


def _container_fact(lb: Mapping[str, Any], mode: str) -> list[tuple[str, Any]]:
    """``[("container", "LxWxH")]`` (base: the footprint; bins: each bin) from the first instance,
    nothing in free or mixed mode or when the instances cannot be had."""
    if mode not in ("base", "container", "bins"):
        return []
    try:
        inst = _instances(lb, 1)[0]
    except (ValueError, IndexError):
        return []
    if inst.container is None:
        return []
    what = {"base": "base (L x W)", "container": "container (L x W x H)", "bins": "each bin (L x W x H)"}[mode]
    return [(what, "x".join(map(str, inst.container)))]


def _charts(lb: Mapping[str, Any], mode: str) -> list[go.Figure]:
    """The leaderboard's charts for its mode.

    Every mode: the gap per solver (box plots) and, when there are gaps, the ratio to the bound.
    Free: the distribution of the gap. Fixed modes: the distribution of the utilisation; bins
    also the bins used per instance (one bar per count).
    """
    has_gap = any(scores(lb, "gap").values())
    has_ratio = any(scores(lb, "ratio_lb").values())
    figs = [leaderboard_figure(lb)]
    if mode == "free":
        figs.append(gap_histogram(lb))
        if has_gap and has_ratio:
            figs.append(leaderboard_figure(lb, metric="ratio_lb"))
        return figs
    if has_gap and has_ratio:
        figs.append(leaderboard_figure(lb, metric="ratio_lb"))
    if any(scores(lb, "utilisation").values()):
        figs.append(gap_histogram(lb, metric="utilisation"))
    if mode == "bins" and any(scores(lb, "objective").values()):
        figs.append(gap_histogram(lb, metric="objective"))
    return figs


def report(
    leaderboard: Mapping[str, Any] | str | os.PathLike,
    path: str | os.PathLike,
    *,
    training_logs: str | os.PathLike | Iterable[str | os.PathLike] | Mapping[str, str | os.PathLike] = (),
    title: str | None = None,
    max_packings: int = 3,
    zoo: bool = False,
) -> Path:
    """Write the offline HTML report of ``leaderboard`` to ``path`` (atomically) and return the path.

    Args:
        leaderboard: the leaderboard dict, a ``leaderboard.json`` path or its folder.
        path: the HTML file to write.
        training_logs: CSV metric logs to draw as training curves: a path, several, or a dict
            label -> path (see :func:`packzoo.viz.metrics.training_curves`).
        title: the page title (default: "packzoo leaderboard: <set>").
        max_packings: how many instances get a 3D view (0..8): those where the solvers differ most.
        zoo: add the model zoo section: every registered model's card, by family, and each
            family's own pictures (:mod:`packzoo.viz.zoo`). The main job's report has it.

    Raises:
        ValueError: a malformed leaderboard or log, or ``max_packings`` out of range.
    """
    if isinstance(max_packings, bool) or not isinstance(max_packings, int) or not 0 <= max_packings <= MAX_PACKINGS:
        raise ValueError(f"max_packings must be an integer in 0..{MAX_PACKINGS}, got {max_packings!r}")
    lb = load_leaderboard(leaderboard)
    if isinstance(training_logs, (str, os.PathLike)):
        training_logs = [training_logs]  # one path, not an iterable of characters
    logs = dict(training_logs) if isinstance(training_logs, Mapping) else list(training_logs)
    title = title or f"packzoo leaderboard: {lb['set']}"
    mode = board_mode(lb)
    name = OBJECTIVE_NAMES.get(mode, "objective")
    page = _Page()
    e = html.escape

    page.add(f"<h1>{e(title)}</h1>")
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        optimum = known_optimum(str(lb["set"]))
    except ValueError:  # not a named set: nothing known
        optimum = None
    facts = [("instance set", lb["set"]), ("mode", f"{mode} (objective: {name}, "
                                                  f"{'maximised' if mode in MAXIMISE else 'minimised'})"),
             *_container_fact(lb, mode), ("instances", lb.get("instances")),
             (f"known optimum (every instance, {name})", optimum), ("time limit (s)", lb.get("time_limit")),
             ("seed", lb.get("seed")), ("results", len(lb["results"])), ("report written", when)]
    versions = lb.get("versions") or {}
    if versions:
        facts.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    page.add('<table class="facts">' + "".join(
        f'<tr><th class="name">{e(k)}</th><td>{e(_fmt(v))}</td></tr>' for k, v in facts) + "</table>")

    page.add("<h2>Summary</h2>")
    rows = summarise(lb)
    # The gap and the ratio are >= 0 and >= 1, the less the better, in every mode.
    key = "mean_gap" if any(r.get("mean_gap") is not None for r in rows) else "mean_ratio_lb"
    rows.sort(key=lambda r: (r.get(key) is None, r.get(key) if r.get(key) is not None else 0.0, str(r["solver"])))
    page.add(_table(rows, summary_columns(mode), best_key=key))
    page.add(f'<p class="note">{e(_gap_note(mode))}</p>')
    cards = lb.get("solvers") or {}
    if cards:
        page.add('<table class="facts"><thead><tr><th class="name">solver</th><th class="name">summary</th>'
                 '<th class="name">source</th><th class="name">parameters</th></tr></thead><tbody>' + "".join(
                     f'<tr><td>{e(str(s))}</td><td>{e(str((c or {}).get("card", {}).get("summary", "")))}</td>'
                     f'<td>{e(str((c or {}).get("card", {}).get("source", "")))}</td>'
                     f'<td>{e(_params_text(c, lb.get("time_limit")))}</td></tr>'
                     for s, c in cards.items()) + "</tbody></table>")
    invalid = [r for r in lb["results"] if not r.get("valid", True)]
    if invalid:
        page.add(f"<h2>Invalid results ({len(invalid)})</h2>")
        page.add(_table([{"solver": r["solver"], "instance": r["instance"],
                          "errors": "; ".join(map(str, r.get("errors") or []))[:300]} for r in invalid],
                        [("solver", "solver"), ("instance", "instance"), ("errors", "errors")]))

    has_scores = any(vals for vals in scores(lb, "ratio_lb").values()) or any(vals for vals in scores(lb, "gap").values())
    if has_scores:
        page.add("<h2>Charts</h2>")
        for fig in _charts(lb, mode):
            page.figure(fig)
    else:
        page.add('<p class="note">No valid result to chart.</p>')

    if max_packings:
        picked = pick_instances(lb, max_packings)
        if picked:
            page.add("<h2>Packings</h2>")
            views = []
            try:
                instances = _instances(lb)
            except ValueError as err:
                page.add(f'<p class="note">3D views unavailable: {e(str(err))}</p>')
                picked = []
            for k in picked:
                # One instance's unrebuildable packing (an edited file) costs that instance's views only.
                try:
                    views.append((k, rebuild_packings(lb, k, instances)))
                except ValueError as err:
                    page.add(f'<p class="note">3D views unavailable: {e(str(err))}</p>')
            objective = {s: dict(v) for s, v in scores(lb, "objective").items()}
            sign = -1.0 if mode in MAXIMISE else 1.0  # the best objective first: most volume, else least
            order = solvers_of(lb)
            for n, (k, packings) in enumerate(views):
                if not packings:
                    continue
                ranked = sorted(packings, key=lambda s: (sign * objective[s].get(k, sign * float("inf")), order.index(s)))
                best = ranked[0]
                page.add(f"<h3>Instance {k}: best packing, by {e(best)}</h3>")
                page.add('<p class="note">Press Play or drag the slider to see the items in placement order.</p>')
                page.figure(packing_animation(packings[best], title=f"instance {k}, {best}"), height=560)
                if n == 0:
                    # A cut set's instance comes with its optimum (the cube, container or bins it was
                    # cut from): show it too.
                    optimum = _cut_optimum(lb, k, instances[k])
                    room = MAX_COMPARE - (optimum is not None)
                    shown = {s: packings[s] for s in ranked[:room]}
                    if optimum is not None:
                        shown[f"optimum ({_CUT_FROM.get(optimum.instance.mode, 'the cut')})"] = optimum
                    if len(shown) > 1:
                        page.add(f"<h3>Instance {k}: the solvers side by side"
                                 + (f" (best {room} of {len(packings)})" if len(packings) > room else "")
                                 + "</h3>")
                        page.figure(compare_figure(shown, cols=min(len(shown), 2)))

    if logs:
        page.add("<h2>Training</h2>")
        page.figure(training_curves(logs))

    if zoo:
        from packzoo.viz.zoo import families, zoo_figures, zoo_rows

        page.add("<h2>Model zoo</h2>")
        page.add('<p class="note">Every registered model, from its card (<code>packzoo models --card NAME</code>); '
                 "load one with <code>packzoo.zoo.create_model(name, pretrained=True)</code>.</p>")
        for fam in families():
            page.add(f"<h3>{e(fam)}</h3>")
            page.add('<div class="zoo">' + _table(zoo_rows(fam), [
                ("model", "model"), ("summary", "summary"), ("weights", "weights"), ("metrics", "headline metrics"),
                ("recipe", "recipe")]) + "</div>")
            for fig_title, fig in zoo_figures(fam):
                page.add(f"<h4>{e(fig_title)}</h4>")
                page.figure(fig)

    doc = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{e(title)}</title>\n<style>{_CSS}</style>\n"
        "<script type=\"text/javascript\">window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
        f"<script type=\"text/javascript\">/* plotly.js {plotly.__version__} bundle */\n{get_plotlyjs()}\n</script>\n"
        f"<script type=\"text/javascript\">{_QUIET_INTERRUPTS}</script>\n"
        "</head>\n<body>\n" + "\n".join(page.parts)
        + f'\n<p class="note">Written by packzoo with plotly {e(plotly.__version__)}; opens offline.</p>\n'
        "</body>\n</html>\n"
    )
    path = Path(path)
    atomic_write_text(path, doc)
    return path


def _discover_logs(folder: Path) -> list[Path]:
    """CSV files under ``folder`` whose header has an x column (``step``/``timesteps``)."""
    if not folder.is_dir():
        return []
    found = []
    for p in sorted(folder.rglob("*.csv")):
        try:
            with p.open(encoding="utf-8") as f:
                header = f.readline().strip().split(",")
        except (OSError, UnicodeDecodeError):
            continue
        if any(c in header for c in X_COLUMNS):
            found.append(p)
    return found


def cli(argv: list[str] | None = None) -> int:
    """``packzoo report --out report.html [--results results/] [--log CSV ...]``."""
    ap = argparse.ArgumentParser(prog="packzoo report", description="Write the offline HTML report of a leaderboard.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--out", default="report.html", help="the HTML file to write")
    ap.add_argument("--results", default="results",
                    help="leaderboard.json or the folder holding it")
    ap.add_argument("--log", action="append", default=None, metavar="CSV",
                    help="a training metrics CSV (repeatable); default: every CSV under the results and runs "
                         f"folders with a {' or '.join(X_COLUMNS)} column")
    ap.add_argument("--runs", default="runs", help="training runs folder searched for metrics CSVs")
    ap.add_argument("--title", default=None)
    ap.add_argument("--max-packings", type=int, default=3, help=f"instances shown in 3D (0..{MAX_PACKINGS})")
    ap.add_argument("--zoo", action="store_true", help="add the model zoo section (every registered model's card and pictures)")
    args = ap.parse_args(argv)
    results = Path(args.results)
    try:
        if args.log is not None:
            logs = [Path(p) for p in args.log]
        else:
            folder = results if results.is_dir() else results.parent
            found = _discover_logs(folder) + _discover_logs(Path(args.runs))
            logs = []
            for p in dict.fromkeys(p.resolve() for p in found):
                try:
                    training_curves(p)  # only logs that parse; a stray CSV must not sink the report
                    logs.append(p)
                except ValueError:
                    pass
        out = report(results, args.out, training_logs=logs, title=args.title, max_packings=args.max_packings,
                     zoo=args.zoo)
    except (ValueError, OSError) as err:
        print(f"packzoo report: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
