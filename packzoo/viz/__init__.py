"""plotly figures of packings and metrics, and the offline HTML report.

Importing this module installs the env's ``render_mode="human"`` renderer.
"""

from __future__ import annotations

import os
import sys
import tempfile

from packzoo.envs.binpack import set_human_renderer
from packzoo.envs.packing import Packing
from packzoo.viz.figures import packing_figure

__all__ = ["packing_figure", "show_packing"]


def show_packing(packing: Packing) -> str:
    """Show ``packing``: inline in a notebook, else as an offline HTML file whose path is returned."""
    fig = packing_figure(packing)
    if "ipykernel" in sys.modules:
        fig.show()
        return ""
    path = os.path.join(tempfile.gettempdir(), f"packzoo-render-{os.getpid()}.html")
    fig.write_html(path, include_plotlyjs=True)
    return path


set_human_renderer(show_packing)
