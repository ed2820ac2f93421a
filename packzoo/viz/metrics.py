"""Metric figures: leaderboard box plots, histograms and training curves read from CSV logs.

A leaderboard is the dict of ``leaderboard.json`` (see :func:`load_leaderboard`): per-instance
``results`` rows with ``solver``, ``valid``, ``mode``, ``objective``, ``surface``, ``utilisation``,
``ratio_lb`` and ``gap``. Every label names the board's mode's objective (surface, height, volume,
bins; :func:`board_mode`). Files written before the container modes (no ``mode``, no ``objective``)
are read as free-mode surfaces. Invalid results are never plotted (they have no score).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from packzoo._checks import positive_int
from packzoo.solvers.leaderboard import MAXIMISE, OBJECTIVE_NAMES

__all__ = [
    "METRICS",
    "X_COLUMNS",
    "board_mode",
    "metric_label",
    "gap_histogram",
    "leaderboard_figure",
    "load_leaderboard",
    "read_metrics_csv",
    "scores",
    "solver_colors",
    "solvers_of",
    "training_curves",
]

# Columns a metrics CSV may use as its x axis, in order of preference.
X_COLUMNS = ("step", "timesteps")

# plotly's default ten (D3's category10), then ten more picked greedily from plotly's qualitative
# sets and Kelly's colours of maximum contrast to be as far as possible (CIELAB) from all before:
# any two of the twenty differ by a CIE76 delta E >= 27, as much as the first ten among themselves,
# so a leaderboard of up to 20 solvers gets a distinct colour each (beyond 20 they repeat).
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf",
            "#511cfb", "#00ff00", "#fe00fa", "#000080", "#aaffc3", "#ffd8b1", "#620042", "#fc0080",
            "#6c7c32", "#222a2a")


def load_leaderboard(leaderboard: Mapping[str, Any] | str | os.PathLike) -> dict[str, Any]:
    """The leaderboard dict, from a dict, a ``leaderboard.json`` path, or the folder holding it.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the JSON is malformed or lacks ``set`` / ``results``, or a result lacks ``solver``.
    """
    if isinstance(leaderboard, Mapping):
        lb = dict(leaderboard)
        source = "leaderboard"
    elif isinstance(leaderboard, (str, os.PathLike)):
        path = Path(leaderboard)
        if path.is_dir():
            path = path / "leaderboard.json"
        if not path.exists():
            raise FileNotFoundError(f"no leaderboard file at {path}")
        try:
            lb = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON: {e}") from e
        if not isinstance(lb, dict):
            raise ValueError(f"{path} holds a JSON {type(lb).__name__}, not a leaderboard object")
        source = str(path)
    else:
        raise ValueError(f"leaderboard must be a dict or a path, got {type(leaderboard).__name__}")
    for key in ("set", "results"):
        if key not in lb:
            raise ValueError(f"{source} has no {key!r} key (see the leaderboard schema)")
    if not isinstance(lb["results"], list):
        raise ValueError(f"{source}: 'results' must be a list")
    for r, row in enumerate(lb["results"]):
        if not isinstance(row, Mapping) or "solver" not in row or "instance" not in row:
            raise ValueError(f"{source}: results[{r}] has no 'solver' or 'instance'")
    return lb


def _mode_of_results(results: list) -> str:
    modes = {str(r.get("mode", "free")) for r in results}
    return modes.pop() if len(modes) == 1 else ("mixed" if modes else "free")


def board_mode(lb: Mapping[str, Any]) -> str:
    """The leaderboard's container mode: its ``mode`` key, else its results' (``"free"`` for a file
    written before the modes, ``"mixed"`` for a folder of instances of several modes)."""
    mode = lb.get("mode")
    return str(mode) if mode else _mode_of_results(list(lb.get("results") or []))


def solvers_of(lb: Mapping[str, Any]) -> list[str]:
    """Solver names in the leaderboard's order (its ``solvers`` dict, else first appearance)."""
    names = list(lb.get("solvers") or {})
    for row in lb["results"]:
        if row["solver"] not in names:
            names.append(row["solver"])
    return names


def _number(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def scores(lb: Mapping[str, Any], metric: str) -> dict[str, list[tuple[int, float]]]:
    """solver -> [(instance, value)] of ``metric`` over the valid results that have it (the
    ``objective`` of a result written before the modes is its surface)."""
    out: dict[str, list[tuple[int, float]]] = {s: [] for s in solvers_of(lb)}
    for row in lb["results"]:
        if not row.get("valid", True):
            continue
        v = _number(row.get("surface") if metric == "objective" and "objective" not in row else row.get(metric))
        if v is not None:
            out[row["solver"]].append((int(row["instance"]), v))
    return out


def solver_colors(lb: Mapping[str, Any]) -> dict[str, str]:
    """A colour per solver, by its position in the leaderboard, so every chart agrees; distinct for
    up to 20 solvers."""
    return {s: _PALETTE[r % len(_PALETTE)] for r, s in enumerate(solvers_of(lb))}


#: The per-result metrics the figures plot.
METRICS = ("gap", "ratio_lb", "objective", "surface", "utilisation", "seconds")

# What ratio_lb is in each mode: the objective over its lower bound, or in container mode the
# volume's upper bound over the packed volume (>= 1 either way, 1 = proven optimal).
_RATIO_LABELS = {
    "free": "surface / lower bound", "base": "height / lower bound", "bins": "bins / lower bound",
    "container": "upper bound / packed volume",
}
_OBJECTIVE_LABELS = {"free": "surface area", "base": "height", "container": "packed volume", "bins": "bins used"}
_UTILISATION_LABELS = {
    "free": "utilisation (packed volume / bounding box)", "base": "utilisation (packed volume / base x height)",
    "container": "utilisation (packed volume / container)", "bins": "utilisation (packed volume / bins used)",
}


def metric_label(metric: str, mode: str = "free") -> str:
    """The axis label of ``metric`` (one of :data:`METRICS`) in ``mode``'s terms."""
    if metric == "gap":
        if mode in MAXIMISE:
            return "gap to the best known (1 - volume / best)"
        name = OBJECTIVE_NAMES.get(mode, "objective")
        return f"gap to the best known ({name} / best - 1)"
    if metric == "ratio_lb":
        return _RATIO_LABELS.get(mode, "ratio to the bound")
    if metric == "objective":
        return _OBJECTIVE_LABELS.get(mode, "objective")
    if metric == "utilisation":
        return _UTILISATION_LABELS.get(mode, "utilisation")
    return {"surface": "surface area", "seconds": "seconds per instance"}[metric]


def _higher_is_better(metric: str, mode: str) -> bool:
    return metric == "utilisation" or (metric == "objective" and mode in MAXIMISE)


def _pick_metric(lb: Mapping[str, Any], metric: str | None) -> str:
    if metric is not None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(map(repr, METRICS))}, got {metric!r}")
        return metric
    return "gap" if any(vals for vals in scores(lb, "gap").values()) else "ratio_lb"


def leaderboard_figure(leaderboard: Mapping[str, Any] | str | os.PathLike, *, metric: str | None = None) -> go.Figure:
    """Box plots of a metric per solver, best median first, every instance shown as a point.

    Args:
        leaderboard: the leaderboard dict or a path (see :func:`load_leaderboard`).
        metric: one of :data:`METRICS`: ``"gap"`` (default when any result has one), ``"ratio_lb"``,
            ``"objective"`` (the mode's), ``"surface"``, ``"utilisation"`` or ``"seconds"``. The
            best median is the least, but for the utilisation and container mode's volume.

    Raises:
        ValueError: a malformed leaderboard, an unknown metric, or no valid result to plot.
    """
    lb = load_leaderboard(leaderboard)
    metric = _pick_metric(lb, metric)
    data = {s: v for s, v in scores(lb, metric).items() if v}
    if not data:
        raise ValueError(f"the leaderboard has no valid result with a {metric!r} value")

    def median(vals: list[tuple[int, float]]) -> float:
        ys = sorted(v for _, v in vals)
        m = len(ys) // 2
        return ys[m] if len(ys) % 2 else (ys[m - 1] + ys[m]) / 2

    mode = board_mode(lb)
    sign = -1.0 if _higher_is_better(metric, mode) else 1.0
    order = sorted(data, key=lambda s: (sign * median(data[s]), s))
    label = metric_label(metric, mode)
    colors = solver_colors(lb)
    fig = go.Figure()
    for s in order:
        inst, ys = zip(*data[s])
        fig.add_trace(go.Box(
            y=list(ys), name=s, boxpoints="all", jitter=0.3, pointpos=0, boxmean=True,
            customdata=list(inst), hovertemplate=f"{s}<br>instance %{{customdata}}<br>{metric} %{{y:.4f}}<extra></extra>",
            marker=dict(color=colors[s], size=4), showlegend=False,
        ))
    fig.update_layout(
        title=dict(text=f"{lb['set']}: {label} per solver ({lb.get('instances', '?')} instances)"),
        yaxis_title=label, xaxis_title="solver", margin=dict(l=60, r=20, t=60, b=60),
    )
    return fig


def gap_histogram(leaderboard: Mapping[str, Any] | str | os.PathLike, *, metric: str | None = None,
                  nbins: int = 30) -> go.Figure:
    """Overlaid histograms of the gap (or ``metric``) per solver: the distribution of the
    utilisation in the fixed modes, of the bins used in bins mode.

    Args:
        leaderboard: the leaderboard dict or a path.
        metric: as in :func:`leaderboard_figure` (default ``"gap"`` when available, else ``"ratio_lb"``).
        nbins: the number of bins (shared by every solver, so bars line up). Integer values spanning
            at most ``nbins`` (bins used, heights) get one bar per integer instead.

    Raises:
        ValueError: a malformed leaderboard, bad ``nbins``, or nothing to plot.
    """
    positive_int(nbins, "nbins")
    lb = load_leaderboard(leaderboard)
    metric = _pick_metric(lb, metric)
    data = {s: v for s, v in scores(lb, metric).items() if v}
    if not data:
        raise ValueError(f"the leaderboard has no valid result with a {metric!r} value")
    values = [v for vals in data.values() for _, v in vals]
    lo, hi = min(values), max(values)
    integers = all(float(v).is_integer() for v in values) and hi - lo < nbins
    if integers:
        lo, hi, size = lo - 0.5, hi - 0.5, 1.0  # a bar per integer, centred on it
    else:
        size = (hi - lo) / nbins if hi > lo else 1e-3
    label = metric_label(metric, board_mode(lb))
    colors = solver_colors(lb)
    fig = go.Figure()
    for s, vals in data.items():
        fig.add_trace(go.Histogram(
            x=[v for _, v in vals], name=s, opacity=0.6, marker_color=colors[s],
            xbins=dict(start=lo, end=hi + size, size=size),
        ))
    fig.update_layout(
        barmode="overlay", title=dict(text=f"{lb['set']}: distribution of {label}"),
        xaxis_title=label, yaxis_title="instances", margin=dict(l=60, r=20, t=60, b=60),
    )
    if integers:
        fig.update_xaxes(dtick=1)
    return fig


def read_metrics_csv(path: str | os.PathLike) -> tuple[str, dict[str, list[tuple[float, float]]]]:
    """Read a metrics log: a header row, an x column (``step`` or ``timesteps``) and metric columns.

    Returns:
        ``(x_column, {metric: [(x, y), ...]})`` for every column with at least one numeric value;
        empty or non-numeric cells are skipped (trainers log some metrics only now and then).

    Raises:
        FileNotFoundError: no such file.
        ValueError: no header, no x column, or no numeric metric column.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        if not header:
            raise ValueError(f"{path}: empty file, expected a header row")
        xcol = next((c for c in X_COLUMNS if c in header), None)
        if xcol is None:
            raise ValueError(f"{path}: no x column; expected one of {X_COLUMNS}, found {header}")
        series: dict[str, list[tuple[float, float]]] = {c: [] for c in header if c != xcol}
        for row in reader:
            x = _number(row.get(xcol))
            if x is None:
                continue
            for c in series:
                y = _number(row.get(c))
                if y is not None:
                    series[c].append((x, y))
    series = {c: v for c, v in series.items() if v}
    if not series:
        raise ValueError(f"{path}: no numeric metric column besides {xcol!r}")
    return xcol, series


def _label(path: Path, taken: set[str]) -> str:
    label = path.stem if path.stem not in ("metrics", "progress", "log") else f"{path.parent.name}/{path.stem}"
    base, k = label, 2
    while label in taken:
        label, k = f"{base} ({k})", k + 1
    taken.add(label)
    return label


def training_curves(
    paths: str | os.PathLike | Iterable[str | os.PathLike] | Mapping[str, str | os.PathLike],
    *,
    metrics: Iterable[str] | None = None,
) -> go.Figure:
    """Training curves from CSV metric logs: one subplot per metric (and x column), one line per log.

    Logs with different x columns (``step`` for the pointer net, ``timesteps`` for SB3) get separate
    subplots for the same metric, titled "metric (by x)".

    Args:
        paths: a CSV path, several, or a dict label -> path (labels default to the file names).
        metrics: the metric columns to plot (default: every numeric column of any log).

    Raises:
        ValueError: no paths, a malformed log, or a requested metric that no log has.
    """
    if isinstance(paths, (str, os.PathLike)):
        labelled = [(None, Path(paths))]
    elif isinstance(paths, Mapping):
        labelled = [(str(k), Path(v)) for k, v in paths.items()]
    else:
        labelled = [(None, Path(p)) for p in paths]
    if not labelled:
        raise ValueError("training_curves needs at least one CSV path")
    taken: set[str] = set()
    logs = []
    for label, p in labelled:
        xcol, series = read_metrics_csv(p)
        logs.append((label if label is not None else _label(p, taken), xcol, series))
    names: list[str] = []
    for _, _, series in logs:
        names += [c for c in series if c not in names]
    if metrics is not None:
        wanted = list(metrics)
        missing = [m for m in wanted if m not in names]
        if missing:
            raise ValueError(f"no log has the metric(s) {missing}; they have {names}")
        names = wanted
    # One panel per (x column, metric): steps of a pointer net and timesteps of an SB3 agent are
    # different units, so their curves never share an x axis.
    xcols = list(dict.fromkeys(x for _, x, _ in logs))
    panels = [(x, m) for x in xcols for m in names if any(lx == x and m in ser for _, lx, ser in logs)]
    titles = [m if len(xcols) == 1 else f"{m} (by {x})" for x, m in panels]
    fig = make_subplots(rows=len(panels), cols=1, subplot_titles=titles,
                        vertical_spacing=min(0.08, 0.3 / max(len(panels), 1)))
    for r, (label, xcol, series) in enumerate(logs):
        color = _PALETTE[r % len(_PALETTE)]
        first = True
        for row, (x, m) in enumerate(panels, start=1):
            if x != xcol or m not in series:
                continue
            xs, ys = zip(*series[m])
            fig.add_trace(go.Scatter(x=list(xs), y=list(ys), mode="lines", name=label, legendgroup=label,
                                     showlegend=first, line=dict(color=color)), row=row, col=1)
            first = False
    for row, (x, _) in enumerate(panels, start=1):
        fig.update_xaxes(title_text=x, title_standoff=2, row=row, col=1)
    fig.update_layout(title=dict(text="training curves"), height=max(320, 240 * len(panels)),
                      margin=dict(l=60, r=20, t=60, b=50))
    return fig
