"""3D figures of packings (plotly): one packing, its placement order as an animation, and a comparison.

Every item is one ``Mesh3d`` trace (named ``"item <i>"``, in placement order), so a figure's data can
be checked against the packing it shows; the bin is a ``Scatter3d`` wireframe and the items' edges are
one more ``Scatter3d`` trace (one trace for all edges keeps the figure light at N = 50).
An item keeps its colour in every figure of the same instance, so side-by-side views compare at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from packzoo._checks import positive_int
from packzoo.envs.packing import Packing, lower_bound

__all__ = [
    "box_corners",
    "box_edges",
    "compare_figure",
    "item_color",
    "packing_animation",
    "packing_figure",
    "packing_title",
]

# The 12 triangles of a box whose 8 corners are numbered by bits (x, y, z) = (i & 1, i >> 1 & 1, i >> 2).
# Two per face: z=0, z=1, y=0, y=1, x=0, x=1.
_TRI_I = [0, 0, 4, 4, 0, 0, 2, 2, 0, 0, 1, 1]
_TRI_J = [1, 3, 5, 7, 1, 5, 3, 7, 2, 6, 3, 7]
_TRI_K = [3, 2, 7, 6, 5, 4, 7, 6, 6, 4, 7, 5]
# The 12 edges of a box: corner pairs differing in one bit.
_EDGES = [(a, a | bit) for bit in (1, 2, 4) for a in range(8) if not a & bit]

_BIN_COLOR = "#333333"
_EDGE_COLOR = "rgba(20,20,20,0.9)"
_EDGE_GROW = 0.003  # edges sit this fraction of the bin's longest side outside their box
_RANGE_PAD = 0.01  # axis ranges reach this fraction of the bin's longest side beyond the bin


def box_corners(x: float, y: float, z: float, dx: float, dy: float, dz: float) -> np.ndarray:
    """(8, 3) float corners of a box, corner ``i`` at (x + dx * bit0, y + dy * bit1, z + dz * bit2)."""
    i = np.arange(8)
    return np.stack([x + dx * (i & 1), y + dy * (i >> 1 & 1), z + dz * (i >> 2 & 1)], axis=1).astype(float)


def box_edges(boxes: np.ndarray, grow: float = 0.0) -> tuple[list, list, list]:
    """x, y, z lists of the 12 edges of every box, segments separated by None (Scatter3d gaps).

    ``grow`` moves every edge outward by that much on each axis: an edge drawn exactly on its box's
    faces is half hidden by them in WebGL's depth test, so figures draw edges slightly outside.
    """
    xs: list = []
    ys: list = []
    zs: list = []
    for b in np.asarray(boxes, dtype=float).reshape(-1, 6):
        c = box_corners(b[0] - grow, b[1] - grow, b[2] - grow, b[3] + 2 * grow, b[4] + 2 * grow, b[5] + 2 * grow)
        for a, e in _EDGES:
            xs += [c[a, 0], c[e, 0], None]
            ys += [c[a, 1], c[e, 1], None]
            zs += [c[a, 2], c[e, 2], None]
    return xs, ys, zs


def item_color(item: int, n: int) -> str:
    """The colour of ``item`` among ``n``: hues spread by the golden angle so neighbours differ."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    hue = (item * 137.508) % 360.0
    light = 45 + 15 * (item % 3) // 2  # alternate lightness too, so 50 items stay distinguishable
    return f"hsl({hue:.1f},70%,{light}%)"


def packing_title(packing: Packing, prefix: str | None = None) -> str:
    """``"<prefix>: surface S (ratio to lower bound r), bin LxWxH, utilisation u"``.

    A partial packing says ``k/N items`` instead of a ratio (the instance's lower bound is for all N).
    """
    L, W, H = packing.bin
    partial = len(packing.placements) != packing.instance.n
    if partial:
        text = f"surface {packing.surface_area}, {len(packing.placements)}/{packing.instance.n} items"
    else:
        ratio = packing.surface_area / lower_bound(packing.instance)
        text = f"surface {packing.surface_area} (ratio to lower bound {ratio:.4f})"
    text += f", bin {L}x{W}x{H}, utilisation {packing.utilisation:.1%}"
    return f"{prefix}: {text}" if prefix else text


def _check_packing(packing: object, what: str = "packing") -> Packing:
    if not isinstance(packing, Packing):
        raise ValueError(f"{what} must be a packzoo Packing, got {type(packing).__name__}")
    return packing


def _bin_trace(bin_dims: Sequence[int], scene: str = "scene") -> go.Scatter3d:
    xs, ys, zs = box_edges(np.array([[0, 0, 0, *bin_dims]]))
    L, W, H = (int(v) for v in bin_dims)
    return go.Scatter3d(
        x=xs, y=ys, z=zs, mode="lines", line=dict(color=_BIN_COLOR, width=4, dash="dash"),
        name="bin", hovertext=f"bin {L}x{W}x{H}", hoverinfo="text", showlegend=False, scene=scene,
    )


def _edges_trace(boxes: np.ndarray, scene: str = "scene") -> go.Scatter3d:
    boxes = np.asarray(boxes).reshape(-1, 6)
    extent = float((boxes[:, :3] + boxes[:, 3:]).max()) if len(boxes) else 1.0
    xs, ys, zs = box_edges(boxes, grow=_EDGE_GROW * extent)
    return go.Scatter3d(
        x=xs, y=ys, z=zs, mode="lines", line=dict(color=_EDGE_COLOR, width=3),
        name="edges", hoverinfo="skip", showlegend=False, scene=scene,
    )


def _item_traces(packing: Packing, scene: str = "scene") -> list[go.Mesh3d]:
    n = packing.instance.n
    traces = []
    for p, b in zip(packing.placements, packing.boxes):
        c = box_corners(*b)
        dims = tuple(int(v) for v in packing.instance.dims[p.item])
        size = tuple(int(v) for v in b[3:])
        traces.append(
            go.Mesh3d(
                x=c[:, 0], y=c[:, 1], z=c[:, 2], i=_TRI_I, j=_TRI_J, k=_TRI_K,
                color=item_color(p.item, n), opacity=1.0, flatshading=True,
                lighting=dict(ambient=0.6, diffuse=0.6, specular=0.1),
                name=f"item {p.item}", meta=int(p.item), scene=scene,
                hovertext=(
                    f"item {p.item}<br>dims {dims}<br>orientation {p.orientation} -> size {size}"
                    f"<br>corner ({p.x}, {p.y}, {p.z})"
                ),
                hoverinfo="text",
            )
        )
    return traces


def _scene(bin_dims: Sequence[int]) -> dict:
    """A scene with equal scales on the three axes (titled L, W, H) for a bin of ``bin_dims``.

    The ranges are pinned to the bin plus a small margin (an animation must not rescale as its bin
    grows, and the edges, drawn just outside their boxes, must stay inside the ranges: WebGL clips
    what lies outside and draws it as noise). The aspect ratio is the ranges', normalised by the
    longest: plotly's ``aspectmode="data"`` normalises differently and lets a tall bin overflow.
    """
    dims = [max(int(v), 1) for v in bin_dims]
    pad = _RANGE_PAD * max(dims)
    m = max(dims) + 2 * pad
    out: dict = dict(
        aspectmode="manual",
        aspectratio=dict(x=(dims[0] + 2 * pad) / m, y=(dims[1] + 2 * pad) / m, z=(dims[2] + 2 * pad) / m),
        camera=dict(eye=dict(x=1.5, y=1.5, z=1.1)),
    )
    for name, title, v in zip(("xaxis", "yaxis", "zaxis"), ("L (x)", "W (y)", "H (z)"), dims):
        out[name] = dict(title=dict(text=title), range=[-pad, v + pad])
    return out


def packing_figure(packing: Packing, *, title: str | None = None, edges: bool = True) -> go.Figure:
    """The bin as a wireframe and each placed item as a shaded box.

    Traces: ``"bin"`` (Scatter3d lines), then one Mesh3d per placement in placement order (named
    ``"item <i>"``, hover text with the item, its dims, orientation and corner), then ``"edges"``
    (Scatter3d lines of every item's 12 edges) when ``edges``. The axes have equal scales and
    span the bin.

    Args:
        packing: a Packing, complete or partial.
        title: the figure's title; default: surface area, ratio to the lower bound, bin, utilisation.
        edges: draw the items' edges.

    Raises:
        ValueError: if ``packing`` is not a Packing.
    """
    packing = _check_packing(packing)
    fig = go.Figure()
    fig.add_trace(_bin_trace(packing.bin))
    fig.add_traces(_item_traces(packing))
    if edges and packing.placements:
        fig.add_trace(_edges_trace(packing.boxes))
    fig.update_layout(
        title=dict(text=title if title is not None else packing_title(packing)),
        scene=_scene(packing.bin),
        showlegend=False,
        margin=dict(l=10, r=10, t=60, b=10),
    )
    return fig


def _frame_data(packing: Packing, k: int) -> list:
    """Frame ``k``'s update of every trace of the animation's figure: the bin and edges of the first
    ``k`` placements, and each item's visibility.

    plotly matches frame traces to the figure's by index and merges them in, so an item's mesh
    (which never moves) lives once in the figure's data and a frame only shows or hides it; that
    keeps an N = 50 animation small (N frames x N meshes of coordinates would not be).
    """
    part = Packing(packing.instance, packing.placements[:k])
    n = len(packing.placements)
    return [_bin_trace(part.bin), *(go.Mesh3d(visible=r < k) for r in range(n)), _edges_trace(part.boxes)]


def packing_animation(packing: Packing, *, title: str | None = None, duration: int = 600) -> go.Figure:
    """The placements one by one: frame ``k`` shows the first ``k`` items and the bin they span.

    The figure opens on the complete packing; a slider picks a frame and the play button runs them
    in placement order. Traces are laid out as in :func:`packing_figure` (bin, one Mesh3d per item,
    edges); frame ``k`` redraws the bin and edges of the first ``k`` items and hides the meshes of
    the others (a frame's meshes carry only their visibility: plotly merges it into the figure's). The axes are pinned to the
    final bin with equal scales, so the view does not jump as the bin grows.

    Args:
        packing: a Packing with at least one placement.
        title: a prefix for every frame's title (e.g. the solver's name).
        duration: milliseconds per frame when playing.

    Raises:
        ValueError: if ``packing`` is not a Packing, has no placements, or ``duration`` < 1.
    """
    packing = _check_packing(packing)
    n = len(packing.placements)
    if n == 0:
        raise ValueError("packing_animation needs a packing with at least one placement")
    if isinstance(duration, bool) or not isinstance(duration, (int, np.integer)) or duration < 1:
        raise ValueError(f"duration must be a positive number of milliseconds, got {duration!r}")
    frames = []
    for k in range(1, n + 1):
        part = Packing(packing.instance, packing.placements[:k])
        frames.append(
            go.Frame(
                name=str(k), data=_frame_data(packing, k),
                layout=dict(title=dict(text=packing_title(part, title))),
            )
        )
    fig = go.Figure(data=[_bin_trace(packing.bin), *_item_traces(packing), _edges_trace(packing.boxes)], frames=frames)
    play = dict(frame=dict(duration=int(duration), redraw=True), fromcurrent=False, mode="immediate",
                transition=dict(duration=0))
    fig.update_layout(
        title=dict(text=packing_title(packing, title)),
        scene=_scene(packing.bin),
        showlegend=False,
        margin=dict(l=10, r=10, t=60, b=10),
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=0.0, xanchor="left", yanchor="top", pad=dict(t=40),
            buttons=[
                dict(label="Play", method="animate", args=[None, play]),
                dict(label="Pause", method="animate",
                     args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")]),
            ],
        )],
        sliders=[dict(
            active=n - 1, x=0.15, len=0.85, y=0.0, yanchor="top", pad=dict(t=30),
            currentvalue=dict(prefix="items placed: "),
            steps=[
                dict(label=str(k), method="animate",
                     args=[[str(k)], dict(frame=dict(duration=0, redraw=True), mode="immediate",
                                          transition=dict(duration=0))])
                for k in range(1, n + 1)
            ],
        )],
    )
    return fig


def compare_figure(packings: Mapping[str, Packing], *, cols: int | None = None, title: str | None = None) -> go.Figure:
    """Several packings of one instance side by side, one 3D scene each (e.g. one per solver).

    Each subplot is titled with its key, surface and ratio to the lower bound; an item has the same
    colour in every scene, and every scene has the same axis ranges (the largest bin's), so bin sizes
    compare by eye. Traces per scene as in :func:`packing_figure`.

    Args:
        packings: label -> Packing, all of the same instance.
        cols: subplots per row (default: all in one row up to 3).
        title: the figure's title.

    Raises:
        ValueError: no packings, a value that is not a Packing, or packings of different instances.
    """
    if not isinstance(packings, Mapping) or not packings:
        raise ValueError("compare_figure needs a non-empty dict of label -> Packing")
    items = [(str(k), _check_packing(v, f"packings[{k!r}]")) for k, v in packings.items()]
    ref = items[0][1].instance
    for label, p in items[1:]:
        if p.instance.n != ref.n or not np.array_equal(p.instance.dims, ref.dims):
            raise ValueError(f"packings[{label!r}] is of another instance than packings[{items[0][0]!r}]")
    n = len(items)
    if cols is None:
        cols = min(n, 3)
    positive_int(cols, "cols")
    cols = min(int(cols), n)
    rows = math.ceil(n / cols)
    lb = lower_bound(ref)
    common = tuple(max(p.bin[a] for _, p in items) for a in range(3))
    titles = [f"{label}<br>surface {p.surface_area}, ratio {p.surface_area / lb:.4f}" for label, p in items]
    fig = make_subplots(
        rows=rows, cols=cols, specs=[[{"type": "scene"}] * cols for _ in range(rows)],
        subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.08,
    )
    for idx, (_, p) in enumerate(items):
        scene = "scene" if idx == 0 else f"scene{idx + 1}"
        fig.add_trace(_bin_trace(p.bin, scene))
        fig.add_traces(_item_traces(p, scene))
        if p.placements:
            fig.add_trace(_edges_trace(p.boxes, scene))
        fig.layout[scene].update(_scene(common))
    fig.update_layout(
        title=dict(text=title) if title else None,
        showlegend=False, height=520 * rows, margin=dict(l=10, r=10, t=80, b=10),
    )
    return fig
