"""3D figures of packings (plotly)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from packzoo.envs.packing import Packing, lower_bound

# The 12 triangles of a box whose 8 corners are numbered by bits (x, y, z) = (i & 1, i >> 1 & 1, i >> 2).
_TRI_I = [0, 0, 4, 4, 0, 0, 2, 2, 0, 0, 1, 1]
_TRI_J = [1, 3, 5, 7, 1, 5, 3, 7, 2, 6, 3, 7]
_TRI_K = [3, 2, 7, 6, 5, 4, 7, 6, 6, 4, 7, 5]


def box_corners(x: float, y: float, z: float, dx: float, dy: float, dz: float) -> np.ndarray:
    """(8, 3) corners of a box, numbered by bits (x, y, z)."""
    i = np.arange(8)
    return np.stack([x + dx * (i & 1), y + dy * (i >> 1 & 1), z + dz * (i >> 2 & 1)], axis=1).astype(float)


def packing_figure(packing: Packing, *, title: str | None = None) -> go.Figure:
    """The bin as a wireframe and each placed item as a shaded box, one Mesh3d trace per item."""
    fig = go.Figure()
    boxes = packing.boxes
    n = max(len(boxes), 1)
    for r, (p, b) in enumerate(zip(packing.placements, boxes)):
        c = box_corners(*b)
        dims = tuple(int(v) for v in packing.instance.dims[p.item])
        fig.add_trace(
            go.Mesh3d(
                x=c[:, 0], y=c[:, 1], z=c[:, 2], i=_TRI_I, j=_TRI_J, k=_TRI_K,
                color=f"hsl({int(360 * r / n)},70%,55%)", opacity=0.85, flatshading=True,
                name=f"item {p.item}",
                hovertext=f"item {p.item} dims {dims} orientation {p.orientation} corner ({p.x}, {p.y}, {p.z})",
                hoverinfo="text",
            )
        )
    L, W, H = packing.bin
    ratio = packing.surface_area / lower_bound(packing.instance)
    fig.update_layout(
        title=title or f"surface {packing.surface_area}, ratio to lower bound {ratio:.4f}",
        scene=dict(aspectmode="data"),
        showlegend=False,
    )
    return fig
