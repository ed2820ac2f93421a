"""The 3D figures hold exactly the packing they show: one Mesh3d per item on the item's box."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import plotly.graph_objects as go
import pytest

from packzoo.envs import Packing, cube_cut, lower_bound, uniform, validate
from packzoo.solvers import create_solver
from packzoo.viz import compare_figure, item_color, packing_animation, packing_figure
from packzoo.viz.figures import box_corners, box_edges


@pytest.fixture(scope="module")
def rotated() -> Packing:
    """A random-order packing of a uniform instance: items in several orientations."""
    inst = uniform(9, seed=42)
    p = create_solver("random").solve(inst, seed=1).packing
    assert validate(p) == []
    return p


def meshes(fig: go.Figure, scene: str | None = None) -> list:
    return [t for t in fig.data if t.type == "mesh3d" and (scene is None or (t.scene or "scene") == scene)]


def named(fig: go.Figure, name: str, scene: str | None = None):
    found = [t for t in fig.data if t.name == name and (scene is None or (t.scene or "scene") == scene)]
    assert len(found) == 1, f"expected one {name!r} trace, found {len(found)}"
    return found[0]


def check_mesh_is_box(mesh, box) -> None:
    """The mesh's 8 vertices are the box's corners and its 12 triangles tile the box's 6 faces."""
    v = np.stack([np.asarray(mesh.x, float), np.asarray(mesh.y, float), np.asarray(mesh.z, float)], axis=1)
    lo = np.asarray(box[:3], float)
    hi = lo + np.asarray(box[3:], float)
    assert v.shape == (8, 3)
    assert np.array_equal(v.min(axis=0), lo) and np.array_equal(v.max(axis=0), hi)
    expected = {tuple(c) for c in itertools.product(*zip(lo, hi))}
    assert {tuple(r) for r in v} == expected
    faces: dict[tuple[int, float], list[frozenset]] = {}
    for a, b, c in zip(mesh.i, mesh.j, mesh.k):
        tri = v[[a, b, c]]
        # Each triangle lies in one face: one coordinate shared by its 3 vertices, at lo or hi.
        axes = [ax for ax in range(3) if np.all(tri[:, ax] == tri[0, ax]) and tri[0, ax] in (lo[ax], hi[ax])]
        assert len(axes) == 1, f"triangle {tri.tolist()} is not on one face of the box"
        assert 0.5 * np.linalg.norm(np.cross(tri[1] - tri[0], tri[2] - tri[0])) > 0, "degenerate triangle"
        faces.setdefault((axes[0], float(tri[0, axes[0]])), []).append(frozenset(map(tuple, tri)))
    # The 6 faces, each tiled by two triangles that share exactly one diagonal of the face.
    assert len(faces) == 6
    for (ax, _), (t1, t2) in faces.items():
        shared = list(t1 & t2)
        assert len(t1 | t2) == 4 and len(shared) == 2
        p, q = np.array(shared[0]), np.array(shared[1])
        assert sum(p[o] != q[o] for o in range(3) if o != ax) == 2, "the shared edge must be a diagonal"


def segments(trace) -> list[np.ndarray]:
    """The (2, 3) segments of a Scatter3d drawn as None-separated line pieces."""
    out = []
    xs, ys, zs = list(trace.x), list(trace.y), list(trace.z)
    for k in range(0, len(xs), 3):
        assert xs[k + 2] is None and ys[k + 2] is None and zs[k + 2] is None
        out.append(np.array([[xs[k], ys[k], zs[k]], [xs[k + 1], ys[k + 1], zs[k + 1]]], float))
    return out


def test_box_corners_and_edges():
    c = box_corners(1, 2, 3, 4, 5, 6)
    assert {tuple(r) for r in c} == set(itertools.product((1, 5), (2, 7), (3, 9)))
    xs, ys, zs = box_edges(np.array([[1, 2, 3, 4, 5, 6]]))
    assert len(xs) == 36 and xs.count(None) == 12
    seg = segments(go.Scatter3d(x=xs, y=ys, z=zs))
    lengths = sorted(float(np.linalg.norm(s[1] - s[0])) for s in seg)
    assert lengths == [4.0] * 4 + [5.0] * 4 + [6.0] * 4  # 12 axis-parallel edges, 4 per axis


@pytest.mark.parametrize("which", ["cube", "rotated"])
def test_one_mesh_per_item_on_its_box(which, cube8, rotated):
    packing = cube8[1] if which == "cube" else rotated
    fig = packing_figure(packing)
    ms = meshes(fig)
    assert len(ms) == packing.instance.n
    for mesh, p, box in zip(ms, packing.placements, packing.boxes):
        assert mesh.name == f"item {p.item}"
        check_mesh_is_box(mesh, box)
        # hover text: item, dims, orientation, corner
        dims = tuple(int(v) for v in packing.instance.dims[p.item])
        text = mesh.hovertext
        assert f"item {p.item}" in text and f"dims {dims}" in text
        assert f"orientation {p.orientation}" in text and f"corner ({p.x}, {p.y}, {p.z})" in text
    # a colour per item
    assert len({m.color for m in ms}) == packing.instance.n


def test_bin_wireframe_edges_title_and_equal_scales(rotated):
    fig = packing_figure(rotated)
    L, W, H = rotated.bin
    bin_pts = np.concatenate(segments(named(fig, "bin")))
    assert np.array_equal(bin_pts.min(axis=0), [0, 0, 0]) and np.array_equal(bin_pts.max(axis=0), [L, W, H])
    assert len(segments(named(fig, "bin"))) == 12
    # edges: 12 per item, each within a hair of an edge of its box
    edges = segments(named(fig, "edges"))
    assert len(edges) == 12 * rotated.instance.n
    grow = max(L, W, H) * 0.01
    for r, box in enumerate(rotated.boxes):
        mine = edges[12 * r : 12 * r + 12]
        corners = box_corners(*box)
        for s in mine:
            for end in s:
                assert np.min(np.abs(corners - end).max(axis=1)) <= grow
    ratio = rotated.surface_area / lower_bound(rotated.instance)
    title = fig.layout.title.text
    assert f"surface {rotated.surface_area}" in title and f"{ratio:.4f}" in title
    # equal scales: data units per unit of aspect ratio agree on the three axes, and the ranges hold the bin
    sc = fig.layout.scene
    units = []
    for ax, dim in zip(("xaxis", "yaxis", "zaxis"), (L, W, H)):
        lo, hi = sc[ax].range
        assert lo <= 0 and hi >= dim
        units.append((hi - lo) / sc.aspectratio[ax[0]])
    assert units == pytest.approx([units[0]] * 3)


def test_partial_and_empty_packings(rotated):
    part = Packing(rotated.instance, rotated.placements[:4])
    fig = packing_figure(part)
    assert len(meshes(fig)) == 4
    assert "4/9 items" in fig.layout.title.text and "ratio" not in fig.layout.title.text  # LB is for all 9
    for mesh, box in zip(meshes(fig), part.boxes):
        check_mesh_is_box(mesh, box)
    empty = packing_figure(Packing(rotated.instance, ()))
    assert meshes(empty) == []
    assert packing_figure(rotated, title="mine").layout.title.text == "mine"


def test_bad_input():
    with pytest.raises(ValueError, match="Packing"):
        packing_figure([[1, 2, 3]])
    with pytest.raises(ValueError, match="Packing"):
        packing_animation("no")
    with pytest.raises(ValueError, match="n must be"):
        item_color(0, 0)


def test_animation_frames_follow_placement_order(rotated):
    fig = packing_animation(rotated, title="random")
    n = rotated.instance.n
    assert len(fig.frames) == n
    assert [f.name for f in fig.frames] == [str(k) for k in range(1, n + 1)]
    # the figure holds each item's mesh once, on its box; frames only show or hide them
    assert [m.name for m in meshes(fig)] == [f"item {p.item}" for p in rotated.placements]
    for mesh, box in zip(meshes(fig), rotated.boxes):
        check_mesh_is_box(mesh, box)
    # ... and each item's edges once, one trace per item after the meshes, within a hair of its box
    edges = fig.data[1 + n:]
    assert [t.name for t in edges] == [f"edges {p.item}" for p in rotated.placements]
    grow = max(rotated.bin) * 0.01
    for t, box in zip(edges, rotated.boxes):
        corners = box_corners(*box)
        assert len(segments(t)) == 12
        assert all(np.min(np.abs(corners - end).max(axis=1)) <= grow for s in segments(t) for end in s)
    types = [t.type for t in fig.data]
    for k, frame in enumerate(fig.frames, start=1):
        assert [t.type for t in frame.data] == types  # plotly matches frame traces by index
        ms = [t for t in frame.data if t.type == "mesh3d"]
        assert [m.visible for m in ms] == [True] * k + [False] * (n - k)
        assert all(m.x is None for m in ms)
        es = frame.data[1 + n:]
        assert [e.visible for e in es] == [True] * k + [False] * (n - k)
        assert all(e.x is None for e in es)
        part = Packing(rotated.instance, rotated.placements[:k])
        bin_pts = np.concatenate(segments([t for t in frame.data if t.name == "bin"][0]))
        assert np.array_equal(bin_pts.max(axis=0), part.bin)
        assert f"surface {part.surface_area}" in frame.layout.title.text
    # the figure opens on the complete packing
    assert all(m.visible is not False for m in meshes(fig))
    # a slider over the frames and a play button that redraws (3D scenes need it)
    (slider,) = fig.layout.sliders
    assert [list(s.args[0]) for s in slider.steps] == [[str(k)] for k in range(1, n + 1)]
    assert slider.active == n - 1
    play = fig.layout.updatemenus[0].buttons[0]
    assert play.label == "Play" and play.method == "animate" and play.args[0] is None
    assert play.args[1]["frame"]["redraw"] is True
    # ranges fixed to the final bin, so the view does not jump
    for ax, dim in zip(("xaxis", "yaxis", "zaxis"), rotated.bin):
        assert fig.layout.scene[ax].range[1] >= dim
    with pytest.raises(ValueError, match="at least one placement"):
        packing_animation(Packing(rotated.instance, ()))
    with pytest.raises(ValueError, match="duration"):
        packing_animation(rotated, duration=0)


def test_compare_figure(rotated):
    inst = rotated.instance
    other = create_solver("sort-volume").solve(inst).packing
    fig = compare_figure({"random": rotated, "sort-volume": other})
    assert fig.layout.scene is not None and fig.layout.scene2 is not None
    for scene, p in (("scene", rotated), ("scene2", other)):
        ms = meshes(fig, scene)
        assert len(ms) == inst.n
        for mesh, box in zip(ms, p.boxes):
            check_mesh_is_box(mesh, box)
        pts = np.concatenate(segments(named(fig, "bin", scene)))
        assert np.array_equal(pts.max(axis=0), p.bin)
    # the same ranges in both scenes, holding the larger bin
    for ax, a in zip(("xaxis", "yaxis", "zaxis"), range(3)):
        assert fig.layout.scene[ax].range == fig.layout.scene2[ax].range
        assert fig.layout.scene[ax].range[1] >= max(rotated.bin[a], other.bin[a])
    assert fig.layout.scene.aspectratio == fig.layout.scene2.aspectratio
    # an item keeps its colour in both scenes
    col1 = {m.name: m.color for m in meshes(fig, "scene")}
    col2 = {m.name: m.color for m in meshes(fig, "scene2")}
    assert col1 == col2
    titles = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("random") and f"surface {rotated.surface_area}" in t for t in titles)
    assert any(t.startswith("sort-volume") and f"surface {other.surface_area}" in t for t in titles)


def test_compare_figure_rejects_bad_input(rotated, cube8):
    with pytest.raises(ValueError, match="non-empty"):
        compare_figure({})
    with pytest.raises(ValueError, match="another instance"):
        compare_figure({"a": rotated, "b": cube8[1]})
    with pytest.raises(ValueError, match="Packing"):
        compare_figure({"a": rotated, "b": 3})
    with pytest.raises(ValueError, match="cols"):
        compare_figure({"a": rotated}, cols=0)


def test_compare_grid_rows(cube8):
    inst, opt = cube8
    packs = {f"s{k}": create_solver("random").solve(inst, seed=k).packing for k in range(4)}
    packs["opt"] = opt
    fig = compare_figure(packs, cols=2)
    assert len(meshes(fig)) == 5 * inst.n
    assert fig.layout.scene5 is not None and fig.layout.height == 3 * 520


def test_cube_oracle_title(cube8):
    inst, opt = cube8
    fig = packing_figure(opt)
    # the cube-cut optimum is a cube: its title says so
    assert f"surface {6 * 20 * 20}" in fig.layout.title.text and "bin 20x20x20" in fig.layout.title.text
    assert "utilisation 100.0%" in fig.layout.title.text


def test_human_render_writes_offline_html(tmp_path, monkeypatch, capsys):
    """gym.make's default renderer: one packzoo-render.html in the working folder, rewritten on
    every reset and step, its path printed once; nothing in the temp folder (main wrote
    packzoo-render-<pid>.html there, one per process, never removed)."""
    import tempfile

    import gymnasium as gym

    import packzoo

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(packzoo, "_default_renderer", None)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    inst, _ = cube_cut(5, side=10, seed=3)
    env = gym.make("packzoo/BinPack3D-v0", n_items=5, render_mode="human")
    env.reset(options={"instance": inst})
    path = work / "packzoo-render.html"
    assert env.unwrapped.last_render == str(path)
    assert path.read_text(encoding="utf-8").count('"name":"item ') == 0  # drawn on reset: empty bin
    env.step(0)
    env.step(1)
    text = path.read_text(encoding="utf-8")
    assert text.count('"name":"item ') == 2  # a mesh for each of the two placed items
    assert "<script src=" not in text  # plotly.js is embedded: it opens offline
    assert env.render() is None
    assert capsys.readouterr().out.count(str(path)) == 1  # announced once, not at every step
    assert list(temp.iterdir()) == [] and sorted(p.name for p in work.iterdir()) == ["packzoo-render.html"]
    env.close()
    ansi = gym.make("packzoo/BinPack3D-v0", n_items=5, render_mode="ansi")
    ansi.reset(options={"instance": inst})
    ansi.step(0)
    assert "1/5 items packed" in ansi.render()


def test_html_renderer_into_a_file_the_user_names(tmp_path, capsys):
    import pickle

    import cloudpickle
    import gymnasium as gym

    import packzoo  # noqa: F401  (registers the envs)
    from packzoo.viz import HTMLRenderer

    out = tmp_path / "mine.html"
    renderer = HTMLRenderer(out)
    env = gym.make("packzoo/BinPack3D-v0", n_items=4, render_mode="human", renderer=renderer)
    env.reset(seed=0)
    for item in range(4):
        env.step(item)
    assert out.read_text(encoding="utf-8").count('"name":"item ') == 4
    assert [p.name for p in tmp_path.iterdir()] == ["mine.html"]  # atomic rewrites leave no temp files
    assert capsys.readouterr().out.count(str(out)) == 1
    # what SubprocVecEnv does with an env factory: cloudpickle it to a worker
    make = cloudpickle.loads(cloudpickle.dumps(lambda: gym.make("packzoo/BinPack3D-v0", n_items=4,
                                                                 render_mode="human", renderer=renderer)))
    assert make().unwrapped.renderer.path == out
    assert pickle.loads(pickle.dumps(renderer)).path == out
    for bad, words in [(tmp_path, "is a folder"), (tmp_path / "nope" / "x.html", "does not exist"), (5, "file path")]:
        with pytest.raises(ValueError, match=words):
            HTMLRenderer(bad)


def test_html_renderer_inline_in_a_notebook(tmp_path, monkeypatch):
    """In a Jupyter kernel the figure is drawn inline, one output updated in place, no file."""
    import pickle
    import sys
    import types

    from packzoo.viz import HTMLRenderer

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def display(obj, display_id=False):
        shown.append(("display", obj))
        return Handle() if display_id else None

    ipython = types.ModuleType("IPython")
    ipython.display = types.ModuleType("IPython.display")
    ipython.display.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", ipython.display)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.chdir(tmp_path)
    inst, opt = cube_cut(3, side=4, seed=0)
    renderer = HTMLRenderer()
    assert renderer(opt) is None and renderer(opt) is None
    assert [kind for kind, _ in shown] == ["display", "update"] and isinstance(shown[0][1], go.Figure)
    assert list(tmp_path.iterdir()) == []
    assert pickle.loads(pickle.dumps(renderer))._handle is None  # the notebook handle stays behind
    assert HTMLRenderer(inline=False)(opt) == str(tmp_path / "packzoo-render.html")


# --- every container mode -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def three_bins():
    """8 items cut from 3 bins of 10^3, and that optimal 3-bin packing."""
    from packzoo.envs import bins_cut

    return bins_cut(8, bin=(10, 10, 10), k=3, seed=1)


def frames_of(fig: go.Figure, scene: str | None = None) -> dict[str, np.ndarray]:
    """name -> (lo, hi) corners of every wireframe (Scatter3d but the edges) of a scene."""
    out = {}
    for t in fig.data:
        if t.type == "scatter3d" and not t.name.startswith("edges") and (scene is None or (t.scene or "scene") == scene):
            pts = np.concatenate(segments(t))
            out[t.name] = np.stack([pts.min(axis=0), pts.max(axis=0)])
    return out


def mesh_box(mesh) -> np.ndarray:
    v = np.stack([np.asarray(mesh.x, float), np.asarray(mesh.y, float), np.asarray(mesh.z, float)], axis=1)
    return np.concatenate([v.min(axis=0), v.max(axis=0) - v.min(axis=0)])


def check_equal_scales(scene, extent) -> None:
    units = []
    for ax, dim in zip(("xaxis", "yaxis", "zaxis"), extent):
        lo, hi = scene[ax].range
        assert lo <= 0 and hi >= dim
        units.append((hi - lo) / scene.aspectratio[ax[0]])
    assert units == pytest.approx([units[0]] * 3)


def check_bins(fig: go.Figure, packing: Packing, scene: str | None = None) -> None:
    """One wireframe per bin used, named by its index, each the bin's size, side by side along x
    with a gap, 8 to a row, further rows behind (none overlaps or touches another), and every
    item's mesh on its box moved into its bin."""
    L, W, H = packing.instance.container
    used = sorted({p.bin for p in packing.placements})
    frames = frames_of(fig, scene)
    assert list(frames) == [f"bin {b}" for b in used]
    corners = []
    for s, b in enumerate(used):
        lo, hi = frames[f"bin {b}"]
        assert np.array_equal(hi - lo, [L, W, H]) and lo[2] == 0
        if s % 8:  # right of the bin before it, in the same row
            assert lo[0] > corners[-1][1][0] and lo[1] == corners[-1][0][1]
        else:  # a row starts at x = 0: the first at y = 0, the next ones behind the row before
            assert lo[0] == 0 and (lo[1] == 0 if s == 0 else lo[1] > corners[-1][1][1])
        corners.append((lo, hi))
    for a, (lo1, hi1) in enumerate(corners):
        for lo2, hi2 in corners[a + 1:]:
            apart = hi1[0] < lo2[0] or hi2[0] < lo1[0] or hi1[1] < lo2[1] or hi2[1] < lo1[1]
            assert apart, "two bins' wireframes overlap or touch"
    ms = meshes(fig, scene)
    assert [m.name for m in ms] == [f"item {p.item}" for p in packing.placements]
    for mesh, p, box in zip(ms, packing.placements, packing.boxes):
        lo, hi = frames[f"bin {p.bin}"]
        moved = box.astype(float).copy()
        moved[:2] += lo[:2]
        check_mesh_is_box(mesh, moved)
        assert np.all(moved[:3] >= lo) and np.all(moved[:3] + moved[3:] <= hi)  # inside its own bin
        assert f"bin {p.bin}<br>" in mesh.hovertext and f"corner ({p.x}, {p.y}, {p.z})" in mesh.hovertext


def test_bins_side_by_side(three_bins):
    inst, opt = three_bins
    fig = packing_figure(opt)
    assert [t.name for t in fig.data] == (["bin 0", "bin 1", "bin 2"] + [f"item {p.item}" for p in opt.placements]
                                          + ["edges"])
    check_bins(fig, opt)
    assert len(segments(named(fig, "edges"))) == 12 * inst.n
    title = fig.layout.title.text
    assert title.startswith("bins 3 (ratio to lower bound 1.0000)") and "bins 10x10x10" in title
    assert "utilisation 100.0%" in title
    extent = np.max([hi for _, hi in frames_of(fig).values()], axis=0)
    assert extent[0] == 3 * 10 + 2 * 2  # three bins and two gaps of a fifth of L
    check_equal_scales(fig.layout.scene, extent)
    # bins used need not be numbered 0..k-1: the bins drawn are those used, in order, without holes
    renumbered = Packing(inst, [dataclasses.replace(p, bin={0: 0, 1: 4, 2: 2}[p.bin]) for p in opt.placements])
    fig = packing_figure(renumbered)
    assert list(frames_of(fig)) == ["bin 0", "bin 2", "bin 4"]
    check_bins(fig, renumbered)
    assert frames_of(fig)["bin 4"][0][0] == 2 * 12
    # an empty bins packing still shows the (empty) first bin
    assert list(frames_of(packing_figure(Packing(inst, ())))) == ["bin 0"]


def test_many_bins_wrap_into_rows():
    from packzoo.envs import bins_cut

    inst, opt = bins_cut(11, bin=(10, 6, 4), k=10, seed=3)
    assert opt.bins_used == 10
    fig = packing_figure(opt)
    check_bins(fig, opt)
    frames = frames_of(fig)
    assert [lo[1] for lo, _ in frames.values()] == [0] * 8 + [6 + 2] * 2  # W plus a gap of a fifth of W
    extent = np.max([hi for _, hi in frames.values()], axis=0)
    assert list(extent) == [8 * 10 + 7 * 2, 2 * 6 + 2, 4]
    check_equal_scales(fig.layout.scene, extent)


def test_bins_animation_opens_bins_as_it_goes(three_bins):
    inst, opt = three_bins
    fig = packing_animation(opt, title="cut")
    check_bins(fig, opt)
    types = [t.type for t in fig.data]
    for k, frame in enumerate(fig.frames, start=1):
        assert [t.type for t in frame.data] == types
        opened = {p.bin for p in opt.placements[:k]}
        # the bins never move (a frame carries only their visibility): the first 3 traces
        wires = frame.data[:3]
        assert [t.visible for t in wires] == [b in opened for b in range(3)] and all(t.x is None for t in wires)
        assert [t.visible for t in frame.data[3:]] == [True] * k + [False] * (8 - k) + [True] * k + [False] * (8 - k)
        want = f"cut: bins {len(opened)}, {k}/8 items" if k < 8 else "cut: bins 3 (ratio to lower bound 1.0000)"
        assert frame.layout.title.text.startswith(want)


def test_compare_bins_packings(three_bins):
    inst, opt = three_bins
    other = create_solver("ffd-volume").solve(inst, seed=0).packing
    assert validate(other) == []
    fig = compare_figure({"optimum": opt, "ffd-volume": other})
    check_bins(fig, opt, "scene")
    check_bins(fig, other, "scene2")
    assert fig.layout.scene.xaxis.range == fig.layout.scene2.xaxis.range
    wide = max(hi[0] for _, hi in [*frames_of(fig, "scene").values(), *frames_of(fig, "scene2").values()])
    assert fig.layout.scene.xaxis.range[1] >= wide
    titles = [a.text for a in fig.layout.annotations]
    assert "optimum<br>bins 3, ratio 1.0000" in titles
    assert f"ffd-volume<br>bins {other.bins_used}, ratio {other.ratio:.4f}" in titles


@pytest.fixture(scope="module")
def container6():
    from packzoo.envs import container_cut

    return container_cut(6, container=(10, 8, 6), seed=2)


def test_container_frame_is_the_container(container6):
    inst, opt = container6
    part = Packing(inst, opt.placements[:4])  # a valid container packing with two items left out
    assert validate(part) == []
    left = sorted(set(range(6)) - set(part.order))
    for p in (opt, part):
        fig = packing_figure(p)
        assert [t.name for t in fig.data] == ["container", *(f"item {q.item}" for q in p.placements), "edges"]
        lo, hi = frames_of(fig)["container"]
        assert np.array_equal(lo, [0, 0, 0]) and np.array_equal(hi, [10, 8, 6])  # the container, not the items' box
        for mesh, box in zip(meshes(fig), p.boxes):
            check_mesh_is_box(mesh, box)
        check_equal_scales(fig.layout.scene, (10, 8, 6))
    title = packing_figure(part).layout.title.text
    v = part.packed_volume
    assert title.startswith(f"volume {v} (upper bound / volume {480 / v:.4f}), 4 items packed, 2 left out")
    assert f"container 10x8x6, utilisation {v / 480:.1%}" in title
    assert f"left out: items {left[0]}, {left[1]}" in named(packing_figure(part), "container").hovertext
    assert "0 left out" in packing_figure(opt).layout.title.text and "utilisation 100.0%" in packing_figure(opt).layout.title.text
    # an animation's frames show placements, not items left out
    anim = packing_animation(part)
    assert "2/4 placements shown" in anim.frames[1].layout.title.text
    assert "left out" not in anim.frames[1].layout.title.text and "2 left out" in anim.layout.title.text
    for frame in anim.frames:
        pts = np.concatenate(segments(frame.data[0]))
        assert frame.data[0].name == "container"
        assert np.array_equal(pts.min(axis=0), [0, 0, 0]) and np.array_equal(pts.max(axis=0), [10, 8, 6])
    titles = [a.text for a in compare_figure({"cut": opt, "part": part}).layout.annotations]
    assert titles == ["cut<br>volume 480, ratio 1.0000", f"part<br>volume {v}, ratio {480 / v:.4f}, 4/6 items"]


def test_base_frame_is_the_footprint_up_to_the_height():
    from packzoo.envs import container_cut

    inst, opt = container_cut(6, container=(10, 8, 6), mode="base", seed=2)
    fig = packing_figure(opt)
    assert [t.name for t in fig.data][0] == "base"
    lo, hi = frames_of(fig)["base"]
    assert np.array_equal(lo, [0, 0, 0]) and np.array_equal(hi, [10, 8, 6])
    assert fig.layout.title.text.startswith("height 6 (ratio to lower bound 1.0000), base 10x8, utilisation 100.0%")
    # a partial packing: the frame spans the footprint (even where no item stands) up to its height
    part = Packing(inst, opt.placements[:1])
    lo, hi = frames_of(packing_figure(part))["base"]
    assert np.array_equal(hi, [10, 8, part.height])
    assert "1/6 items" in packing_figure(part).layout.title.text
    anim = packing_animation(opt)
    for k, frame in enumerate(anim.frames, start=1):
        h = Packing(inst, opt.placements[:k]).height
        assert np.array_equal(np.concatenate(segments(frame.data[0])).max(axis=0), [10, 8, h])
