"""The report and a packing figure in a real browser: headless Debian Chromium driven by playwright.

Never a browser download: playwright only drives /usr/bin/chromium (the Makefile's ``test`` target
installs Debian's package when it is missing). WebGL runs on SwiftShader, Chromium's software GL,
so the 3D scenes really draw; every request that is not a local file is aborted and recorded, which
proves the pages open offline.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import numpy as np
import pytest

from packzoo.envs import uniform
from packzoo.solvers import create_solver
from packzoo.viz import report, show_packing
from packzoo.viz.figures import box_corners
from packzoo.viz.report import rebuild_packings

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent (Debian package chromium; `make browser`)"),
]

ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
    # With the GPU disabled WebGL falls back to SwiftShader; recent Chromium wants this flag to allow it.
    "--enable-unsafe-swiftshader",
]

# Every plot div has its full data and layout, every 3D scene its WebGL plot, every animated figure
# its frames, and no animation is running.
READY = """() => {
  const divs = [...document.querySelectorAll('.js-plotly-plot')];
  return divs.length > 0 && divs.every(gd => {
    if (!gd._fullData || !gd._fullLayout) return false;
    const scenes = Object.keys(gd._fullLayout).filter(k => /^scene\\d*$/.test(k));
    if (!scenes.every(k => gd._fullLayout[k]._scene && gd._fullLayout[k]._scene.glplot)) return false;
    const t = gd._transitionData || {};
    if ((gd._fullLayout.sliders || []).length && !(t._frames && t._frames.length)) return false;
    return !t._animationRaf && !(t._frameQueue && t._frameQueue.length);
  });
}"""

# Per figure: its traces (as plotly holds them after drawing), scenes, svg layers, canvases and
# where it sits on the page.
INSPECT = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
  const r = gd.getBoundingClientRect();
  return {
    id: gd.id, title: gd._fullLayout.title ? gd._fullLayout.title.text : '',
    rect: [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height],
    canvases: gd.querySelectorAll('canvas').length, svgs: gd.querySelectorAll('svg.main-svg').length,
    scenes: Object.keys(gd._fullLayout).filter(k => /^scene\\d*$/.test(k)),
    traces: gd._fullData.map(t => {
      const mesh = t.type === 'mesh3d' && t.visible === true;
      return {type: t.type, name: t.name, scene: t.scene || null, visible: t.visible,
              x: mesh ? Array.from(t.x) : null, y: mesh ? Array.from(t.y) : null, z: mesh ? Array.from(t.z) : null};
    }),
  };
})"""

# The fraction of each rectangle of a PNG screenshot that is ink in saturated colour (boxes, bars,
# meshes; the white background, grey text and pale grid planes are not). A WebGL scene that failed
# to draw shows no colour.
COLOUR = """async ([b64, rects]) => {
  const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const ctx = c.getContext('2d', {willReadFrequently: true}); ctx.drawImage(img, 0, 0);
  return rects.map(([x, y, w, h]) => {
    const px = ctx.getImageData(Math.round(x), Math.round(y), Math.max(1, Math.round(w)), Math.max(1, Math.round(h))).data;
    let colour = 0;
    for (let i = 0; i < px.length; i += 4) {
      const mx = Math.max(px[i], px[i + 1], px[i + 2]), mn = Math.min(px[i], px[i + 1], px[i + 2]);
      if (mx - mn > 60) colour++;
    }
    return colour / (px.length / 4);
  });
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Page:
    """A page that records console errors, page errors and any request that would leave the machine."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.network: list[str] = []

        def route(r):
            if r.request.url.startswith(("file:", "data:", "blob:")):
                r.continue_()
            else:
                self.network.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.goto(url)
        self.page.wait_for_selector(".js-plotly-plot", state="attached", timeout=60_000)
        self.page.wait_for_function(READY, timeout=60_000)

    def inspect(self, screenshot) -> list[dict]:
        """Every figure's facts, and its coloured fraction in a full-page screenshot saved at ``screenshot``."""
        figs = self.page.evaluate(INSPECT)
        png = self.page.screenshot(path=str(screenshot), full_page=True)
        colour = self.page.evaluate(COLOUR, [base64.b64encode(png).decode(), [f["rect"] for f in figs]])
        for f, c in zip(figs, colour):
            f["colour"] = c
        return figs

    def close(self) -> None:
        self.context.close()


def mesh_boxes(traces: list[dict], scene: str | None = None) -> list[np.ndarray]:
    """(x, y, z, dx, dy, dz) of each visible mesh trace, from its vertices as the browser holds them."""
    out = []
    for t in traces:
        if t["type"] == "mesh3d" and t["visible"] is True and (scene is None or (t["scene"] or "scene") == scene):
            v = np.array([t["x"], t["y"], t["z"]], float).T
            lo, hi = v.min(axis=0), v.max(axis=0)
            assert {tuple(r) for r in v} == {tuple(r) for r in box_corners(*lo, *(hi - lo))}
            out.append(np.concatenate([lo, hi - lo]))
    return out


def assert_drawn(fig: dict) -> None:
    """A drawn plot: its svg layers exist and its rendered image shows coloured marks."""
    assert fig["svgs"] >= 1, f"{fig['id']}: no plot svg"
    assert fig["traces"], f"{fig['id']}: no traces"
    if fig["scenes"]:
        assert fig["canvases"] >= 1, f"{fig['id']}: no WebGL canvas"
    assert fig["colour"] > 0.005, f"{fig['id']}: nothing drawn ({fig['colour']:.4f} coloured)"


def test_report_in_chromium(browser, small_lb, tmp_path):
    path = report(small_lb, tmp_path / "report.html")
    page = Page(browser, path.as_uri())
    try:
        figs = page.inspect(tmp_path / "report.png")
        # The first instance's animation: Play runs the frames in placement order, Pause stops them.
        p = page.page
        p.evaluate("""() => { const gd = document.getElementById('figure-4'); window.__frames = [];
            gd.on('plotly_animatingframe', e => window.__frames.push(e.name)); }""")
        p.locator("#figure-4 .updatemenu-button").nth(0).click()
        p.wait_for_function("() => window.__frames.length >= 2", timeout=60_000)
        p.locator("#figure-4 .updatemenu-button").nth(1).click()
        frames = p.evaluate("() => window.__frames")
        # What the slider does: frame 2 shows the first two items only.
        p.evaluate("""() => Plotly.animate('figure-4', ['2'],
            {frame: {duration: 0, redraw: true}, transition: {duration: 0}, mode: 'immediate'})""")
        at_two = p.evaluate(INSPECT)[3]
    finally:
        page.close()
    assert page.errors == []
    assert page.network == []
    assert len(figs) == 7  # 3 charts, 3 animated instances, 1 comparison
    for fig in figs:
        assert_drawn(fig)
    assert [t["type"] for t in figs[0]["traces"]] == ["box", "box"]
    assert [t["type"] for t in figs[1]["traces"]] == ["histogram", "histogram"]
    three_d = [f for f in figs if f["scenes"]]
    assert [len(f["scenes"]) for f in three_d] == [1, 2, 1, 1]  # the comparison follows the first instance
    compared = int(re.search(r"Instance (\d+): the solvers side by side", path.read_text(encoding="utf-8")).group(1))
    for fig in three_d:
        m = re.match(r"instance (\d+), (\S+):", fig["title"])
        k = int(m.group(1)) if m else compared
        packs = rebuild_packings(small_lb, k)
        for scene in fig["scenes"]:
            # one mesh per item, on the box of the packing the leaderboard recorded
            boxes = np.array(mesh_boxes(fig["traces"], scene))
            assert len(boxes) == 8
            if m:
                assert np.array_equal(boxes, packs[m.group(2)].boxes)
            else:
                assert any(np.array_equal(boxes, p.boxes) for p in packs.values())
    assert frames[:2] == ["1", "2"]
    m = re.match(r"instance (\d+), (\S+):", figs[3]["title"])
    best = rebuild_packings(small_lb, int(m.group(1)))[m.group(2)]
    assert np.array_equal(np.array(mesh_boxes(at_two["traces"])), best.boxes[:2])
    assert "2/8 items" in at_two["title"]
    png = (tmp_path / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


def test_packing_figure_in_chromium(browser, tmp_path, monkeypatch):
    """The env's human rendering: the offline HTML file it writes draws one mesh per item."""
    inst = uniform(10, seed=7)
    packing = create_solver("random").solve(inst, seed=2).packing
    path = show_packing(packing, tmp_path / "render.html")
    assert path == str(tmp_path / "render.html")
    page = Page(browser, Path(path).as_uri())
    try:
        (fig,) = page.inspect(tmp_path / "figure.png")
    finally:
        page.close()
    assert page.errors == [] and page.network == []
    assert_drawn(fig)
    assert sum(t["type"] == "mesh3d" for t in fig["traces"]) == inst.n
    assert np.array_equal(np.array(mesh_boxes(fig["traces"])), packing.boxes)
    assert f"surface {packing.surface_area}" in fig["title"]
    assert (tmp_path / "figure.png").stat().st_size > 20_000


def test_bins_animation_in_chromium(browser, tmp_path):
    """A bins-mode packing: each bin used drawn side by side, the items in their bins; the slider's
    first frame shows only the bin of the first item. No JS error, nothing fetched."""
    from packzoo.envs import instance_set
    from packzoo.viz import packing_animation

    inst = instance_set("bins-n20", 1)[0]
    packing = create_solver("ffd-volume").solve(inst, seed=0).packing
    assert packing.bins_used >= 2
    path = tmp_path / "bins.html"
    packing_animation(packing, title="ffd-volume").write_html(path, include_plotlyjs=True, auto_play=False)
    page = Page(browser, path.as_uri())
    try:
        (fig,) = page.inspect(tmp_path / "bins.png")
        gd = page.page.evaluate("() => document.querySelector('.js-plotly-plot').id")
        page.page.evaluate(f"""() => Plotly.animate('{gd}', ['1'],
            {{frame: {{duration: 0, redraw: true}}, transition: {{duration: 0}}, mode: 'immediate'}})""")
        first = page.page.evaluate(INSPECT)[0]
    finally:
        page.close()
    assert page.errors == [] and page.network == []
    assert_drawn(fig)
    bins = sorted({p.bin for p in packing.placements})
    wires = [t for t in fig["traces"] if t["type"] == "scatter3d" and not t["name"].startswith("edges")]
    assert [t["name"] for t in wires] == [f"bin {b}" for b in bins] and all(t["visible"] is True for t in wires)
    # every item on its box, moved along x into its bin's slot: L plus a gap per bin before it
    step = inst.container[0] + 20
    moved = packing.boxes.copy()
    moved[:, 0] += [step * bins.index(p.bin) for p in packing.placements]
    assert np.array_equal(np.array(mesh_boxes(fig["traces"])), moved)
    shown = [t["visible"] for t in first["traces"] if t["type"] == "scatter3d" and not t["name"].startswith("edges")]
    assert shown == [b == packing.placements[0].bin for b in bins]
    edges = [t["visible"] for t in first["traces"] if t["name"].startswith("edges")]
    assert edges == [True] + [False] * (inst.n - 1)
    assert np.array_equal(np.array(mesh_boxes(first["traces"])), moved[:1])
    assert first["title"].startswith(f"ffd-volume: bins 1, 1/{inst.n} items")
