"""plotly figures of packings and metrics, and the offline HTML report.

- :func:`packing_figure`, :func:`packing_animation`, :func:`compare_figure`: packings in 3D.
- :func:`leaderboard_figure`, :func:`gap_histogram`, :func:`training_curves`: metrics.
- :func:`report`: one self-contained HTML page of a leaderboard (``packzoo report``).

:class:`HTMLRenderer` is the envs' ``render_mode="human"`` renderer: ``import packzoo`` registers
the env ids with one (writing ``packzoo-render.html`` in the working folder), users pass their own
with ``gym.make(id, render_mode="human", renderer=HTMLRenderer("my.html"))``, and the env module
itself holds no plotting code. :func:`show_packing` draws one packing the same way.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from packzoo._io import atomic_write_text
from packzoo.envs.packing import Packing
from packzoo.viz.figures import compare_figure, item_color, packing_animation, packing_figure
from packzoo.viz.metrics import gap_histogram, leaderboard_figure, load_leaderboard, read_metrics_csv, training_curves
from packzoo.viz.report import report

__all__ = [
    "HTMLRenderer",
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


class HTMLRenderer:
    """The envs' ``render_mode="human"`` renderer: the current packing as one offline HTML file.

    Each call rewrites the same file atomically (a browser tab on it shows the latest packing
    after a reload) and prints its path on the first call only (again only if a relative path
    comes to name another file after a change of working folder); in a Jupyter notebook it draws
    the figure inline instead, updating one output in place. It is a plain picklable object, so
    vectorised envs (SB3's SubprocVecEnv) can carry it to their worker processes.

    Args:
        path: the HTML file to (re)write; a relative path is taken from the working folder of each
            call. Default ``packzoo-render.html``.
        inline: True to draw inline in a notebook, False to write the file, None (default) to draw
            inline when running inside a Jupyter kernel.
        announce: print the file's path on the first call.

    Raises:
        ValueError: ``path`` is not a path, names a folder or a file in a folder that does not
            exist, or ``inline=True`` without IPython installed.

    Example:
        >>> import gymnasium as gym, packzoo
        >>> from packzoo.viz import HTMLRenderer
        >>> env = gym.make("packzoo/BinPack3D-v0", render_mode="human",
        ...                renderer=HTMLRenderer("my-packing.html"))  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike = "packzoo-render.html", *, inline: bool | None = None,
                 announce: bool = True) -> None:
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise ValueError(f"path must be a file path, got {path!r}")
        full = Path(path).expanduser().absolute()
        if full.is_dir():
            raise ValueError(f"path {str(full)!r} is a folder; name an .html file in it")
        if not full.parent.is_dir():
            raise ValueError(f"cannot write {str(full)!r}: the folder {str(full.parent)!r} does not exist")
        if inline not in (None, True, False):
            raise ValueError(f"inline must be True, False or None, got {inline!r}")
        if inline and importlib.util.find_spec("IPython") is None:
            raise ValueError("inline=True needs IPython (a Jupyter notebook)")
        # Kept as given: a relative path follows the working folder of each call (the default file
        # lands where the user runs), an absolute one stays put.
        self.path = Path(path).expanduser()
        self.inline = inline
        self.announce = bool(announce)
        self._announced: Path | None = None  # the file whose path was printed last
        self._handle = None  # the notebook output updated in place (not picklable: dropped)

    def __repr__(self) -> str:
        return f"HTMLRenderer(path={str(self.path)!r}, inline={self.inline!r})"

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_handle"] = None
        return state

    def _draws_inline(self) -> bool:
        if self.inline is not None:
            return self.inline
        # A Jupyter kernel has imported ipykernel; plain IPython or python has not.
        return "ipykernel" in sys.modules

    def __call__(self, packing: Packing) -> str | None:
        """Draw ``packing``: returns the HTML file's path, or None when drawn inline."""
        fig = packing_figure(packing)
        if self._draws_inline():
            from IPython.display import display

            if self._handle is None:
                self._handle = display(fig, display_id=True)
            else:
                self._handle.update(fig)
            return None
        target = self.path.absolute()
        atomic_write_text(target, fig.to_html(include_plotlyjs=True, full_html=True))
        if self.announce and self._announced != target:
            self._announced = target
            print(f"packzoo: rendering to {target} (rewritten at every step; reload the page to follow)")
        return str(target)


def show_packing(packing: Packing, path: str | os.PathLike = "packzoo-render.html") -> str | None:
    """Draw ``packing`` once: inline in a notebook (returns None), else into the offline HTML file
    ``path`` (default ``packzoo-render.html`` in the working folder), whose path is returned."""
    return HTMLRenderer(path, announce=False)(packing)
