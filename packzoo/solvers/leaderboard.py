"""The leaderboard: run solvers on a named instance set, referee every packing, rank, save.

Every result is checked by the independent validator (:func:`packzoo.envs.validate`) and against its
instance; an invalid packing (or a solver that raised, or returned none) is reported with its
errors and never scored. Scores per solver: mean surface, mean ratio to the lower bound, mean gap to
the best known value of each instance, wins, mean and max seconds, and the invalid count.

Files (their schema, field by field: ``docs/leaderboard-schema.md``; the report reads them):

- ``DIR/leaderboard.json``: settings, package versions, solver parameters and cards, the best known
  value of each instance, every result with its placements, and the summary per solver.
- ``DIR/leaderboard.csv``: one row per result, without placements.
- ``DIR/leaderboard.partial.jsonl``: every finished result, appended one line at a time as it
  finishes. An interrupted run keeps them; the same command resumes and recomputes only what is
  missing (a result is reused only if its set, seed, time limit, solver parameters and instance
  all match). Growing ``--instances`` or adding a solver reuses everything already computed.

Where the solves run (:mod:`packzoo.solvers.backends`): on every CPU of this machine by default
(``--jobs N``, spawned processes; ``--jobs 1`` solves in this process), or as Ray tasks
(``--backend ray``: a local Ray, or ``--address`` a cluster's). The records are the serial run's
whatever the backend (but for the wall times, and a solve its time limit stopped, which a faster or
idler worker takes further), and the partial file is the same: a run started on one resumes on another.

Example:
    packzoo leaderboard --set uniform-n8 --instances 200 --solvers random,lsa-lws,best-order \
        --time-limit 10 --out results/
    packzoo leaderboard --set cube-n20 --instances 10000 --solvers local-search --time-limit 1 \
        --backend ray --address auto --out results/cube-n20
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from packzoo._checks import positive_int
from packzoo._io import atomic_write_text, check_output_dir
from packzoo.envs.files import read_instances
from packzoo.envs.generators import instance_set, known_optimum
from packzoo.envs.instance import Instance
from packzoo.envs.packing import Packing, Placement, bound, validate
from packzoo.solvers.backends import BACKENDS, check_backend, default_jobs, run_tasks
from packzoo.solvers.base import SOLVERS, UnsupportedMode, create_solver, list_solvers, solver_card

PARTIAL = "leaderboard.partial.jsonl"
CSV_FIELDS = [
    "solver", "instance", "seed", "mode", "status", "valid", "errors", "objective", "surface", "utilisation",
    "lower_bound", "ratio_lb", "gap", "bound", "seconds",
]
#: What each mode's objective is called in the tables, and whether it is maximised.
OBJECTIVE_NAMES = {"free": "surface", "base": "height", "container": "volume", "bins": "bins"}
MAXIMISE = ("container",)
VERSION_PACKAGES = ("packzoo", "numpy", "numba", "gymnasium", "ortools", "torch", "stable-baselines3", "sb3-contrib")


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for p in VERSION_PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    out["python"] = sys.version.split()[0]
    return out


def _jsonable(v: Any) -> Any:
    """Parameters and infos as plain JSON values (numpy scalars and arrays included)."""
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return repr(v)


def instance_seed(seed: int, instance: int) -> int:
    """The seed a solver gets on ``instance``: derived from the run's seed, fixed across runs."""
    return int(np.random.SeedSequence([int(seed), int(instance)]).generate_state(1)[0])


def _parse_solvers(solvers: str | Sequence[str]) -> list[str]:
    names = [s.strip() for s in solvers.split(",")] if isinstance(solvers, str) else [str(s).strip() for s in solvers]
    names = [s for s in names if s]
    if not names:
        raise ValueError("no solvers given")
    if len(set(names)) != len(names):
        raise ValueError(f"a solver is listed twice: {names}")
    for s in names:
        if s not in SOLVERS:
            # the registry's error lists close names; re-raise it as bad input
            try:
                SOLVERS.card(s)
            except KeyError as e:
                raise ValueError(str(e)) from None
    return names


def _key(set_name: str, seed: int, time_limit: float | None, solver: str, identity: dict, instance: int) -> str:
    """What a reused result must match: the code's version, the set, seed and limit, the solver's
    name, parameters and weights (``identity``), and the instance."""
    from packzoo import __version__

    return json.dumps([__version__, set_name, seed, time_limit, solver, identity, instance], sort_keys=True)


def _line_digest(key: str, result: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([key, result], sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _load_partial(path: Path) -> tuple[dict[str, dict[str, Any]], list[int]]:
    """Finished results of earlier runs, and the numbers of the lines that could not be trusted.

    A line is trusted when it parses, has its fields, and its digest matches its key and result:
    a torn line (a run killed mid-write) or an edited one is reported and its result recomputed.
    """
    done: dict[str, dict[str, Any]] = {}
    bad: list[int] = []
    if not path.exists():
        return done, bad
    with open(path, encoding="utf-8", errors="replace") as f:
        for no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                key, result = rec["key"], rec["result"]
                if not isinstance(key, str) or not isinstance(result, dict) or rec["sha256"] != _line_digest(key, result):
                    raise ValueError("digest")
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                bad.append(no)
                continue
            done[key] = result
    return done, bad


_RESULT_FIELDS = ("solver", "instance", "seed", "mode", "status", "valid", "errors", "objective", "surface",
                  "utilisation", "lower_bound", "ratio_lb", "bound", "seconds", "placements")


def _measures(packing: Packing) -> dict[str, Any]:
    """The figures a valid result records, all recomputed from its packing."""
    return {"objective": packing.objective, "surface": int(packing.surface_area),
            "utilisation": packing.utilisation, "ratio_lb": packing.ratio}


def recheck(rec: dict[str, Any], inst: Instance, name: str, k: int, seed: int) -> str | None:
    """Referee a reused result again, as if fresh; returns why it cannot be trusted, or None.

    Its placements are rebuilt into a Packing and validated; its objective, surface, utilisation,
    bound and ratio are recomputed and must equal the recorded ones.
    """
    missing = [f for f in _RESULT_FIELDS if f not in rec]
    if missing:
        return f"missing fields {missing}"
    if rec["solver"] != name or rec["instance"] != k or rec["seed"] != instance_seed(seed, k):
        return "another solver, instance or seed"
    if rec["mode"] != inst.mode:
        return f"mode {rec['mode']!r}, but the instance's is {inst.mode!r}"
    if not rec["valid"]:
        return None if rec["objective"] is None and rec["errors"] else "an invalid result without errors"
    try:
        packing = Packing(inst, tuple(Placement(*map(int, p)) for p in rec["placements"]))
    except (TypeError, ValueError) as e:
        return f"malformed placements ({e})"
    errors = validate(packing)
    if errors:
        return f"its packing is invalid: {errors[:2]}"
    if rec["lower_bound"] != bound(inst) or any(rec[k] != v for k, v in _measures(packing).items()):
        return "its objective, surface, bound or ratio do not match its packing"
    if rec["status"] not in ("optimal", "feasible"):
        return f"status {rec['status']!r} for a valid packing"
    return None


def _append_line(path: Path, rec: dict[str, Any]) -> None:
    """Append one JSON line with a single write on an O_APPEND file, then fsync."""
    rec = {**rec, "sha256": _line_digest(rec["key"], rec["result"])}
    data = (json.dumps(rec, separators=(",", ":")) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        # A previous run killed mid-line leaves no newline: start on a fresh line.
        if os.fstat(fd).st_size > 0:
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def run_one(solver: Any, name: str, inst, k: int, seed: int, time_limit: float | None) -> dict[str, Any]:
    """Solve instance ``k`` with ``solver`` and referee the result; returns the result record.

    ``lower_bound`` holds the mode's :func:`packzoo.envs.bound` (an upper bound on the volume in
    container mode) and ``ratio_lb`` the packing's ratio to it (>= 1, 1 = proven optimal)."""
    lb = bound(inst)
    s = instance_seed(seed, k)
    rec: dict[str, Any] = {
        "solver": name, "instance": k, "seed": s, "mode": inst.mode, "status": "unknown", "valid": False,
        "errors": [], "objective": None, "surface": None, "utilisation": None, "lower_bound": lb,
        "ratio_lb": None, "gap": None, "bound": None, "seconds": None, "placements": None,
    }
    try:
        sol = solver.solve(inst, seed=s, time_limit=time_limit)
    except Exception as e:  # a crashing solver is reported, not fatal to the whole board
        rec["errors"] = [f"solver raised {type(e).__name__}: {e}"]
        return rec
    rec["status"] = str(getattr(sol, "status", "unknown"))
    rec["seconds"] = float(getattr(sol, "seconds", 0.0) or 0.0)
    claimed = getattr(sol, "bound", None)
    rec["bound"] = None if claimed is None else float(claimed)
    packing = getattr(sol, "packing", None)
    if not isinstance(packing, Packing):
        rec["errors"] = ["no packing returned"]
        return rec
    errors = []
    if packing.instance != inst:
        errors.append("the packing is of another instance")
    else:
        errors = validate(packing)
    rec["placements"] = [p.to_list() for p in packing.placements]
    if errors:
        rec["errors"] = errors
        return rec
    m = _measures(packing)
    obj = m["objective"]
    if m["ratio_lb"] < 1 - 1e-12:  # relative: near the Instance limits surfaces reach 1e13
        rec["errors"] = [f"{OBJECTIVE_NAMES[inst.mode]} {obj} beyond the mode's bound {lb}: impossible"]
        return rec
    claimed = rec["bound"]
    if claimed is not None and (claimed < obj * (1 - 1e-12) if inst.mode in MAXIMISE else claimed > obj * (1 + 1e-12)):
        rec["errors"] = [f"claimed bound {claimed} beats its own {OBJECTIVE_NAMES[inst.mode]} {obj}"]
        return rec
    rec["valid"] = True
    rec.update(m)
    info = getattr(sol, "info", None) or {}
    # Scalar facts only (nodes, stopped_by_time, ...): bulky arrays would swell the file.
    facts = {str(k): _jsonable(v) for k, v in info.items() if isinstance(v, (str, int, float, bool, np.generic))}
    if facts:
        rec["info"] = facts
    return rec


def warm_up() -> None:
    """Load the compiled engine and kernels once, so a solver's first solve is not charged with
    loading numba's cache (about a second): the timings then compare solvers, not imports."""
    from packzoo.envs.instance import Instance
    from packzoo.solvers import heuristics

    tiny = Instance([[2, 1, 1], [1, 2, 1], [2, 2, 1]])
    for name in ("random", "lsa-lws", "best-order", "local-search"):
        create_solver(name).solve(tiny, seed=0)
    create_solver("lsa-lws", placement="ep").solve(tiny)
    heuristics.evaluate(tiny, np.array([[0, 1, 2]]), "ep")


def _is_set_name(spec: str) -> bool:
    try:
        known_optimum(spec)  # parses the name, draws nothing
    except ValueError:
        return False
    return True


def load_set(spec: str, count: int) -> tuple[list[Instance], str, list[str] | None]:
    """The instances a leaderboard runs on: the first ``count`` of a named set, or a user's own
    instance file or folder of files (all of them, up to ``count``).

    Returns (instances, the key that identifies them, the files or None). A file set's key holds
    a digest of the instances, so editing a file never reuses the old results. A set's name wins
    over a file or folder of the same name (an earlier run's ``--out zhao-rs`` must not shadow
    the set); write ``./zhao-rs`` for the folder.
    """
    p = Path(spec)
    if spec == p.name and _is_set_name(spec) or not p.exists():
        return instance_set(spec, count), spec, None
    insts, files = read_instances(p)
    insts, files = insts[:count], files[:count]
    digest = hashlib.sha256(json.dumps([i.to_dict() for i in insts]).encode()).hexdigest()[:16]
    return insts, f"{spec}#{digest}", [str(f) for f in files]


def _known_optimum(set_name: str) -> float | None:
    try:
        return known_optimum(set_name)
    except ValueError:  # a user's own files: nothing is known
        return None


def _better(mode: str, a: float, b: float) -> bool:
    """True if objective ``a`` beats ``b`` in ``mode``."""
    return a > b if mode in MAXIMISE else a < b


def _best_known(set_name: str, insts: Sequence[Instance], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    opt = _known_optimum(set_name)
    out = []
    for k, inst in enumerate(insts):
        rs = [r for r in results if r["instance"] == k and r["valid"]]
        if opt is not None:
            out.append({"instance": k, "value": float(opt), "proven": True, "by": "known optimum"})
            continue
        proven = [r for r in rs if r["status"] == "optimal"]
        pool = proven or rs
        if not pool:
            out.append({"instance": k, "value": None, "proven": False, "by": None})
            continue
        pick = max if inst.mode in MAXIMISE else min
        v = pick(r["objective"] for r in pool)
        by = sorted({r["solver"] for r in pool if r["objective"] == v})
        out.append({"instance": k, "value": float(v), "proven": bool(proven), "by": ",".join(by)})
    return out


def gap(mode: str, value: float, best: float) -> float:
    """How far ``value`` is from the best known ``best``, as a fraction >= 0 when it is no better:
    value / best - 1 when minimising, 1 - value / best when maximising (container mode)."""
    return 1.0 - value / best if mode in MAXIMISE else value / best - 1.0


def summarise(results: list[dict[str, Any]], solvers: Sequence[str]) -> list[dict[str, Any]]:
    """One row per solver (the leaderboard's table and the report's). Wins: instances where the
    solver's objective is the best of the run's valid results (ties count for each). Results
    written before the modes existed (no ``mode``, no ``objective``) are free-mode surfaces."""
    results = [r if "objective" in r else {**r, "mode": "free", "objective": r["surface"], "utilisation": None}
               for r in results]
    best_run: dict[int, float] = {}
    for r in results:
        if r["valid"]:
            k = r["instance"]
            if k not in best_run or _better(r["mode"], r["objective"], best_run[k]):
                best_run[k] = r["objective"]
    rows = []
    for name in solvers:
        rs = [r for r in results if r["solver"] == name]
        ok = [r for r in rs if r["valid"]]
        secs = [r["seconds"] for r in rs if r["seconds"] is not None]
        gaps = [r["gap"] for r in ok if r["gap"] is not None]

        def mean(xs):
            return float(np.mean(xs)) if xs else None

        rows.append({
            "solver": name,
            "n": len(rs),
            "valid": len(ok),
            "mean_objective": mean([r["objective"] for r in ok]),
            "mean_surface": mean([r["surface"] for r in ok]),
            "mean_utilisation": mean([r["utilisation"] for r in ok if r["utilisation"] is not None]),
            "mean_ratio_lb": mean([r["ratio_lb"] for r in ok]),
            "mean_gap": mean(gaps),
            "max_gap": float(max(gaps)) if gaps else None,
            "wins": sum(1 for r in ok if r["objective"] == best_run.get(r["instance"])),
            "mean_seconds": mean(secs),
            "max_seconds": float(max(secs)) if secs else None,
            "invalid": len(rs) - len(ok),
        })
    return rows


def format_table(summary: list[dict[str, Any]], mode: str = "free") -> str:
    """The summary as a fixed-width text table; the objective column is named for ``mode``
    (surface, height, volume, bins) and the fixed modes add the mean utilisation."""
    obj = f"mean {OBJECTIVE_NAMES.get(mode, 'objective')}"
    util = mode != "free"
    head = (f"{'solver':18s} {obj:>13s} " + (f"{'util':>7s} " if util else "")
            + f"{'ratio LB' if mode not in MAXIMISE else 'UB ratio':>9s} {'gap best':>9s} {'wins':>5s} {'mean s':>9s} {'max s':>9s} {'invalid':>7s}")
    lines = [head, "-" * len(head)]

    def cell(v, fmt, width, suffix=""):
        # A missing figure keeps the column's width, so a solver with no valid result still aligns.
        return ("-" if v is None else format(v, fmt) + suffix).rjust(width)

    unbounded = []
    for r in sorted(summary, key=lambda r: (r["mean_gap"] is None, r["mean_gap"] or 0.0)):
        name = r["solver"]
        if not r.get("keeps_time_limit", True):
            unbounded.append(name)
            name += "*"
        u = r.get("mean_utilisation")
        lines.append(
            f"{name:18s} {cell(r.get('mean_objective', r.get('mean_surface')), '.1f' if mode != 'bins' else '.2f', 13)} "
            + (f"{cell(None if u is None else 100 * u, '.1f', 6, '%')} " if util else "")
            + f"{cell(r['mean_ratio_lb'], '.4f', 9)} "
            f"{cell(None if r['mean_gap'] is None else 100 * r['mean_gap'], '.2f', 9, '%')} {r['wins']:5d} "
            f"{cell(r['mean_seconds'], '.4f', 9)} {cell(r['max_seconds'], '.3f', 9)} {r['invalid']:7d}"
        )
    if unbounded:
        lines.append("* no time limit: a fixed number of constructive passes (its card says keeps_time_limit=False)")
    return "\n".join(lines)


#: Left out of the default solver lists of the free bin: the fixed modes' order search (on the free
#: bin, local-search and best-order search orders on the faster LSA engine, and a third anytime
#: search would add its whole time limit per instance).
DEFAULT_SKIP = ("order-search",)


def default_heuristics(mode: str = "free") -> list[str]:
    """The heuristics a default run of ``mode`` compares (the main job, the gap command)."""
    return [n for n in list_solvers(kind="heuristic", mode=mode) if mode != "free" or n not in DEFAULT_SKIP]


def set_mode(insts: Sequence[Instance]) -> str:
    """The mode shared by a set's instances ("mixed" for a folder of several modes)."""
    modes = {i.mode for i in insts}
    return modes.pop() if len(modes) == 1 else "mixed"


def run_leaderboard(
    set_name: str,
    instances: int,
    solvers: str | Sequence[str],
    time_limit: float | None,
    out: str | os.PathLike | None,
    seed: int = 0,
    *,
    params: dict[str, dict[str, Any]] | None = None,
    resume: bool = True,
    progress: bool = True,
    jobs: int | None = 1,
    backend: str = "local",
    address: str | None = None,
) -> dict[str, Any]:
    """Run ``solvers`` on the first ``instances`` of ``set_name``; referee, rank, and save to ``out``.

    Args:
        set_name: a named instance set (``uniform-n8``, ``orders-n10``, ``cube-n20``, ...), or a
            path: an instance file (JSON or CSV, see :mod:`packzoo.envs.files`) or a folder of them.
        instances: how many of its instances (the first ones).
        solvers: registered solver names, a list or a comma-separated string.
        time_limit: seconds per solve (None: no limit).
        out: folder for leaderboard.json / .csv / .partial.jsonl (None: write nothing, no resume).
        seed: the run's seed; each solve gets :func:`instance_seed` (seed, instance).
        params: hyperparameters per solver name, e.g. ``{"local-search": {"iterations": 500}}``.
        resume: reuse the finished results found in ``out``'s partial file.
        progress: show a tqdm progress bar.
        jobs: worker processes (1: solve in this process; None: every CPU this process may use).
            Each solve is the same whatever the process, so the results equal a serial run's,
            record by record (the wall times aside). With ``backend="ray"`` and no cluster, the
            CPUs of the local Ray started for the run.
        backend: ``local`` (this process or a process pool) or ``ray`` (Ray remote tasks; see
            :mod:`packzoo.solvers.backends`). Either way results stream into the partial file as
            they finish, so a run on one resumes on the other.
        address: the Ray cluster to join (``auto``, ``HOST:PORT``, ``ray://HOST:10001``); None:
            ``RAY_ADDRESS`` if set, else a local Ray started for the run.

    Returns:
        The leaderboard dict (the JSON written to ``out/leaderboard.json``).

    Raises:
        ValueError: unknown set or solver (with close names), bad counts, limits or backend.
        packzoo.solvers.backends.BackendError: Ray missing or unreachable, workers dying past
            the retries (the partial file keeps every finished result).
    """
    names = _parse_solvers(solvers)
    positive_int(instances, "instances")
    if time_limit is not None:
        if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not time_limit > 0:
            raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
        time_limit = float(time_limit)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    jobs = check_backend(backend, address, jobs)
    params = dict(params or {})
    for p in params:
        if p not in names:
            raise ValueError(f"parameters given for {p!r}, which is not among the solvers {names}")
    insts, set_key, files = load_set(set_name, int(instances))
    mode = set_mode(insts)
    built = {n: create_solver(n, **params.get(n, {})) for n in names}
    # A solver that cannot pack the set's modes or constraints is refused before any work.
    needs = sorted({i.mode for i in insts})
    constrained = any(i.is_constrained for i in insts)
    for n in names:
        card = solver_card(n)
        if not set(needs) <= set(card["modes"]) or (constrained and not card["constraints"]):
            raise UnsupportedMode(
                f"solver {n!r} packs modes {list(card['modes'])}"
                + ("" if card["constraints"] else " without constraints")
                + f"; set {set_name!r} has mode {', '.join(needs)}" + (" with constraints" if constrained else "")
                + f"; packzoo solvers --mode {needs[0]} names the ones that do")
    solver_meta = {}
    for n, s in built.items():
        p = _jsonable(s.get_params()) if hasattr(s, "get_params") else _jsonable(params.get(n, {}))
        # The weights a learned solver plays: swapping them must not reuse old results.
        fp = s.fingerprint() if hasattr(s, "fingerprint") else ""
        solver_meta[n] = {"params": p, "fingerprint": fp, "card": _jsonable(solver_card(n))}

    out_dir = None if out is None else Path(out)
    partial = None if out_dir is None else out_dir / PARTIAL
    if out_dir is not None:
        check_output_dir(out_dir)  # before any work: a file or an unwritable place is bad input
    done, bad_lines = _load_partial(partial) if (partial is not None and resume) else ({}, [])
    if partial is not None and not resume and partial.exists():
        partial.unlink()
    distrusted: list[str] = []

    tasks = [(k, n) for k in range(len(insts)) for n in names]
    keys = {(k, n): _key(set_key, seed, time_limit, n, {"params": solver_meta[n]["params"],
                                                          "fingerprint": solver_meta[n]["fingerprint"]}, k)
            for k, n in tasks}
    found: dict[tuple[int, str], dict[str, Any]] = {}
    reused = 0
    for k, n in tasks:
        rec = done.get(keys[(k, n)])
        if rec is None:
            continue
        why = recheck(rec, insts[k], n, k, seed)
        if why is None:
            found[(k, n)] = rec
            reused += 1
        else:
            distrusted.append(f"{n} on instance {k}: {why}")
    todo = [t for t in tasks if t not in found]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), initial=len(found), desc=f"{set_name}", unit="solve", file=sys.stderr)

    def finished(k: int, n: str, rec: dict[str, Any]) -> None:
        # Written as it finishes: an interrupted run keeps every result completed before it.
        if (k, n) in found:  # a backend delivering twice must not write a key twice
            return
        if partial is not None:
            _append_line(partial, {"key": keys[(k, n)], "result": rec})
        found[(k, n)] = rec
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"{n} #{k}")

    try:
        if todo:
            run_tasks(todo, insts, seed, time_limit, {n: params.get(n, {}) for n in names}, finished,
                      built=built, run_one=run_one, warm_up=warm_up, backend=backend, jobs=jobs, address=address)
    finally:
        if bar is not None:
            bar.close()
    results = [found[t] for t in tasks]

    best = _best_known(set_name, insts, results)
    for r in results:
        b = best[r["instance"]]["value"]
        r["gap"] = None if (not r["valid"] or not b) else gap(r["mode"], r["objective"], b)
    board = {
        "set": set_name,
        "mode": mode,
        "instances": len(insts),
        "time_limit": time_limit,
        "seed": seed,
        "versions": _versions(),
        "solvers": solver_meta,
        "best_known": best,
        "results": results,
        # A user's files: the instances themselves (mode, container, constraints), so the report
        # rebuilds every packing wherever it runs; instance_dims stays for older readers.
        **({"files": files, "instance_dims": [i.dims.tolist() for i in insts],
            "instance_dicts": [i.to_dict() for i in insts]} if files else {}),
        "summary": [{**row, "keeps_time_limit": bool(solver_meta[row["solver"]]["card"]["keeps_time_limit"])}
                    for row in summarise(results, names)],
        "reused": reused,
        "recomputed": {"malformed_lines": bad_lines, "failed_recheck": distrusted},
    }
    if bad_lines or distrusted:
        print(f"{partial}: {len(bad_lines)} malformed or altered line(s)"
              + (f" (lines {', '.join(map(str, bad_lines[:10]))}{' ...' if len(bad_lines) > 10 else ''})" if bad_lines else "")
              + f" and {len(distrusted)} result(s) that failed the re-check"
              + (f" ({distrusted[0]}{' ...' if len(distrusted) > 1 else ''})" if distrusted else "")
              + ": recomputed", file=sys.stderr)
    if out_dir is not None:
        atomic_write_text(out_dir / "leaderboard.json", json.dumps(board, indent=1))
        atomic_write_text(out_dir / "leaderboard.csv", to_csv(results))
    return board


def to_csv(results: list[dict[str, Any]]) -> str:
    """One CSV row per result (errors joined by ' | '; no placements)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in results:
        row = dict(r)
        row["errors"] = " | ".join(r["errors"])
        w.writerow(row)
    return buf.getvalue()


def _parse_param(text: str) -> tuple[str, str, Any]:
    name, eq, value = text.partition("=")
    solver, dot, key = name.rpartition(".")
    if not eq or not dot or not solver or not key:
        raise ValueError(f"--param must look like SOLVER.KEY=VALUE, got {text!r}")
    try:
        v = json.loads(value)
    except json.JSONDecodeError:
        v = value  # a bare string such as ep
    return solver, key, v


def build_parser(prog: str = "packzoo leaderboard") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Run solvers on a named instance set, validate every packing, rank, save.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--set", dest="set_name", default="uniform-n8", help="instance set: uniform-n8|10|12, orders-n8|10|12, cube-n8..cube-n50 (free mode), container-n5..n100, base-n5..n100, bins-n10..n200; from the literature rr-n10|20|30|50, jiang-n20|30|50|100, mpv-c1..c9-n50|100|150|200, zhao-rs|cut1|cut2; or an instance file (.json, .csv) or a folder of them")
    p.add_argument("--instances", type=int, default=200, help="how many instances of the set (the first ones)")
    p.add_argument("--solvers", default="random,sort-volume,lsa-lws,best-order", help="comma-separated solver names (see `packzoo solvers`)")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds per solve")
    p.add_argument("--out", default="results", help="output folder")
    p.add_argument("--seed", type=int, default=0, help="the run's seed")
    p.add_argument("--param", action="append", default=[], metavar="SOLVER.KEY=VALUE", help="a solver hyperparameter (JSON value), repeatable: --param local-search.iterations=500")
    p.add_argument("--fresh", action="store_true", help="ignore and delete earlier partial results in --out")
    add_backend_args(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def add_backend_args(p: argparse.ArgumentParser, jobs_help: str | None = None) -> None:
    """``--jobs``, ``--backend`` and ``--address``: where the solves run (leaderboard and gap)."""
    p.add_argument("--jobs", type=int, default=None, help=jobs_help or (
        f"worker processes, or the CPUs of a local Ray (default: every CPU this process may use, here "
        f"{default_jobs()}; 1 solves in this process); results equal a serial run's%(default).0s"))
    p.add_argument("--backend", choices=BACKENDS, default="local",
                   help="local: this machine's processes; ray: Ray tasks (pip install 'packzoo[ray]')")
    p.add_argument("--address", default=None,
                   help="Ray cluster to join (auto, HOST:PORT, ray://HOST:10001); default: RAY_ADDRESS, "
                        "else a local Ray started for the run%(default).0s")


def cli(argv: list[str]) -> int:
    """``packzoo leaderboard ...``: see :func:`build_parser`."""
    args = build_parser().parse_args(argv)
    params: dict[str, dict[str, Any]] = {}
    for text in args.param:
        s, k, v = _parse_param(text)
        params.setdefault(s, {})[k] = v
    board = run_leaderboard(
        args.set_name, args.instances, args.solvers, args.time_limit, args.out, args.seed,
        params=params, resume=not args.fresh, progress=not args.no_progress, jobs=args.jobs,
        backend=args.backend, address=args.address,
    )
    print(f"{board['set']}: {board['instances']} instances, time limit {board['time_limit']} s, seed {board['seed']}"
          f" ({board['reused']} results reused from {Path(args.out) / PARTIAL})")
    print(format_table(board["summary"], board["mode"]))
    print(f"wrote {Path(args.out) / 'leaderboard.json'} and {Path(args.out) / 'leaderboard.csv'}")
    return exit_code(board)


def exit_code(board: dict[str, Any]) -> int:
    """1 when any result was invalid (reported, never scored), else 0: scripts can tell."""
    invalid = sum(r["invalid"] for r in board["summary"])
    if invalid:
        print(f"{invalid} invalid result(s): see the 'invalid' column and leaderboard.json", file=sys.stderr)
        return 1
    return 0
