"""Instance sets drawn the way the papers drew them, their metrics, and the published figures.

Four benchmarks from the learning-for-packing literature, each a generator seeded through
:class:`packzoo.envs.sampling.Stream` (same seed, same instance, on every machine) and served as
named sets by :func:`packzoo.envs.instance_set`:

- ``rr-n10|20|30|50`` (mode free): the Ranked Reward benchmark (Laterre et al. 2018, "Ranked
  Reward: enabling self-play reinforcement learning for combinatorial optimization", arXiv
  1807.01672): a 10 x 10 x 10 bin cut into N boxes by :func:`rr_cut`. Metric :func:`rr_ratio`
  (r_RR, 1 = the cube, the known optimum: surface 600).
- ``jiang-n20|30|50|100`` (mode base): Jiang, Cao and Zhang 2021 ("Solving 3D bin packing problem
  via multimodal deep reinforcement learning", AAMAS), as Attend2Pack's Sec. 3.5 restates it: a
  100 x 100 base, every edge a uniform integer in [20, 80] (:func:`jiang_random`). Metric
  :func:`base_utilisation` (r_u).
- ``mpv-c1`` ... ``mpv-c9`` at n = 50, 100, 150, 200 (mode bins, fixed orientation): Martello,
  Pisinger and Vigo 2000 ("The three-dimensional bin packing problem", Oper. Res. 48(2)), by the
  rules of their public instance generator (:func:`mpv_class`). Metric: bins used, against
  :func:`packzoo.envs.bins_lower_bound` (:func:`bins_vs_bound`); class 9 is cut from 3 bins
  (:func:`mpv_class9`), so 3 bins is optimal.
- ``zhao-rs``, ``zhao-cut1``, ``zhao-cut2`` (mode container, online): Zhao et al. 2021 ("Online
  3D bin packing with constrained deep reinforcement learning", AAAI), a 10^3 container, items
  from the 64 types {2..5}^3, fixed orientation, a support rule; the item order is the arrival
  order (:func:`zhao_rs`, :func:`zhao_cut`). Metrics :func:`zhao_measures` (items packed and
  utilisation). The cut sequences fill the container exactly (volume 1000 is optimal).

:data:`PUBLISHED` holds the papers' figures per set (with :data:`PUBLISHED_SOURCES` naming the
table), so a benchmark prints ours beside theirs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from packzoo._checks import positive_int
from packzoo.envs.instance import Instance
from packzoo.envs.packing import Packing, Placement, bins_lower_bound
from packzoo.envs.sampling import SeedLike, Stream, cut_instance

# --- sampling helpers --------------------------------------------------------------------------


def _pick(s: Stream, weights: Sequence[int]) -> int:
    """An index drawn with probability proportional to the non-negative integer ``weights``
    (exact integer arithmetic, so the draw is the same on every machine)."""
    cum = np.cumsum(np.asarray(weights, dtype=np.int64))
    total = int(cum[-1])
    if total <= 0:
        raise ValueError("no positive weight to draw from")
    r = int(s.integers(0, total - 1, 1)[0])
    return int(np.searchsorted(cum, r, side="right"))


def _one(s: Stream, low: int, high: int) -> int:
    return int(s.integers(low, high, 1)[0])


# --- Ranked Reward (Laterre et al. 2018; Attend2Pack Appendix I) ------------------------------

RR_SIDE = 10
RR_MIN_EDGE = 1
RR_SIZES = (10, 20, 30, 50)
#: The known optimum of every rr instance: the 10^3 cube's surface 2 (3 * 10 * 10).
RR_OPTIMUM = 6 * RR_SIDE**2


def rr_cut(n: int, *, side: int = RR_SIDE, min_edge: int = RR_MIN_EDGE,
           seed: SeedLike = None) -> tuple[Instance, Packing]:
    """Cut a side^3 bin into n boxes as Laterre et al. 2018 do; return the items and the cube packing.

    The procedure is Algorithm 1 of Attend2Pack's Appendix I (Zhang, Zi and Ge 2021, arXiv
    2107.04333), which restates Laterre et al.'s: while there are fewer than n boxes, draw a box
    with probability proportional to its volume and take it out; draw one of its three edges with
    probability proportional to the edge's length; draw a cut point j on that edge with probability
    proportional to the distance |j - w/2| of the point to the edge's centre; if j < min_edge or
    w - j < min_edge put the box back unchanged and start the next round, else put back the two
    boxes the cut leaves.

    Where the pseudo-code leaves a detail open we chose, and say so: "all points on w" are the
    integer points j = 0, 1, ..., w (both ends included: with M = 1, the benchmark's, the check
    j >= M, w - j >= M would otherwise never refuse anything; the ends carry the largest weight,
    so about a third of the rounds put the box back); a box put back goes to the
    end of the list (the list order does not change any probability). Cut points far from the
    centre are the likelier, so the instances hold many thin slabs. The items are shuffled and
    each listed in a random orientation (Attend2Pack permutes its input and sorts each box's
    edges, so the list carries no information), as :func:`packzoo.envs.cube_cut` does.

    Args:
        n: number of boxes (the benchmark uses 10, 20, 30, 50).
        side: the bin's edge (10 in the benchmark).
        min_edge: the shortest edge a cut may leave (M; 1 gives the benchmark's edges in [1..10]).
        seed: the Stream seed.

    Returns:
        (instance in mode free, the optimal packing: the cube, surface 6 side^2).

    Raises:
        ValueError: n < 1, or every box is too small to cut before n boxes exist.
    """
    n = positive_int(n, "n")
    side = positive_int(side, "side")
    min_edge = positive_int(min_edge, "min_edge")
    s = Stream(seed)
    boxes: list[tuple[int, ...]] = [(0, 0, 0, side, side, side, 0)]
    while len(boxes) < n:
        # An edge w can be cut iff some point j in [M, w - M] has weight |2j - w| > 0: w >= 2M + 1.
        if not any(max(b[3:6]) >= 2 * min_edge + 1 for b in boxes):
            raise ValueError(f"cannot cut a {side}^3 bin into {n} boxes with edges of at least {min_edge}")
        k = _pick(s, [b[3] * b[4] * b[5] for b in boxes])
        box = boxes.pop(k)
        size = list(box[3:6])
        axis = _pick(s, size)
        w = size[axis]
        j = _pick(s, [abs(2 * p - w) for p in range(w + 1)])  # |j - w/2|, doubled to stay integer
        if j < min_edge or w - j < min_edge:
            boxes.append(box)
            continue
        lo = list(box[:3])
        a, b = list(size), list(size)
        a[axis], b[axis] = j, w - j
        hi = list(lo)
        hi[axis] += j
        boxes.append((*lo, *a, 0))
        boxes.append((*hi, *b, 0))
    return cut_instance(s, boxes, None)


def rr_ratio(packing: Packing) -> float:
    """Laterre et al.'s 3D reward r_RR = 3 V^(2/3) / (LW + WH + HL) of a free-bin packing.

    V is the packed volume and L, W, H the bin (the bounding box). No box of volume V has less
    surface than the cube, so r_RR <= 1, with 1 for a cube filled without gaps: the rr sets' known
    optimum. (Attend2Pack Sec. 3.4 prints the formula with (sum l w h)^(1/3); with the factor 3
    and L W + W H + H L in the denominator only the 2/3 power makes the cube score 1, which is
    what the reward is for, so we read it as V^(2/3).)

    Raises:
        ValueError: the packing is not in mode free or packs nothing.
    """
    if packing.instance.mode != "free":
        raise ValueError(f"r_RR is defined for free-bin packings, got mode {packing.instance.mode!r}")
    if not packing.placements:
        raise ValueError("r_RR of an empty packing is undefined")
    L, W, H = packing.bin
    v = packing.packed_volume
    c = round(v ** (1.0 / 3.0))
    # A whole cube root gives V^(2/3) exactly, so a filled cube scores exactly 1.
    v23 = next((float(r * r) for r in (c - 1, c, c + 1) if r**3 == v), float(v) ** (2.0 / 3.0))
    return 3.0 * v23 / float(L * W + W * H + H * L)


# --- Jiang, Cao and Zhang 2021 (as Attend2Pack Sec. 3.5 restates it) --------------------------

JIANG_BASE = (100, 100)
JIANG_EDGES = (20, 80)
JIANG_SIZES = (20, 30, 50, 100)


def jiang_random(n: int, *, base: tuple[int, int] = JIANG_BASE, low: int = JIANG_EDGES[0],
                 high: int = JIANG_EDGES[1], seed: SeedLike = None) -> Instance:
    """N items on a fixed base (mode base): every edge a uniform integer in [low, high].

    Jiang, Cao and Zhang 2021 as Attend2Pack (Sec. 3.5, Table 4) restates their setting: a
    100 x 100 bin bottom, free height, box edges sampled from the integers [20 .. 80], 20 / 30 /
    50 / 100 boxes. Every item may take any of its 6 orientations (Attend2Pack's placement policy
    chooses among 6 in this setting). The papers leave the item order open; ours is the draw order.
    """
    n = positive_int(n, "n")
    if not 1 <= low <= high:
        raise ValueError(f"need 1 <= low <= high, got low={low}, high={high}")
    if high > min(base):
        raise ValueError(f"edges up to {high} do not all fit the base {base}")
    s = Stream(seed)
    return Instance(s.integers(low, high, 3 * n).reshape(n, 3), mode="base", container=tuple(base))


def base_utilisation(packing: Packing) -> float:
    """r_u of a base-mode packing: the packed volume over L W H_used (base L x W, H_used the
    highest top), the metric of Jiang et al. 2021 and Attend2Pack's Table 2.

    Raises:
        ValueError: the packing is not in mode base or packs nothing.
    """
    if packing.instance.mode != "base":
        raise ValueError(f"r_u on a base needs a base-mode packing, got mode {packing.instance.mode!r}")
    if not packing.placements:
        raise ValueError("r_u of an empty packing is undefined")
    L, W = packing.instance.container
    top = int((packing.boxes[:, 2] + packing.boxes[:, 5]).max())
    return float(packing.packed_volume) / float(L * W * top)


# --- Martello, Pisinger and Vigo 2000 ---------------------------------------------------------

MPV_CLASSES = tuple(range(1, 10))
MPV_SIZES = (50, 100, 150, 200)
#: The bin edge per class: 100 for classes 1-5 and 9; Berkey and Wang's classes 6-8 use bins of
#: 10, 40 and 100 with item edges in [1, 10], [1, 35] and [1, 100].
MPV_BIN = {1: 100, 2: 100, 3: 100, 4: 100, 5: 100, 6: 10, 7: 40, 8: 100, 9: 100}
_MPV_EDGE = {6: 10, 7: 35, 8: 100}


def _mpv_ranges(t: int, B: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Martello and Vigo's item types 1-5 in a B^3 bin: ranges of (w, h, d) (integer division, as
    their generator computes B/2 and 2B/3)."""
    small, big, half = (1, B // 2), (2 * B // 3, B), (B // 2, B)
    return {1: (small, big, big), 2: (big, small, big), 3: (big, big, small),
            4: (half, half, half), 5: (small, small, small)}[t]


def mpv_class(cls: int, n: int, *, seed: SeedLike = None) -> Instance:
    """N items of Martello, Pisinger and Vigo's class ``cls`` (1-8; class 9 is :func:`mpv_class9`).

    The rules of their public test-instance generator (Martello, Pisinger, Vigo 2000, Sec. 6;
    Pisinger's 3dbpp.c, ``randomtype``), written here from its description: classes 1-5 put items
    of Martello and Vigo's types 1-5 in a 100^3 bin, each item of the class's own type with
    probability 60 % and of each other type with 10 % (a uniform draw t in 1..10 picks type t when
    t <= 5, else the class's type). With B the bin edge and B/2, 2B/3 rounded down:
    type 1: w in [1, B/2], h in [2B/3, B], d in [2B/3, B]; type 2: w in [2B/3, B], h in [1, B/2],
    d in [2B/3, B]; type 3: w, h in [2B/3, B], d in [1, B/2]; type 4: all in [B/2, B]; type 5: all
    in [1, B/2]. Classes 6-8 (Berkey and Wang): every edge uniform in [1, 10] / [1, 35] / [1, 100]
    with bins of 10 / 40 / 100. Items keep their orientation (w, h, d) along (x, y, z) as in the
    paper: mode bins with orientation "fixed", so the MPV bounds L1/L2 apply.
    """
    cls = positive_int(cls, "cls")
    n = positive_int(n, "n")
    if cls not in range(1, 9):
        raise ValueError(f"cls must be 1..8 (class 9 is mpv_class9), got {cls}")
    B = MPV_BIN[cls]
    s = Stream(seed)
    if cls <= 5:
        t = s.integers(1, 10, n)
        types = np.where(t <= 5, t, cls)
        lo = np.empty((n, 3), dtype=np.int64)
        hi = np.empty((n, 3), dtype=np.int64)
        for i, ty in enumerate(types.tolist()):
            r = _mpv_ranges(int(ty), B)
            lo[i] = [a for a, _ in r]
            hi[i] = [b for _, b in r]
    else:
        lo = np.ones((n, 3), dtype=np.int64)
        hi = np.full((n, 3), _MPV_EDGE[cls], dtype=np.int64)
    # Stream.integers' arithmetic, with a range per entry.
    raw = s.raw(3 * n).reshape(n, 3)
    dims = (raw % (hi - lo + 1).astype(np.uint64)).astype(np.int64) + lo
    return Instance(dims, mode="bins", container=(B, B, B), orientations=["fixed"] * n)


def _special_bin(s: Stream, count: int, box: tuple[int, ...]) -> list[tuple[int, ...]] | None:
    """Cut ``box`` (x, y, z, W, H, D, bin) into ``count`` pieces as MPV's class-9 generator does;
    None when a piece would get an empty edge (the caller then draws the whole cut again)."""
    x, y, z, W, H, D, b = box
    if count == 1:
        return [box]
    if count == 5:
        # Five pieces as a pinwheel (not guillotine) around a centre piece, full depth D.
        w, h = W // 3, H // 3
        pieces = [(x + w, y + h, z, W - 2 * w, H - 2 * h, D, b),      # centre
                  (x, y, z, W - w, h, D, b), (x + W - w, y, z, w, H - h, D, b),
                  (x + w, y + H - h, z, W - w, h, D, b), (x, y + h, z, w, H - h, D, b)]
        return pieces if all(min(p[3:6]) >= 1 for p in pieces) else None
    first = (count - 1) // 2 + 1
    size = [W, H, D]
    if max(size) < 2:
        return None
    while True:
        axis = _one(s, 0, 2)
        if size[axis] >= 2:
            break
    cut = _one(s, 1, size[axis] - 1)
    a, c = list(size), list(size)
    a[axis], c[axis] = cut, size[axis] - cut
    lo = [x, y, z]
    hi = list(lo)
    hi[axis] += cut
    left = _special_bin(s, first, (*lo, *a, b))
    if left is None:
        return None
    right = _special_bin(s, count - first, (*hi, *c, b))
    return None if right is None else left + right


#: Attempts at a class-9 cut before giving up (MPV's generator retries until every piece is whole).
MPV9_ATTEMPTS = 10_000


def mpv_class9(n: int, *, seed: SeedLike = None) -> tuple[Instance, Packing]:
    """N items cut from three 100^3 bins (MPV's class 9); return the items and the 3-bin packing.

    The rules of MPV's generator (``specialbin``), written from its description: the items are
    split into three groups of n/3 + 1, n/3 and the rest (n/3 rounded down), one per bin; a group
    of one item is the whole box, a group of five is cut as a pinwheel (a centre piece of
    (W - 2 floor(W/3)) x (H - 2 floor(H/3)) and four around it, full depth: not a guillotine
    pattern), and any other group is halved (the first half gets the larger share), a random axis
    (uniform; redrawn while that edge is 1) is cut at a uniform point in [1, edge - 1], and each
    half is cut likewise from one side. If any piece would get an empty edge the whole cut is drawn
    again. The items fill exactly three bins, so 3 is optimal. We shuffle the items (the
    generator lists them bin by bin); they keep their orientation (mode bins, "fixed").

    Raises:
        ValueError: n < 4 (a group would be empty).
    """
    n = positive_int(n, "n")
    third = n // 3
    counts = (third + 1, third, n - 2 * third - 1)
    if min(counts) < 1:
        raise ValueError(f"class 9 needs at least 4 items (one group per bin), got n={n}")
    B = MPV_BIN[9]
    s = Stream(seed)
    for _ in range(MPV9_ATTEMPTS):
        boxes: list[tuple[int, ...]] = []
        for k, c in enumerate(counts):
            part = _special_bin(s, c, (0, 0, 0, B, B, B, k))
            if part is None:
                break
            boxes += part
        else:
            return cut_instance(s, boxes, ["fixed"] * n, mode="bins", container=(B, B, B))
    raise ValueError(f"no class-9 cut of {n} items in {MPV9_ATTEMPTS} attempts")


def bins_vs_bound(packing: Packing) -> tuple[int, int]:
    """(bins used, :func:`packzoo.envs.bins_lower_bound`) of a bins-mode packing: with every item
    in a fixed orientation the bound is the largest of the volume bound and MPV's L1 and L2."""
    if packing.instance.mode != "bins":
        raise ValueError(f"bins against their bound need a bins-mode packing, got mode {packing.instance.mode!r}")
    return int(packing.bins_used), int(bins_lower_bound(packing.instance))


# --- Zhao et al. 2021 (AAAI): online, a 10^3 container -----------------------------------------

ZHAO_CONTAINER = (10, 10, 10)
ZHAO_EDGES = (2, 5)
#: The support rule. Zhao et al. (Sec. 3.1) call a placement stable when over 60 % of the item's
#: bottom and its four bottom corners are supported, or over 80 % and three corners, or over 95 %.
#: packzoo's rule is the supported fraction alone; 0.8, the middle threshold, is also the online
#: env's default (:data:`packzoo.envs.online.DEFAULT_SUPPORT`). It refuses some of their 60 %
#: four-corner placements and allows some 80 % ones with fewer than three corners.
ZHAO_SUPPORT = 0.8
ZHAO_KINDS = ("rs", "cut1", "cut2")
#: The volume of the container: the cut sequences' optimum (everything packed).
ZHAO_OPTIMUM = int(np.prod(ZHAO_CONTAINER))


def zhao_types() -> list[tuple[int, int, int]]:
    """The 64 item types {2..5}^3 of Zhao et al. 2021 (every edge at most half the container's)."""
    lo, hi = ZHAO_EDGES
    r = range(lo, hi + 1)
    return [(a, b, c) for a in r for b in r for c in r]


def _zhao_instance(dims) -> Instance:
    n = len(dims)
    return Instance(np.asarray(dims, dtype=np.int64).reshape(n, 3), mode="container", container=ZHAO_CONTAINER,
                    orientations=["fixed"] * n, support=ZHAO_SUPPORT)


def zhao_rs(*, seed: SeedLike = None) -> Instance:
    """A random sequence (Zhao et al.'s RS): types drawn uniformly from the 64, in arrival order.

    Zhao et al. (Sec. 4) ask that a sequence's total volume be at least the bin's; we draw until it
    is (the sequence length varies, about 24 items), so no packing holds every item and an
    episode always ends at an item that does not fit. Items keep their orientation (the paper's
    main setting; re-orienting is its extension) and the support rule :data:`ZHAO_SUPPORT` holds.
    """
    s = Stream(seed)
    types = zhao_types()
    dims: list[tuple[int, int, int]] = []
    vol = 0
    while vol < ZHAO_OPTIMUM:
        t = types[_one(s, 0, len(types) - 1)]
        dims.append(t)
        vol += t[0] * t[1] * t[2]
    return _zhao_instance(dims)


def _zhao_pieces(s: Stream, kind: str) -> list[tuple[int, ...]]:
    """The container cut into boxes with every edge in [2, 5]: while a box has an edge over 5, one
    such edge (uniform among them) is cut at a point leaving at least 2 on each side."""
    lo, hi = ZHAO_EDGES
    queue: list[tuple[int, ...]] = [(0, 0, 0, *ZHAO_CONTAINER)]
    done: list[tuple[int, ...]] = []
    while queue:
        box = queue.pop(0)
        size = list(box[3:])
        big = [a for a in range(3) if size[a] > hi]
        if not big:
            done.append(box)
            continue
        while True:
            axis = big[_one(s, 0, len(big) - 1)]
            if kind == "cut1":
                # CUT-1's generator draws the point in [1, edge] and refuses a piece under 2 (axis
                # and point drawn again), which favours the longer edges a little.
                cut = _one(s, 1, size[axis])
                if cut >= lo and size[axis] - cut >= lo:
                    break
            else:
                cut = _one(s, lo, size[axis] - lo)
                break
        a, b = list(size), list(size)
        a[axis], b[axis] = cut, size[axis] - cut
        corner = list(box[:3])
        far = list(corner)
        far[axis] += cut
        queue += [(*corner, *a), (*far, *b)]
    return done


def zhao_cut(kind: str, *, seed: SeedLike = None) -> tuple[Instance, Packing]:
    """A sequence cut from the full 10^3 container (Zhao et al.'s CUT-1 or CUT-2) and its packing.

    The container is cut until every edge is in [2, 5] (so every piece is one of the 64 types);
    the pieces then arrive in an order the paper defines: ``cut1`` sorts them by the z of their
    front-left-bottom corner, bottom to top, ties in random order; ``cut2`` follows the stacking
    dependency: an item joins the sequence only after every item it rests on, drawn uniformly among
    the items whose supports are all in (on the floor, or on a level top of placed items). Both
    orders can be packed online into the cut packing, which fills the container (1000, 100 %),
    every item fully supported. The cutting detail (which edge, which point) is not in the paper;
    we follow their public generators' behaviour as described in :func:`_zhao_pieces`.

    Args:
        kind: "cut1" or "cut2".

    Returns:
        (instance in mode container, items in arrival order; the optimal packing).
    """
    if kind not in ("cut1", "cut2"):
        raise ValueError(f"kind must be 'cut1' or 'cut2', got {kind!r}")
    s = Stream(seed)
    pieces = _zhao_pieces(s, kind)
    if kind == "cut1":
        perm = s.permutation(len(pieces))
        shuffled = [pieces[int(i)] for i in perm]
        order = sorted(shuffled, key=lambda p: p[2])  # stable: equal z keep the random order
    else:
        L, W, _ = ZHAO_CONTAINER
        height = np.zeros((L, W), dtype=np.int64)
        left = list(pieces)
        order = []
        while left:
            ready = [p for p in left if (height[p[0]:p[0] + p[3], p[1]:p[1] + p[4]] == p[2]).all()]
            p = ready[_one(s, 0, len(ready) - 1)]
            left.remove(p)
            order.append(p)
            height[p[0]:p[0] + p[3], p[1]:p[1] + p[4]] = p[2] + p[5]
    inst = _zhao_instance([p[3:] for p in order])
    return inst, Packing(inst, tuple(Placement(i, 0, *p[:3]) for i, p in enumerate(order)))


def zhao_measures(packing: Packing) -> tuple[int, float]:
    """(items packed, utilisation = packed volume / container volume) of a container-mode packing:
    Zhao et al.'s "# items" and "space uti." (their Table 3 prints items / utilisation)."""
    if packing.instance.mode != "container":
        raise ValueError(f"Zhao et al.'s measures need a container-mode packing, got mode {packing.instance.mode!r}")
    return int(packing.items_packed), float(packing.packed_volume) / float(np.prod(packing.instance.container))


# --- named sets ---------------------------------------------------------------------------------

#: The literature sets' names, as :func:`packzoo.envs.instance_set` takes them.
SET_NAMES = ([f"rr-n{n}" for n in RR_SIZES] + [f"jiang-n{n}" for n in JIANG_SIZES]
             + [f"mpv-c{c}-n{n}" for c in MPV_CLASSES for n in MPV_SIZES] + [f"zhao-{k}" for k in ZHAO_KINDS])


def parse(name: str) -> tuple[str, int] | None:
    """(family, n) of a literature set name (n = 0 for the zhao sets, whose length varies), or None
    if ``name`` is not one. Families: "rr", "jiang", "mpv-c1" ... "mpv-c9", "zhao-rs", ..."""
    if not isinstance(name, str) or name not in SET_NAMES:
        return None
    if name.startswith("zhao-"):
        return name, 0
    family, _, n = name.rpartition("-n")
    return family, int(n)


def draw(family: str, n: int, seed: SeedLike) -> tuple[Instance, Packing | None]:
    """One instance of a literature family, with its known optimal packing when it has one (rr,
    mpv-c9, zhao-cut1, zhao-cut2), else None."""
    if family == "rr":
        return rr_cut(n, seed=seed)
    if family == "jiang":
        return jiang_random(n, seed=seed), None
    if family == "mpv-c9":
        return mpv_class9(n, seed=seed)
    if family.startswith("mpv-c") and family[5:].isdigit():
        return mpv_class(int(family[5:]), n, seed=seed), None
    if family == "zhao-rs":
        return zhao_rs(seed=seed), None
    if family in ("zhao-cut1", "zhao-cut2"):
        return zhao_cut(family[5:], seed=seed)
    raise ValueError(f"unknown literature family {family!r}")


def known_optimum(family: str, n: int) -> float | None:
    """The optimal objective shared by a literature set's instances: rr the cube's surface 600,
    mpv-c9 3 bins, zhao-cut1/2 the container's volume 1000; None for the others."""
    if family == "rr":
        return float(RR_OPTIMUM)
    if family == "mpv-c9":
        return 3.0
    if family in ("zhao-cut1", "zhao-cut2"):
        return float(ZHAO_OPTIMUM)
    return None


def set_metric(name: str, packing: Packing) -> float:
    """The paper's headline metric of ``packing``, an instance of set ``name``: r_RR (rr), r_u
    (jiang), bins used (mpv), utilisation (zhao)."""
    p = parse(name)
    if p is None:
        raise ValueError(f"{name!r} is not a literature set; known: {', '.join(SET_NAMES)}")
    family = p[0]
    if family == "rr":
        return rr_ratio(packing)
    if family == "jiang":
        return base_utilisation(packing)
    if family.startswith("mpv"):
        return float(bins_vs_bound(packing)[0])
    return zhao_measures(packing)[1]


#: What :func:`set_metric` measures per family prefix, and whether higher is better.
METRICS = {"rr": ("r_RR", True), "jiang": ("r_u", True), "mpv": ("bins", False), "zhao": ("utilisation", True)}

# --- published figures ----------------------------------------------------------------------------

_A2P_T1 = ("Attend2Pack (Zhang, Zi and Ge 2021, arXiv 2107.04333) Table 1, 3D rows, r_RR; Ranked "
           "Reward is without MCTS (their footnote 2). The stored text of the table is garbled; we "
           "read each row as (RR, Attend2Pack), the second printed in bold, which the r_u column "
           "confirms (r_RR <= r_u^(2/3) holds for every row in that reading).")
_A2P_T2 = ("Attend2Pack Table 2 (r_u): GA (Wu et al. 2010), EP (Crainic et al. 2008), MTSL (Duan et "
           "al. 2019), CQL (Li et al. 2020), MM (Jiang et al. 2021), Attend2Pack.")
_ZHAO_T3 = ("Zhao et al. 2021 (AAAI) Table 3, space utilisation (BPP-1, no lookahead); LBP is "
            "offline (Martello, Pisinger and Vigo 2000). PCT (Zhao et al. 2022, ICLR) figures are "
            "quoted from issue 15 and were not checked against that paper here; they use other "
            "settings (orientations, stability), named in the key.")

#: The papers' figures per set, in the set's metric (rr: r_RR; jiang: r_u; zhao: utilisation);
#: :data:`PUBLISHED_SOURCES` names the tables. The mpv sets have none (their metric is bins
#: against the bound; MPV 2000 report their branch-and-bound, not heuristic means per class here).
PUBLISHED: dict[str, dict[str, float]] = {
    "rr-n10": {"Ranked Reward": 0.903, "Attend2Pack": 0.953},
    "rr-n20": {"Ranked Reward": 0.850, "Attend2Pack": 0.911},
    "rr-n30": {"Ranked Reward": 0.844, "Attend2Pack": 0.904},
    "rr-n50": {"Ranked Reward": 0.838, "Attend2Pack": 0.926},
    "jiang-n20": {"GA": 0.683, "EP": 0.627, "MTSL": 0.624, "CQL": 0.670, "MM (Jiang et al.)": 0.718, "Attend2Pack": 0.767},
    "jiang-n30": {"GA": 0.662, "EP": 0.638, "MTSL": 0.601, "CQL": 0.693, "MM (Jiang et al.)": 0.755, "Attend2Pack": 0.797},
    "jiang-n50": {"GA": 0.659, "EP": 0.663, "MTSL": 0.553, "CQL": 0.736, "MM (Jiang et al.)": 0.813, "Attend2Pack": 0.831},
    "jiang-n100": {"GA": 0.624, "EP": 0.675, "MM (Jiang et al.)": 0.844, "Attend2Pack": 0.870},
    "zhao-rs": {"boundary rule": 0.349, "OnlineBPH": 0.354, "LBP (offline)": 0.547, "Zhao et al. DRL": 0.505,
                "PCT (2 orientations, stability)": 0.760, "PCT (6 orientations, no stability)": 0.853},
    "zhao-cut1": {"boundary rule": 0.412, "OnlineBPH": 0.519, "LBP (offline)": 0.591, "Zhao et al. DRL": 0.734},
    "zhao-cut2": {"boundary rule": 0.408, "OnlineBPH": 0.492, "LBP (offline)": 0.595, "Zhao et al. DRL": 0.669},
}
#: Items packed per sequence in Zhao et al. 2021's Table 3 (the first figure of each cell).
PUBLISHED_ITEMS: dict[str, dict[str, float]] = {
    "zhao-rs": {"boundary rule": 8.7, "OnlineBPH": 8.7, "LBP (offline)": 12.9, "Zhao et al. DRL": 12.2},
    "zhao-cut1": {"boundary rule": 10.8, "OnlineBPH": 13.5, "LBP (offline)": 14.9, "Zhao et al. DRL": 19.1},
    "zhao-cut2": {"boundary rule": 11.1, "OnlineBPH": 13.1, "LBP (offline)": 15.2, "Zhao et al. DRL": 17.5},
}
#: Attend2Pack's own r_u on the rr sets (Table 1, last column; the 3D-10 cell is lost in the
#: stored text).
RR_ATTEND2PACK_UTILISATION = {"rr-n20": 0.872, "rr-n30": 0.863, "rr-n50": 0.893}
#: Which table each family's figures come from.
PUBLISHED_SOURCES = {"rr": _A2P_T1, "jiang": _A2P_T2, "zhao": _ZHAO_T3,
                     "mpv": "none: the target is bins against the L2 bound (class 9: 3 bins)"}

__all__ = [
    "JIANG_BASE", "JIANG_EDGES", "JIANG_SIZES", "METRICS", "MPV_BIN", "MPV_CLASSES", "MPV_SIZES", "PUBLISHED",
    "PUBLISHED_ITEMS", "PUBLISHED_SOURCES", "RR_ATTEND2PACK_UTILISATION", "RR_OPTIMUM", "RR_SIDE", "RR_SIZES",
    "SET_NAMES", "ZHAO_CONTAINER", "ZHAO_EDGES", "ZHAO_KINDS", "ZHAO_OPTIMUM", "ZHAO_SUPPORT", "base_utilisation",
    "bins_vs_bound", "draw", "jiang_random", "known_optimum", "mpv_class", "mpv_class9", "parse", "rr_cut",
    "rr_ratio", "set_metric", "zhao_cut", "zhao_measures", "zhao_rs", "zhao_types",
]
