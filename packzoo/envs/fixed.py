"""One packing engine for every container mode and constraint: empty maximal spaces (EMS) per bin.

:class:`PackState` is a packing in progress of any :class:`~packzoo.envs.instance.Instance`:

- ``free``: one bin of free size. The spaces start as one huge space, exactly as the LSA engine
  (:mod:`packzoo.envs.ems`) does; with no constraints, :func:`pack_order` with rule "lsa" gives the
  same packing as :func:`packzoo.envs.ems.evaluate_orders` (a test holds it to that).
- ``base``: a fixed L x W footprint, free height: the first space is (0, 0, 0, L, W, huge).
- ``container``: one L x W x H container: the first space is the container. An item that fits
  nowhere stays out (:func:`pack_order` skips it).
- ``bins``: identical L x W x H bins, one EMS list per open bin; while items remain, the last row
  of :attr:`PackState.spaces` is always a fresh empty bin (index ``n_bins``), so opening a bin is
  just choosing that space.

With a support rule the candidate corners also include *anchors* (``PackState(anchors=...)``,
on by default exactly when the instance has a support rule): for a space whose floor is the top
of a placed box, the sub-space cornered at that box's top corner. A maximal space's own corner
often overhangs a lower neighbour, so its corner alone strands items that a box top would carry;
on 15 base-mode cut instances (20 items, this side up, 80 % support) the anchors cut the
instances where a sort heuristic stays stuck after 50 order repairs from 1-7 (by order and rule)
to 1, and lowered the heights DBLF reaches by about a tenth.

The EMS update after a placement is :func:`packzoo.envs.ems.place_box` (the same compiled code
as the LSA engine), run on the placed box's bin only. Every constraint is checked at the
candidate position, which is always a space's corner nearest the origin, (x1, y1, z1):

- allowed orientations: by shape (``instance.orientation_allowed``); the mask and
  :meth:`PackState.feasible` list one orientation per distinct allowed shape (the first index,
  ``instance.allowed_orientations``), as the place env's mask does;
- support: an item above the floor (z > 0) must rest on at least ``instance.support`` of its base
  area on the tops of boxes in the same bin whose top is exactly at its z (the floor counts
  fully). The area needed is computed exactly once per (item, orientation), as
  ``ceil(Fraction(support) * area)``, the same exact rule :func:`packzoo.envs.validate` applies;
- weight: the bin's load (summed in placement order, as the validator sums it) plus the item's
  weight must stay within ``max_weight`` (with the validator's 1e-12 relative allowance).

Placement rules (:data:`PLACEMENT_RULES`) choose an (orientation, space) for one item among the
feasible ones by a lexicographic key, computed in one compiled loop over orientations x spaces.
Ties always end on the lower space index, then the lower orientation index (for "lsa": the same
tie-break as the LSA engine), so every rule is deterministic.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from numba import njit

from packzoo.envs.ems import initial_ems, place_box
from packzoo.envs.instance import ORIENTATIONS, Instance
from packzoo.envs.packing import Packing, Placement

_ORIENT = ORIENTATIONS

#: Placement rules by name -> what they do. Keys are minimised lexicographically; in the bins mode
#: every single-bin rule runs "first-fit" over bins (the lowest bin index where the item fits
#: comes first), and "first-fit"/"best-fit" may name their in-bin rule after a colon, e.g.
#: "best-fit:ems-fit" (default: "dblf").
PLACEMENT_RULES: dict[str, str] = {
    "lsa": "least surface area (Hu et al. 2017, Appendix A): the smallest surface of the bin's "
           "bounding box after placing; ties to the tighter fit (least slack between space and "
           "item), then the earlier space, then the earlier orientation",
    "dblf": "deepest-bottom-left-fill (Karabulut and Inceoglu 2004): the lowest corner z, then the "
            "lowest x, then the lowest y (z is depth into the stack, x the container's length); "
            "ties to the tighter fit (least slack), then the earlier space and orientation",
    "ems-fit": "best-fit EMS: the (space, orientation) leaving the least residual volume in the "
               "space (space volume minus item volume; Ha et al. 2017's 'best match' in volume "
               "terms); ties by dblf",
    "min-height": "least resulting height (for the base mode: the height of the stack after "
                  "placing); ties by dblf (z, x, y)",
    "dftrc": "distance to the front-top-right corner (Goncalves and Resende 2013, 'A biased "
             "random key genetic algorithm for 2D and 3D bin packing problems'): the placement "
             "whose far corner (x+a, y+b, z+c) is farthest (squared Euclidean) from the container's "
             "corner (L, W, H); in free/base mode the unbounded sides use the initial huge space",
    "contact": "most contact area: the sum of the item's face areas touching the container's "
               "floor and walls (x=0, y=0, z=0, and the far walls where they are fixed) and the "
               "faces of placed boxes in the same bin; ties by dblf",
    "bph": "Ha et al. 2017's OnlineBPH placement: spaces in deepest-bottom-left order of their "
           "corner (z, then y, then x, as the PCT authors' reference code sorts them), the first "
           "space that holds the item; in it the orientation with the least margin (smallest "
           "min slack, 'best match first')",
    "boundary": "the boundary rule baseline of Zhao et al. 2021 as the authors' reference code "
                "(Online-3D-BPP-PCT heuristic.py, BR) scores it: the space with the largest "
                "volume + the number of the instance's item shapes that fit it (+10 if all do); "
                "the first orientation that fits",
    "first-fit": "bins mode: the first open bin (lowest index) where the item fits, placed there "
                 "by the in-bin rule ('first-fit:<rule>', default dblf); a new bin if none",
    "best-fit": "bins mode: the open bin left fullest (most packed volume, ties to the lower "
                "index) among those where the item fits, placed there by the in-bin rule "
                "('best-fit:<rule>', default dblf); a new bin if none",
}

#: The rule each mode uses when told "auto".
DEFAULT_RULES = {"free": "lsa", "base": "min-height", "container": "dblf", "bins": "first-fit"}

_CODES = {"lsa": 0, "dblf": 1, "ems-fit": 2, "min-height": 3, "dftrc": 4, "contact": 5, "bph": 6, "boundary": 7}
_BIN_RULES = ("first-fit", "best-fit")
_KEY = 8  # key length: 2 bin-prefix slots + 6 rule slots


class NoPlacementError(ValueError):
    """An item that must be packed (every mode but container) has no feasible placement left.

    Happens only with a support rule in the base mode (a footprint covered by tops too small to
    carry the item): the order, not the engine, decides that. ``item`` names it.
    """

    def __init__(self, message: str, item: int) -> None:
        super().__init__(message)
        self.item = item


def parse_rule(rule: str, mode: str) -> tuple[str, str]:
    """``(bin_rule, in_bin_rule)`` of a rule name in a mode; bin_rule is "" outside bins mode.

    Raises:
        ValueError: an unknown rule, or "first-fit"/"best-fit" outside the bins mode.
    """
    if not isinstance(rule, str):
        raise ValueError(f"rule must be a string, got {rule!r}")
    if rule == "auto":
        rule = DEFAULT_RULES[mode]
    head, _, tail = rule.partition(":")
    if head in _BIN_RULES:
        if mode != "bins":
            raise ValueError(f"rule {rule!r} chooses among bins: only for mode 'bins', not {mode!r}")
        inner = tail or "dblf"
        if inner not in _CODES:
            raise ValueError(f"unknown in-bin rule {inner!r} in {rule!r}; known: {sorted(_CODES)}")
        return head, inner
    if tail or head not in _CODES:
        raise ValueError(f"unknown placement rule {rule!r}; known: {sorted(PLACEMENT_RULES)} "
                         "(bins: 'first-fit:<rule>', 'best-fit:<rule>')")
    return ("first-fit" if mode == "bins" else ""), head


@njit(cache=True)
def _support_area(boxes, box_bin, nb, b, x, y, z, a, w):
    """Base area of box (x, y, z, a, w, .) resting on tops at exactly z in bin ``b``."""
    held = np.int64(0)
    for j in range(nb):
        if box_bin[j] != b or boxes[j, 2] + boxes[j, 5] != z:
            continue
        ox = min(x + a, boxes[j, 0] + boxes[j, 3]) - max(x, boxes[j, 0])
        oy = min(y + w, boxes[j, 1] + boxes[j, 4]) - max(y, boxes[j, 1])
        if ox > 0 and oy > 0:
            held += ox * oy
    return held


@njit(cache=True)
def _overlap(lo1, hi1, lo2, hi2):
    return max(np.int64(0), min(hi1, hi2) - max(lo1, lo2))


@njit(cache=True)
def _contact(boxes, box_bin, nb, b, x, y, z, a, w, h, cont, bounded):
    """Area of the box's faces touching the floor, the walls and the placed boxes of bin ``b``."""
    s = np.int64(0)
    if x == 0:
        s += w * h
    if y == 0:
        s += a * h
    if z == 0:
        s += a * w
    if bounded[0] and x + a == cont[0]:
        s += w * h
    if bounded[1] and y + w == cont[1]:
        s += a * h
    if bounded[2] and z + h == cont[2]:
        s += a * w
    for j in range(nb):
        if box_bin[j] != b:
            continue
        jx, jy, jz = boxes[j, 0], boxes[j, 1], boxes[j, 2]
        ja, jw, jh = boxes[j, 3], boxes[j, 4], boxes[j, 5]
        if jx + ja == x or x + a == jx:
            s += _overlap(y, y + w, jy, jy + jw) * _overlap(z, z + h, jz, jz + jh)
        if jy + jw == y or y + w == jy:
            s += _overlap(x, x + a, jx, jx + ja) * _overlap(z, z + h, jz, jz + jh)
        if jz + jh == z or z + h == jz:
            s += _overlap(x, x + a, jx, jx + ja) * _overlap(y, y + w, jy, jy + jw)
    return s


@njit(cache=True)
def _anchor_spaces(ems, boxes, box_bin, nb, b):
    """Sub-spaces of ``ems`` (rows of bin ``b``) cornered on a placed box's top corner.

    For a space whose floor z1 is the top of box j (same bin) and whose floor meets j's top, the
    space from (max(x1, jx), max(y1, jy), z1) to the space's far corner: an item there rests on j
    from its corner on, where the space's own corner may overhang lower neighbours. Duplicates
    of a space's own corner and of earlier anchors are left out.
    """
    m = ems.shape[0]
    out = np.empty((m * max(nb, 1), 7), dtype=np.int64)
    k = 0
    for e in range(m):
        z1 = ems[e, 2]
        if z1 == 0:
            continue
        for j in range(nb):
            if box_bin[j] != b or boxes[j, 2] + boxes[j, 5] != z1:
                continue
            jx, jy = boxes[j, 0], boxes[j, 1]
            if not (jx < ems[e, 3] and ems[e, 0] < jx + boxes[j, 3] and jy < ems[e, 4] and ems[e, 1] < jy + boxes[j, 4]):
                continue
            ax, ay = max(ems[e, 0], jx), max(ems[e, 1], jy)
            if ax == ems[e, 0] and ay == ems[e, 1]:
                continue
            dup = False
            for t in range(k):
                if out[t, 0] == ax and out[t, 1] == ay and out[t, 2] == z1 and out[t, 3] == ems[e, 3] \
                        and out[t, 4] == ems[e, 4] and out[t, 5] == ems[e, 5]:
                    dup = True
                    break
            if dup:
                continue
            out[k, 0], out[k, 1], out[k, 2] = ax, ay, z1
            out[k, 3], out[k, 4], out[k, 5] = ems[e, 3], ems[e, 4], ems[e, 5]
            out[k, 6] = b
            k += 1
    return out[:k]


@njit(cache=True)
def _feasible(spaces, d, orient_ok, need, boxes, box_bin, nb, bin_ok, out):
    """out[o, e] = item dims ``d`` in orientation o fits space e and meets support and weight.

    ``orient_ok[o]``: orientation o may be used; ``need[o]``: supported base area needed above the
    floor; ``bin_ok[b]``: the item's weight fits bin b (the fresh bin included).
    """
    k = spaces.shape[0]
    for o in range(6):
        for e in range(k):
            out[o, e] = False
        if not orient_ok[o]:
            continue
        a, w, h = d[_ORIENT[o, 0]], d[_ORIENT[o, 1]], d[_ORIENT[o, 2]]
        for e in range(k):
            if spaces[e, 3] - spaces[e, 0] < a or spaces[e, 4] - spaces[e, 1] < w or spaces[e, 5] - spaces[e, 2] < h:
                continue
            b = spaces[e, 6]
            if not bin_ok[b]:
                continue
            z = spaces[e, 2]
            if z > 0 and need[o] > 0:
                if _support_area(boxes, box_bin, nb, b, spaces[e, 0], spaces[e, 1], z, a, w) < need[o]:
                    continue
            out[o, e] = True


@njit(cache=True)
def _less(k1, k2):
    for t in range(k1.shape[0]):
        if k1[t] < k2[t]:
            return True
        if k1[t] > k2[t]:
            return False
    return False


@njit(cache=True)
def _choose(code, prefix, spaces, d, feas, boxes, box_bin, nb, bbox, fill, cont, bounded, space_score, best_key):
    """The best feasible (orientation, space) of dims ``d`` under rule ``code``; (-1, -1) if none.

    ``prefix``: 0 none, 1 first-fit over bins (bin index first), 2 best-fit (fullest bin first).
    Writes the winner's key to ``best_key`` (length 8).
    """
    k = spaces.shape[0]
    key = np.empty(_KEY, dtype=np.int64)
    best_o, best_e = -1, -1
    vol = d[0] * d[1] * d[2]
    for o in range(6):
        a, w, h = d[_ORIENT[o, 0]], d[_ORIENT[o, 1]], d[_ORIENT[o, 2]]
        for e in range(k):
            if not feas[o, e]:
                continue
            b = spaces[e, 6]
            x, y, z = spaces[e, 0], spaces[e, 1], spaces[e, 2]
            sx = spaces[e, 3] - x - a
            sy = spaces[e, 4] - y - w
            sz = spaces[e, 5] - z - h
            slack = min(sx, min(sy, sz))
            for t in range(_KEY):
                key[t] = 0
            if prefix == 1:
                key[0] = b
            elif prefix == 2:
                key[0] = -fill[b]
                key[1] = b
            if code == 0:  # lsa
                L = max(bbox[b, 0], x + a)
                W = max(bbox[b, 1], y + w)
                H = max(bbox[b, 2], z + h)
                key[2] = 2 * (L * W + L * H + W * H)
                key[3] = slack
                key[4] = e
                key[5] = o
            elif code == 1:  # dblf
                key[2] = z
                key[3] = x
                key[4] = y
                key[5] = slack
                key[6] = e
                key[7] = o
            elif code == 2:  # ems-fit
                key[2] = (spaces[e, 3] - x) * (spaces[e, 4] - y) * (spaces[e, 5] - z) - vol
                key[3] = z
                key[4] = x
                key[5] = y
                key[6] = e
                key[7] = o
            elif code == 3:  # min-height
                key[2] = max(bbox[b, 2], z + h)
                key[3] = z
                key[4] = x
                key[5] = y
                key[6] = e
                key[7] = o
            elif code == 4:  # dftrc
                dx = cont[0] - x - a
                dy = cont[1] - y - w
                dz = cont[2] - z - h
                key[2] = -(dx * dx + dy * dy + dz * dz)
                key[3] = e
                key[4] = o
            elif code == 5:  # contact
                key[2] = -_contact(boxes, box_bin, nb, b, x, y, z, a, w, h, cont, bounded)
                key[3] = z
                key[4] = x
                key[5] = y
                key[6] = e
                key[7] = o
            elif code == 6:  # bph
                key[2] = z
                key[3] = y
                key[4] = x
                key[5] = e
                key[6] = slack
                key[7] = o
            else:  # boundary
                key[2] = -space_score[e]
                key[3] = e
                key[4] = o
            if best_o < 0 or _less(key, best_key):
                best_o, best_e = o, e
                for t in range(_KEY):
                    best_key[t] = key[t]
    return best_o, best_e


class PackState:
    """A packing in progress of one instance, in any mode, under every constraint it carries.

    Args:
        instance: the instance to pack (any mode, any constraints).
        anchors: add the anchored sub-spaces to :attr:`spaces` (see the module doc); None (the
            default): exactly when the instance has a support rule.

    Attributes:
        instance: the instance being packed.
        placed: bool array (N,): which items are packed.
        placements: the placements made, in order.
        n_bins: bins opened (1 outside the bins mode, where the one bin is always open).

    Example:
        >>> from packzoo.envs.instance import Instance
        >>> s = PackState(Instance([[2, 2, 2], [2, 2, 2]], mode="container", container=(4, 2, 2)))
        >>> s.place(0, *s.choose(0, "dblf")).x, s.place(1, *s.choose(1, "dblf")).x
        (0, 2)
    """

    def __init__(self, instance: Instance, *, anchors: bool | None = None) -> None:
        if not isinstance(instance, Instance):
            raise ValueError(f"instance must be an Instance, got {type(instance).__name__}")
        if anchors is not None and not isinstance(anchors, bool):
            raise ValueError(f"anchors must be True, False or None, got {anchors!r}")
        self.instance = instance
        self.anchors = instance.support is not None if anchors is None else anchors
        inst = instance
        self.mode = inst.mode
        n = inst.n
        self._dims = np.ascontiguousarray(inst.dims, dtype=np.int64)
        huge = int(initial_ems(self._dims)[0, 3])
        if self.mode == "free":
            cont = (huge, huge, huge)
        elif self.mode == "base":
            cont = (inst.container[0], inst.container[1], huge)
        else:
            cont = tuple(inst.container)
        self._cont = np.array(cont, dtype=np.int64)
        self._bounded = np.array([self.mode != "free"] * 2 + [self.mode in ("container", "bins")], dtype=np.bool_)
        # Orientation masks: the shapes allowed (what can_place accepts) and one index per shape
        # (what the mask and the rules use).
        self._shape_ok = np.zeros((n, 6), dtype=np.bool_)
        self._canon = np.zeros((n, 6), dtype=np.bool_)
        for i in range(n):
            canon = inst.allowed_orientations(i)
            self._canon[i, canon] = True
            shapes = {inst.oriented(i, o) for o in canon}
            for o in range(6):
                self._shape_ok[i, o] = inst.oriented(i, o) in shapes
        # Supported area needed per (item, orientation), exactly as the validator's Fraction rule.
        self._need = np.zeros((n, 6), dtype=np.int64)
        if inst.support is not None:
            f = Fraction(inst.support)
            for i in range(n):
                for o in range(6):
                    a, w, _ = inst.oriented(i, o)
                    self._need[i, o] = math.ceil(f * (a * w))
        self._weights = None if inst.weights is None else np.asarray(inst.weights, dtype=np.float64)
        self._max_w = None if inst.max_weight is None else float(inst.max_weight) * (1 + 1e-12)
        # The boundary rule scores spaces by how many of the instance's item shapes fit them.
        self._shapes = np.unique(self._dims, axis=0)
        self.placed = np.zeros(n, dtype=bool)
        self.placements: list[Placement] = []
        self._boxes = np.zeros((n, 6), dtype=np.int64)
        self._box_bin = np.zeros(n, dtype=np.int64)
        self._ems: list[tuple[np.ndarray, int]] = []
        self._bbox: list[list[int]] = []
        self._fill: list[int] = []
        self._load: list[float] = []
        self._spaces: np.ndarray | None = None
        if self.mode != "bins":
            self._open_bin()

    # -- bins --------------------------------------------------------------------------------
    def _fresh_space(self) -> np.ndarray:
        c = self._cont
        return np.array([[0, 0, 0, c[0], c[1], c[2]]], dtype=np.int64)

    def _open_bin(self) -> None:
        if self.mode == "free":
            ems = initial_ems(self._dims)  # the LSA engine's very own first space
        else:
            ems = self._fresh_space()
        self._ems.append((ems, 1))
        self._bbox.append([0, 0, 0])
        self._fill.append(0)
        self._load.append(0.0)
        self._spaces = None

    @property
    def n_bins(self) -> int:
        """Bins opened so far."""
        return len(self._ems)

    @property
    def remaining(self) -> int:
        """Items not packed yet."""
        return int((~self.placed).sum())

    @property
    def spaces(self) -> np.ndarray:
        """The empty maximal spaces, (k, 7) int64 rows (x1, y1, z1, x2, y2, z2, bin), bin by bin.

        With ``anchors`` (a support rule), each bin's maximal spaces are followed by its anchored
        sub-spaces (empty boxes too, cornered on a placed box's top corner). In the bins mode,
        while items remain, the last row is a fresh empty bin (index ``n_bins``). The array is
        shared: do not modify it.
        """
        if self._spaces is None:
            parts = []
            for b, (ems, m) in enumerate(self._ems):
                part = np.empty((m, 7), dtype=np.int64)
                part[:, :6] = ems[:m]
                part[:, 6] = b
                parts.append(part)
                if self.anchors:
                    extra = _anchor_spaces(part, self._boxes, self._box_bin, len(self.placements), b)
                    if len(extra):
                        parts.append(extra)
            if self.mode == "bins" and not self.placed.all():
                fresh = np.empty((1, 7), dtype=np.int64)
                fresh[0, :6] = self._fresh_space()[0]
                fresh[0, 6] = self.n_bins
                parts.append(fresh)
            self._spaces = np.concatenate(parts) if parts else np.zeros((0, 7), dtype=np.int64)
            self._spaces.setflags(write=False)
        return self._spaces

    def _bin_ok(self, item: int, k_bins: int) -> np.ndarray:
        ok = np.ones(k_bins, dtype=np.bool_)
        if self._max_w is not None:
            w = self._weights[item]
            for b in range(min(k_bins, self.n_bins)):
                ok[b] = self._load[b] + w <= self._max_w
            # a fresh bin holds any single item (the instance checked that)
        return ok

    def _bins_array(self) -> tuple[np.ndarray, np.ndarray]:
        k_bins = self.n_bins + 1
        bbox = np.zeros((k_bins, 3), dtype=np.int64)
        fill = np.zeros(k_bins, dtype=np.int64)
        if self._bbox:
            bbox[: self.n_bins] = self._bbox
            fill[: self.n_bins] = self._fill
        return bbox, fill

    # -- feasibility -------------------------------------------------------------------------
    def _check_item(self, item: int) -> int:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)) or not 0 <= item < self.instance.n:
            raise ValueError(f"item must be an index in 0..{self.instance.n - 1}, got {item!r}")
        return int(item)

    def _feasible_table(self, item: int, orient: np.ndarray) -> np.ndarray:
        sp = self.spaces
        out = np.zeros((6, sp.shape[0]), dtype=np.bool_)
        if self.placed[item] or sp.shape[0] == 0:
            return out
        _feasible(sp, self._dims[item], orient, self._need[item], self._boxes, self._box_bin,
                  len(self.placements), self._bin_ok(item, self.n_bins + 1), out)
        return out

    def why_not(self, item: int, orientation: int, space: int) -> str | None:
        """Why ``item`` in ``orientation`` cannot go to the corner of ``space`` (None: it can).

        Raises:
            ValueError: an index out of range.
        """
        item = self._check_item(item)
        if isinstance(orientation, bool) or not isinstance(orientation, (int, np.integer)) or not 0 <= orientation < 6:
            raise ValueError(f"orientation must be in 0..5, got {orientation!r}")
        if self.placed[item]:
            return f"item {item} is already placed"
        sp = self.spaces
        if isinstance(space, bool) or not isinstance(space, (int, np.integer)) or not 0 <= space < sp.shape[0]:
            if sp.shape[0] == 0:
                raise ValueError(f"space {space!r}: no empty space is left")
            raise ValueError(f"space must be an index in 0..{sp.shape[0] - 1}, got {space!r}")
        if not self._shape_ok[item, orientation]:
            return f"orientation {orientation} of item {item} is not allowed"
        a, w, h = self.instance.oriented(item, int(orientation))
        x1, y1, z1, x2, y2, z2, b = (int(v) for v in sp[space])
        if x2 - x1 < a or y2 - y1 < w or z2 - z1 < h:
            return f"item {item} {(a, w, h)} does not fit space {space} {(x2 - x1, y2 - y1, z2 - z1)}"
        if self._max_w is not None and b < self.n_bins and self._load[b] + self._weights[item] > self._max_w:
            return f"item {item} would overload bin {b} (max_weight={self.instance.max_weight:g})"
        need = int(self._need[item, orientation])
        if z1 > 0 and need > 0:
            held = int(_support_area(self._boxes, self._box_bin, len(self.placements), b, x1, y1, z1, a, w))
            if held < need:
                return f"item {item} at z={z1} would rest on {held} of its {a * w} base area (needs {need})"
        return None

    def can_place(self, item: int, orientation: int, space: int) -> bool:
        """True if ``item`` in ``orientation`` may go to the corner of ``space`` under every
        constraint (fits the space, orientation allowed by shape, support, weight)."""
        return self.why_not(item, orientation, space) is None

    def feasible(self, item: int) -> np.ndarray:
        """(m, 2) int64 array of the (orientation, space) pairs where ``item`` may go, one
        orientation per distinct allowed shape, ordered by orientation then space."""
        item = self._check_item(item)
        return np.argwhere(self._feasible_table(item, self._canon[item])).astype(np.int64)

    def mask(self) -> np.ndarray:
        """(N, 6, k) bool: every feasible (item, orientation, space), one orientation per distinct
        allowed shape; k = ``len(spaces)``."""
        sp = self.spaces
        out = np.zeros((self.instance.n, 6, sp.shape[0]), dtype=bool)
        for i in np.flatnonzero(~self.placed):
            out[i] = self._feasible_table(int(i), self._canon[i])
        return out

    # -- rules -------------------------------------------------------------------------------
    def _space_scores(self) -> np.ndarray:
        sp = self.spaces
        ext = sp[:, 3:6] - sp[:, 0:3]
        score = ext.prod(axis=1)
        fits = (ext[:, None, :] >= self._shapes[None, :, :]).all(axis=2).sum(axis=1)
        return score + fits + np.where(fits == len(self._shapes), 10, 0)

    def rank(self, item: int, rule: str = "auto") -> tuple[tuple[int, ...], int, int] | None:
        """The best placement of ``item`` by ``rule`` with its key: (key, orientation, space).

        Keys of different items under the same rule compare (smaller is better), which is how a
        look-ahead heuristic picks which item to place. None if the item fits nowhere.
        """
        item = self._check_item(item)
        bin_rule, inner = parse_rule(rule, self.mode)
        sp = self.spaces
        feas = self._feasible_table(item, self._canon[item])
        if not feas.any():
            return None
        bbox, fill = self._bins_array()
        prefix = {"": 0, "first-fit": 1, "best-fit": 2}[bin_rule]
        score = self._space_scores() if inner == "boundary" else np.zeros(sp.shape[0], dtype=np.int64)
        key = np.zeros(_KEY, dtype=np.int64)
        o, e = _choose(_CODES[inner], prefix, sp, self._dims[item], feas, self._boxes, self._box_bin,
                       len(self.placements), bbox, fill, self._cont, self._bounded, score, key)
        return tuple(int(v) for v in key), int(o), int(e)

    def choose(self, item: int, rule: str = "auto") -> tuple[int, int] | None:
        """(orientation, space) for ``item`` by a placement rule (:data:`PLACEMENT_RULES`;
        "auto": the mode's default, :data:`DEFAULT_RULES`), or None if it fits nowhere."""
        r = self.rank(item, rule)
        return None if r is None else (r[1], r[2])

    # -- placing -----------------------------------------------------------------------------
    def place(self, item: int, orientation: int, space: int) -> Placement:
        """Place ``item`` in ``orientation`` at the corner (x1, y1, z1) of ``space``.

        Returns:
            The Placement (its ``bin`` is the space's bin).

        Raises:
            ValueError: the placement breaks a constraint or an index is out of range.
        """
        why = self.why_not(item, orientation, space)
        if why is not None:
            raise ValueError(f"cannot place: {why}")
        item, orientation = int(item), int(orientation)
        a, w, h = self.instance.oriented(item, orientation)
        x, y, z, _, _, _, b = (int(v) for v in self.spaces[space])
        if b == self.n_bins:  # the fresh bin of the bins mode
            self._open_bin()
        self.placed[item] = True
        k = len(self.placements)
        self._boxes[k] = (x, y, z, a, w, h)
        self._box_bin[k] = b
        ems, m = self._ems[b]
        # The LSA engine's pruning: spaces thinner than every remaining item can never be used.
        left = ~self.placed
        min_dim = int(self._dims[left].min()) if left.any() else 1 << 62
        # Only bin b's list changes; the other bins keep spaces the pruning would now drop,
        # which no remaining item fits anyway.
        self._ems[b] = place_box(ems, m, x, y, z, a, w, h, min_dim)
        bb = self._bbox[b]
        bb[0], bb[1], bb[2] = max(bb[0], x + a), max(bb[1], y + w), max(bb[2], z + h)
        self._fill[b] += a * w * h
        if self._weights is not None:
            self._load[b] += float(self._weights[item])
        p = Placement(item, orientation, x, y, z, b)
        self.placements.append(p)
        self._spaces = None
        return p

    def place_by(self, item: int, rule: str = "auto") -> Placement | None:
        """Place ``item`` by a rule; None (nothing placed) if it fits nowhere."""
        c = self.choose(item, rule)
        return None if c is None else self.place(item, *c)

    # -- results -----------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """True when no unplaced item has a feasible placement (all placed, or the rest fit nowhere)."""
        for i in np.flatnonzero(~self.placed):
            if self._feasible_table(int(i), self._canon[i]).any():
                return False
        return True

    def packing(self) -> Packing:
        """The Packing of the placements so far."""
        return Packing(self.instance, tuple(self.placements))

    @property
    def utilisation(self) -> float:
        """As :attr:`Packing.utilisation` of :meth:`packing`."""
        return self.packing().utilisation

    @property
    def objective(self) -> float:
        """As :attr:`Packing.objective` of :meth:`packing`."""
        return self.packing().objective


def _check_order(instance: Instance, order) -> list[int]:
    try:
        seq = [int(i) for i in order]
        ok = all(float(i) == int(i) for i in order)
    except (TypeError, ValueError):
        raise ValueError(f"order must be a sequence of item indices, got {order!r}") from None
    if not ok or any(not 0 <= i < instance.n for i in seq) or len(set(seq)) != len(seq):
        raise ValueError(f"order must list distinct item indices in 0..{instance.n - 1}, got {list(order)!r}")
    return seq


def pack_order(instance: Instance, order, rule: str = "auto") -> Packing:
    """Pack ``order`` item by item with a placement rule (:data:`PLACEMENT_RULES`).

    Args:
        instance: the instance (any mode).
        order: item indices, each at most once; an order may leave items out (then the packing is
            partial, which only the container mode accepts as valid).
        rule: a rule name, or "auto" for the mode's default (:data:`DEFAULT_RULES`).

    Returns:
        The Packing. In the container mode an item that fits nowhere is skipped (stays out).

    Raises:
        ValueError: a bad order or rule.
        NoPlacementError: another mode's item fits nowhere (only a support rule in base mode can
            cause it).

    Example:
        >>> from packzoo.envs.instance import Instance
        >>> inst = Instance([[2, 1, 1], [2, 1, 1]], mode="bins", container=(2, 1, 1))
        >>> pack_order(inst, [0, 1]).bins_used
        2
    """
    seq = _check_order(instance, order)
    parse_rule(rule, instance.mode)
    state = PackState(instance)
    for i in seq:
        c = state.choose(i, rule)
        if c is None:
            if instance.mode == "container":
                continue
            raise NoPlacementError(f"item {i} has no feasible placement (mode {instance.mode!r})", i)
        state.place(i, *c)
    return state.packing()
