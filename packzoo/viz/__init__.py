"""plotly figures of packings and metrics, and the offline HTML report.

- :func:`packing_figure`, :func:`packing_animation`, :func:`compare_figure`: packings in 3D.
- :func:`leaderboard_figure`, :func:`gap_histogram`, :func:`training_curves`: metrics.
- :func:`report`: one self-contained HTML page of a leaderboard (``packzoo report``).

:func:`show_packing` is the envs' default ``render_mode="human"`` renderer: ``import packzoo``
registers the env ids with it, and the env module itself holds no plotting code.
"""

from __future__ import annotations

import os
import sys
import tempfile

from packzoo._io import atomic_write_text
from packzoo.envs.packing import Packing
from packzoo.viz.figures import compare_figure, item_color, packing_animation, packing_figure
from packzoo.viz.metrics import gap_histogram, leaderboard_figure, load_leaderboard, read_metrics_csv, training_curves
from packzoo.viz.report import report

__all__ = [
    "compare_figure",
    "gap_histogram",
    "item_color",
    "leaderboard_figure",
    "load_leaderboard",
    "packing_animation",
    "packing_figure",
    "read_metrics_csv",
    "report",
    "show_packing",
    "training_curves",
]


def show_packing(packing: Packing) -> str:
    """Show ``packing``: inline in a notebook (returns ""), else as an offline HTML file whose path is returned.

    The file is ``packzoo-render-<pid>.html`` in the temp folder, rewritten at each call, so a
    rendering loop keeps one file that a browser tab can reload.
    """
    fig = packing_figure(packing)
    if "ipykernel" in sys.modules:
        fig.show()
        return ""
    path = os.path.join(tempfile.gettempdir(), f"packzoo-render-{os.getpid()}.html")
    atomic_write_text(path, fig.to_html(include_plotlyjs=True, full_html=True))
    return path

