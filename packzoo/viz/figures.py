"""3D figures of packings (plotly): one packing, its placement order as an animation, and a comparison.

Every item is one ``Mesh3d`` trace (named ``"item <i>"``, in placement order), so a figure's data can
be checked against the packing it shows; the frame is a ``Scatter3d`` wireframe per the instance's
mode (free: the bounding box, ``"bin"``; base: the footprint up to the packing's height, ``"base"``;
container: the container, ``"container"``; bins: one ``"bin <b>"`` per bin used, side by side along
x) and the items' edges are one more ``Scatter3d`` trace (one trace for all edges keeps the figure
light at N = 50). An item keeps its colour in every figure of the same instance, so side-by-side
views compare at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from packzoo._checks import positive_int
from packzoo.envs.packing import Packing
from packzoo.solvers.leaderboard import OBJECTIVE_NAMES

__all__ = [
    "bin_gap",
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


def _of(packing: Packing) -> str:
    """``"k/N items"``: how many of the instance's items the packing holds."""
    return f"{packing.items_packed}/{packing.instance.n} items"


def _ratio_text(packing: Packing) -> str | None:
    """``"ratio to lower bound r"`` (``"upper bound / volume r"`` in container mode), or None when
    the packing has no ratio (nothing packed)."""
    try:
        r = packing.ratio
    except (ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(r):
        return None
    return f"upper bound / volume {r:.4f}" if packing.instance.mode == "container" else f"ratio to lower bound {r:.4f}"


def packing_title(packing: Packing, prefix: str | None = None, *, shown_of: int | None = None) -> str:
    """The packing's facts in its mode's terms, prefixed by ``"<prefix>: "`` when given.

    - free: ``"surface S (ratio to lower bound r), bin LxWxH, utilisation u"``;
    - base: ``"height H (ratio to lower bound r), base LxW, utilisation u"``;
    - container: ``"volume V (upper bound / volume r), k items packed, m left out, container LxWxH,
      utilisation u"``;
    - bins: ``"bins B (ratio to lower bound r), bins LxWxH, utilisation u"``.

    In the minimising modes a partial packing says ``k/N items`` instead of a ratio (the bound is
    for all N items). ``shown_of`` marks one frame of an animation of a container packing with
    that many placements: the title then says ``k/shown_of placements shown``, since the items not
    shown yet are not left out.
    """
    inst = packing.instance
    mode = inst.mode
    head = f"{OBJECTIVE_NAMES.get(mode, 'objective')} {_fmt_number(packing.objective)}"
    partial = packing.items_packed != inst.n
    ratio = _ratio_text(packing)
    if mode == "container" and shown_of is not None and packing.items_packed < shown_of:
        text = f"{head}, {packing.items_packed}/{shown_of} placements shown"
    elif mode == "container":
        left = inst.n - packing.items_packed
        text = (f"{head}" + (f" ({ratio})" if ratio else "")
                + f", {packing.items_packed} item{'s' * (packing.items_packed != 1)} packed, {left} left out")
    elif partial or ratio is None:
        text = f"{head}, {_of(packing)}"
    else:
        text = f"{head} ({ratio})"
    if mode == "free":
        L, W, H = packing.bin
        text += f", bin {L}x{W}x{H}"
    elif mode == "base":
        text += f", base {inst.container[0]}x{inst.container[1]}"
    elif mode == "container":
        text += f", container {'x'.join(map(str, inst.container))}"
    else:
        text += f", bins {'x'.join(map(str, inst.container))}"
    text += f", utilisation {packing.utilisation:.1%}"
    return f"{prefix}: {text}" if prefix else text


def _fmt_number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.4g}"


def _check_packing(packing: object, what: str = "packing") -> Packing:
    if not isinstance(packing, Packing):
        raise ValueError(f"{what} must be a packzoo Packing, got {type(packing).__name__}")
    return packing


#: Bins drawn side by side in one row along x, at most this many; more bins wrap into further
#: rows behind the first (along y), so a packing into many bins stays legible.
BINS_PER_ROW = 8


@dataclass(frozen=True)
class _View:
    """Where a packing's items and frames are drawn: the (x, y) offset of each bin's slot (bins
    mode: the bins used, side by side along x with a gap, :data:`BINS_PER_ROW` to a row; other
    modes: one slot at the origin) and the extent of everything drawn."""

    slots: dict[int, tuple[int, int]]
    extent: tuple[int, int, int]


def bin_gap(length: int) -> int:
    """The gap between two bins of side ``length`` drawn side by side (a fifth of it, at least 1)."""
    return max(1, -(-int(length) // 5))


def _view(packing: Packing) -> _View:
    inst = packing.instance
    far = [int(v) for v in packing.bin]
    if inst.mode == "bins":
        L, W, H = inst.container
        used = sorted({int(p.bin) for p in packing.placements}) or [0]
        dx, dy = L + bin_gap(L), W + bin_gap(W)
        slots = {b: (s % BINS_PER_ROW * dx, s // BINS_PER_ROW * dy) for s, b in enumerate(used)}
        boxes = _offset_boxes(packing, slots)
        reach = (boxes[:, :3] + boxes[:, 3:]).max(axis=0) if len(boxes) else (0, 0, 0)
        far_x = max(x for x, _ in slots.values()) + L
        far_y = max(y for _, y in slots.values()) + W
        extent = (max(far_x, int(reach[0])), max(far_y, int(reach[1])), max(H, int(reach[2])))
        return _View(slots, extent)
    if inst.mode == "base":
        L, W = inst.container
        return _View({0: (0, 0)}, (max(L, far[0]), max(W, far[1]), far[2]))
    if inst.mode == "container":
        return _View({0: (0, 0)}, tuple(max(int(c), f) for c, f in zip(inst.container, far)))
    return _View({0: (0, 0)}, tuple(far))


def _offset_boxes(packing: Packing, slots: Mapping[int, tuple[int, int]]) -> np.ndarray:
    """The packing's boxes with each item moved to its bin's slot in bins mode (other modes draw
    every item where it is, whatever its bin: only an invalid packing has a bin other than 0)."""
    boxes = packing.boxes.copy()
    if packing.instance.mode == "bins":
        for r, p in enumerate(packing.placements):
            boxes[r, :2] += slots.get(int(p.bin), (0, 0))
    return boxes


def _frames(packing: Packing, view: _View, scene: str = "scene") -> list[go.Scatter3d]:
    """The frames drawn for ``packing`` (a part of the packing ``view`` was made for, in an
    animation): free, its bounding box ("bin"); base, the footprint up to its height ("base");
    container, the container ("container"); bins, one wireframe per bin of the view ("bin <b>"),
    hidden while it holds none of the packing's items."""
    inst = packing.instance
    mode = inst.mode
    if mode == "bins":
        L, W, H = inst.container
        used = {int(p.bin) for p in packing.placements}
        out = []
        for b, (x, y) in view.slots.items():
            count = sum(int(p.bin) == b for p in packing.placements)
            trace = _wireframe((x, y, 0, L, W, H), f"bin {b}", f"bin {b}: {L}x{W}x{H}, {count} items", scene)
            trace.visible = b in used or not packing.placements
            out.append(trace)
        return out
    if mode == "base":
        L, W = inst.container
        H = packing.height
        return [_wireframe((0, 0, 0, L, W, H), "base", f"base {L}x{W}, height {H}", scene)]
    if mode == "container":
        L, W, H = inst.container
        left = sorted(set(range(inst.n)) - {int(p.item) for p in packing.placements})
        text = f"container {L}x{W}x{H}"
        if left:
            shown = ", ".join(map(str, left[:20])) + (" ..." if len(left) > 20 else "")
            text += f"<br>left out: item{'s' * (len(left) > 1)} {shown}"
        return [_wireframe((0, 0, 0, L, W, H), "container", text, scene)]
    L, W, H = packing.bin
    return [_wireframe((0, 0, 0, L, W, H), "bin", f"bin {L}x{W}x{H}", scene)]


def _wireframe(box: Sequence[int], name: str, hover: str, scene: str) -> go.Scatter3d:
    xs, ys, zs = box_edges(np.array([box]))
    return go.Scatter3d(
        x=xs, y=ys, z=zs, mode="lines", line=dict(color=_BIN_COLOR, width=4, dash="dash"),
        name=name, hovertext=hover, hoverinfo="text", showlegend=False, scene=scene,
    )


def _edges_trace(boxes: np.ndarray, extent: Sequence[int], scene: str = "scene") -> go.Scatter3d:
    boxes = np.asarray(boxes).reshape(-1, 6)
    xs, ys, zs = box_edges(boxes, grow=_EDGE_GROW * max(max(int(v) for v in extent), 1))
    return go.Scatter3d(
        x=xs, y=ys, z=zs, mode="lines", line=dict(color=_EDGE_COLOR, width=3),
        name="edges", hoverinfo="skip", showlegend=False, scene=scene,
    )


def _item_edges_traces(packing: Packing, view: _View) -> list[go.Scatter3d]:
    """One Scatter3d per placement (``"edges <i>"``): its item's 12 edges, for animations, whose
    frames then only show or hide them (one trace of every edge would be sent again in each frame:
    O(N^2) coordinates, 20 MB for 200 items)."""
    grow = _EDGE_GROW * max(max(int(v) for v in view.extent), 1)
    out = []
    for p, box in zip(packing.placements, _offset_boxes(packing, view.slots)):
        xs, ys, zs = box_edges(box, grow=grow)
        out.append(go.Scatter3d(
            x=xs, y=ys, z=zs, mode="lines", line=dict(color=_EDGE_COLOR, width=3),
            name=f"edges {p.item}", hoverinfo="skip", showlegend=False,
        ))
    return out


def _item_traces(packing: Packing, view: _View, scene: str = "scene") -> list[go.Mesh3d]:
    n = packing.instance.n
    bins = packing.instance.mode == "bins"
    traces = []
    for p, b, drawn in zip(packing.placements, packing.boxes, _offset_boxes(packing, view.slots)):
        c = box_corners(*drawn)
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
                    + (f"<br>bin {p.bin}" if bins else "")
                    + f"<br>corner ({p.x}, {p.y}, {p.z})"
                ),
                hoverinfo="text",
            )
        )
    return traces


def _scene(extent: Sequence[int], *, x_title: str = "L (x)", front: bool = False) -> dict:
    """A scene with equal scales on the three axes (titled L, W, H) spanning ``extent``.

    The ranges are pinned to the extent plus a small margin (an animation must not rescale as its
    bin grows, and the edges, drawn just outside their boxes, must stay inside the ranges: WebGL
    clips what lies outside and draws it as noise). The aspect ratio is the ranges', normalised by
    the longest: plotly's ``aspectmode="data"`` normalises differently and lets a tall bin overflow.
    ``front`` looks from the front (the y = 0 side), x running left to right: bins side by side
    then read in order, bin 0 on the left.
    """
    dims = [max(int(v), 1) for v in extent]
    pad = _RANGE_PAD * max(dims)
    m = max(dims) + 2 * pad
    out: dict = dict(
        aspectmode="manual",
        aspectratio=dict(x=(dims[0] + 2 * pad) / m, y=(dims[1] + 2 * pad) / m, z=(dims[2] + 2 * pad) / m),
        camera=dict(eye=dict(x=0.2, y=-1.1, z=0.5) if front else dict(x=1.5, y=1.5, z=1.1)),
    )
    for name, title, v in zip(("xaxis", "yaxis", "zaxis"), (x_title, "W (y)", "H (z)"), dims):
        out[name] = dict(title=dict(text=title), range=[-pad, v + pad])
    return out


def _scene_of(packing: Packing, extent: Sequence[int]) -> dict:
    """:func:`_scene` for ``packing``'s mode: bins are seen from the front, in order."""
    if packing.instance.mode == "bins":
        return _scene(extent, x_title="L (x), bins side by side", front=True)
    return _scene(extent)


def packing_figure(packing: Packing, *, title: str | None = None, edges: bool = True) -> go.Figure:
    """The packing in 3D: its frame as a wireframe and each placed item as a shaded box.

    The frame follows the instance's mode: free, the bounding box from the origin (trace ``"bin"``);
    base, the L x W footprint up to the packing's height (``"base"``); container, the container
    (``"container"``; its hover text lists the items left out); bins, every bin used, side by side
    along x with a gap (:func:`bin_gap`; :data:`BINS_PER_ROW` to a row, further rows behind the
    first), one wireframe each (``"bin 0"``, ``"bin 1"``, ... in bin order), each item drawn in its
    bin's slot.

    Traces: the frame(s) (Scatter3d lines), then one Mesh3d per placement in placement order (named
    ``"item <i>"``, hover text with the item, its dims, orientation, bin (bins mode) and corner in
    its bin), then ``"edges"`` (Scatter3d lines of every item's 12 edges) when ``edges``. The axes
    have equal scales and span the frames and the items.

    Args:
        packing: a Packing of any mode, complete or partial.
        title: the figure's title; default :func:`packing_title` (the mode's objective, its ratio
            to the bound, the container and the utilisation).
        edges: draw the items' edges.

    Raises:
        ValueError: if ``packing`` is not a Packing.
    """
    packing = _check_packing(packing)
    view = _view(packing)
    fig = go.Figure()
    fig.add_traces(_frames(packing, view))
    fig.add_traces(_item_traces(packing, view))
    if edges and packing.placements:
        fig.add_trace(_edges_trace(_offset_boxes(packing, view.slots), view.extent))
    fig.update_layout(
        title=dict(text=title if title is not None else packing_title(packing)),
        scene=_scene_of(packing, view.extent),
        showlegend=False,
        margin=dict(l=10, r=10, t=60, b=10),
    )
    return fig


def _frame_data(packing: Packing, view: _View, k: int) -> list:
    """Frame ``k``'s update of every trace of the animation's figure: the frames of the first
    ``k`` placements, and each item's and its edges' visibility.

    plotly matches frame traces to the figure's by index and merges them in, so an item's mesh
    and edges (which never move) live once in the figure's data and a frame only shows or hides
    them; that keeps an animation small (N frames x N boxes of coordinates would not be).
    """
    part = Packing(packing.instance, packing.placements[:k])
    n = len(packing.placements)
    # Plain dicts: go.Frame builds its traces from them once (objects would be built twice, and
    # an animation of N items has N frames of 2N traces).
    if packing.instance.mode == "bins":
        # The bins never move: a frame only shows the ones opened so far.
        opened = {int(p.bin) for p in part.placements}
        frames: list = [{"type": "scatter3d", "visible": b in opened} for b in view.slots]
    else:
        frames = _frames(part, view)
    return [*frames, *({"type": "mesh3d", "visible": r < k} for r in range(n)),
            *({"type": "scatter3d", "visible": r < k} for r in range(n))]


def packing_animation(packing: Packing, *, title: str | None = None, duration: int = 600) -> go.Figure:
    """The placements one by one: frame ``k`` shows the first ``k`` items and their frame.

    The figure opens on the complete packing; a slider picks a frame and the play button runs them
    in placement order. Traces are laid out as in :func:`packing_figure` (frames, one Mesh3d per
    item) but for the edges: one Scatter3d per item (``"edges <i>"``, in placement order). Frame
    ``k`` redraws the frames (free: the bin the first ``k`` items span; base: the footprint up to
    their height; bins: only the bins opened so far) and hides the meshes and edges of the items
    after the first ``k`` (a frame's meshes and edges carry only their visibility: plotly merges it
    into the figure's). The axes are pinned to the final packing's with equal scales, so the view
    does not jump as the packing grows; bins keep their slots.

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
    view = _view(packing)
    frames = []
    for k in range(1, n + 1):
        part = Packing(packing.instance, packing.placements[:k])
        frames.append(
            go.Frame(
                name=str(k), data=_frame_data(packing, view, k),
                layout=dict(title=dict(text=packing_title(part, title, shown_of=n))),
            )
        )
    data = [*_frames(packing, view), *_item_traces(packing, view), *_item_edges_traces(packing, view)]
    fig = go.Figure(data=data, frames=frames)
    play = dict(frame=dict(duration=int(duration), redraw=True), fromcurrent=False, mode="immediate",
                transition=dict(duration=0))
    fig.update_layout(
        title=dict(text=packing_title(packing, title)),
        scene=_scene_of(packing, view.extent),
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


def _subplot_title(label: str, packing: Packing) -> str:
    """``"<label><br>surface S, ratio r"`` in the packing's mode's terms (container: ``"volume V,
    ratio r, k/N items"``, the ratio being upper bound / volume)."""
    mode = packing.instance.mode
    text = f"{label}<br>{OBJECTIVE_NAMES.get(mode, 'objective')} {_fmt_number(packing.objective)}"
    try:
        r = packing.ratio
    except (ValueError, ZeroDivisionError):
        r = math.inf
    complete = packing.items_packed == packing.instance.n
    if math.isfinite(r) and (complete or mode == "container"):
        text += f", ratio {r:.4f}"
    if not complete:
        text += f", {_of(packing)}"
    return text


def compare_figure(packings: Mapping[str, Packing], *, cols: int | None = None, title: str | None = None) -> go.Figure:
    """Several packings of one instance side by side, one 3D scene each (e.g. one per solver).

    Each subplot is titled with its key, the mode's objective and its ratio to the bound; an item
    has the same colour in every scene, and every scene has the same axis ranges (the largest
    extent's), so sizes compare by eye. Traces per scene as in :func:`packing_figure` (in bins
    mode every scene draws its own bins side by side).

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
        same = (p.instance.n == ref.n and np.array_equal(p.instance.dims, ref.dims)
                and p.instance.mode == ref.mode and p.instance.container == ref.container)
        if not same:
            raise ValueError(f"packings[{label!r}] is of another instance than packings[{items[0][0]!r}]")
    n = len(items)
    if cols is None:
        cols = min(n, 3)
    positive_int(cols, "cols")
    cols = min(int(cols), n)
    rows = math.ceil(n / cols)
    views = [_view(p) for _, p in items]
    common = tuple(max(v.extent[a] for v in views) for a in range(3))
    titles = [_subplot_title(label, p) for label, p in items]
    fig = make_subplots(
        rows=rows, cols=cols, specs=[[{"type": "scene"}] * cols for _ in range(rows)],
        subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.08,
    )
    for idx, ((_, p), view) in enumerate(zip(items, views)):
        scene = "scene" if idx == 0 else f"scene{idx + 1}"
        fig.add_traces(_frames(p, view, scene))
        fig.add_traces(_item_traces(p, view, scene))
        if p.placements:
            fig.add_trace(_edges_trace(_offset_boxes(p, view.slots), common, scene))
        fig.layout[scene].update(_scene_of(p, common))
    fig.update_layout(
        title=dict(text=title) if title else None,
        showlegend=False, height=520 * rows, margin=dict(l=10, r=10, t=80, b=10),
    )
    return fig
