"""Where a leaderboard's solves run: this process, a local process pool, or a Ray cluster.

A task is one solve: (instance number, solver name). Every backend runs the same function,
:func:`solve_task`, which builds the solver once per worker process (from its registered name and
parameters), warms the compiled engine once, and returns the refereed result record of the
caller's ``run_one`` (the leaderboard's :func:`packzoo.solvers.leaderboard.run_one`, handed over by
reference, so this module imports nothing of the leaderboard). A solve depends only on its
instance, solver, parameters and seed, never on the process that runs it, so every backend gives
the serial run's records (the wall times aside; and a solver cut short by its time limit can go
further on a faster worker).

Results are handed to a ``finished(k, name, record)`` callback as each one lands, in completion
order: the leaderboard appends them to its partial file at once, so an interrupted run, local or on
a cluster, keeps everything finished before it and resumes from there.

- ``local``: ``jobs`` spawned worker processes (spawned, not forked: torch and numba threads do not
  survive a fork). A worker that dies breaks the pool; its unfinished tasks are resubmitted to a
  fresh pool (at most ``max_retries`` times), and finished results are never solved again.
- ``ray``: the same tasks as Ray remote functions. With no address (and no ``RAY_ADDRESS`` in the
  environment, which ``ray job submit`` sets) a local Ray with ``jobs`` CPUs is started, its files in
  a temporary folder, and shut down at the end; with an address (``auto``, ``HOST:PORT`` or
  ``ray://HOST:10001``) the run joins that cluster, whose nodes must have the same packzoo installed.
  A task whose worker dies is retried by Ray (``max_retries``); a result is delivered once. Ray is
  imported only when this backend runs (``pip install 'packzoo[ray]'``).

Ctrl-C (KeyboardInterrupt) in the driver cancels the outstanding tasks (killing their processes: a
long solve must not outlive it), shuts down a Ray it started, and re-raises; a cut-short solve is
never reported.

Solvers registered outside packzoo (by a script or a test) cannot be rebuilt by a worker that only
imports packzoo: their tasks run in this process, with a note on stderr.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any

from packzoo.envs.instance import Instance
from packzoo.solvers.base import SOLVERS, create_solver

#: The backends ``run_leaderboard(backend=...)`` and ``--backend`` accept.
BACKENDS = ("local", "ray")
#: How often a task is retried after its worker died (Ray), or a broken pool rebuilt (local).
MAX_RETRIES = 3

Task = tuple[int, str]  # (instance number, solver name)
Finished = Callable[[int, str, dict[str, Any]], None]
#: ``run_one(solver, name, instance, k, seed, time_limit) -> record``: one refereed solve.
RunOne = Callable[..., dict[str, Any]]


class BackendError(RuntimeError):
    """A backend could not run: Ray missing, a cluster unreachable, workers dying past the retries."""


def default_jobs() -> int:
    """All the CPUs this process may use (its affinity mask where the OS has one), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def check_backend(backend: str, address: str | None, jobs: int | None) -> int:
    """Validate the backend settings; returns the number of jobs (None: :func:`default_jobs`).

    Raises:
        ValueError: an unknown backend, an address without the ray backend, an empty address, or
            jobs that are not a positive integer.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if address is not None:
        if backend != "ray":
            raise ValueError(f"an address ({address!r}) is for the ray backend; give backend='ray' (--backend ray)")
        if not isinstance(address, str) or not address.strip():
            raise ValueError(f"address must be a non-empty string such as 'auto' or 'HOST:6379', got {address!r}")
    if jobs is None:
        return default_jobs()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    return jobs


def portable(name: str) -> bool:
    """Whether a fresh process that imports packzoo can build solver ``name``: its factory is a
    top-level name of a packzoo module (registered when packzoo is imported)."""
    factory = SOLVERS._entry(name).factory
    module = getattr(factory, "__module__", "") or ""
    top_level = "<locals>" not in getattr(factory, "__qualname__", "<locals>")
    return (module == "packzoo" or module.startswith("packzoo.")) and top_level


# ------------------------------------------------------------------ the worker side
_WORKER_SOLVERS: dict[tuple[str, str], Any] = {}
_WARM = False


def _solver_key(name: str, params: dict[str, Any]) -> tuple[str, str]:
    # A long-lived worker (Ray reuses them across runs) must not play one run's parameters in another.
    return name, json.dumps(params, sort_keys=True, default=repr)


def solve_task(inst: Instance, k: int, name: str, params: dict[str, Any], seed: int,
               time_limit: float | None, run_one: RunOne,
               warm_up: Callable[[], None]) -> tuple[int, str, dict[str, Any]]:
    """One solve in a worker: returns ``(k, name, run_one(solver, name, inst, k, seed, time_limit))``;
    the solver is built once per worker.

    ``warm_up()`` runs on the worker's first task, so no solve is charged with loading numba's
    cache (a second or so).
    """
    global _WARM
    if not _WARM:
        warm_up()
        _WARM = True
    key = _solver_key(name, params)
    if key not in _WORKER_SOLVERS:
        _WORKER_SOLVERS[key] = create_solver(name, **params)
    return k, name, run_one(_WORKER_SOLVERS[key], name, inst, k, seed, time_limit)


def _pool_init() -> None:
    # Workers leave Ctrl-C to the parent, which stops the pool and discards unfinished solves.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ------------------------------------------------------------------ dispatch
def run_tasks(todo: Sequence[Task], insts: Sequence[Instance], seed: int, time_limit: float | None,
              params: dict[str, dict[str, Any]], finished: Finished, *, built: dict[str, Any],
              run_one: RunOne, warm_up: Callable[[], None], backend: str = "local", jobs: int = 1,
              address: str | None = None, max_retries: int = MAX_RETRIES) -> None:
    """Solve every task of ``todo`` on ``backend``; call ``finished`` once per task as it lands.

    Args:
        todo: (instance number, solver name) pairs.
        insts: the instances, by number.
        seed: the run's seed (each solve gets ``instance_seed(seed, k)``).
        time_limit: seconds per solve, or None.
        params: hyperparameters per solver name.
        finished: called with ``(k, name, record)`` in this process.
        built: the solvers built in this process, by name (for solves run here).
        run_one: one refereed solve, ``run_one(solver, name, instance, k, seed, time_limit)``; a
            module-level function (workers receive it by reference).
        warm_up: loads the compiled engine; run once per process before its first solve.
        backend: ``local`` or ``ray``.
        jobs: local worker processes (1: solve in this process), or the CPUs of a local Ray started
            here (ignored when joining a cluster).
        address: a Ray cluster's address (None: ``RAY_ADDRESS``, else start a local Ray).
        max_retries: retries of a task whose worker died.
    """
    movable = {n: portable(n) for n in {n for _, n in todo}}
    here = [t for t in todo if not movable[t[1]]]
    away = [t for t in todo if movable[t[1]]]
    if here and (backend == "ray" or (jobs > 1 and len(todo) > 1)):
        names = sorted({n for _, n in here})
        print(f"solver(s) {', '.join(names)} are registered outside packzoo, so worker processes cannot build "
              "them: solving them in this process", file=sys.stderr)
    if backend == "local" and min(jobs, len(away)) <= 1:
        here, away = list(todo), []  # one worker would only add its start-up time
    if here:
        warm_up()
        for k, n in here:
            finished(k, n, run_one(built[n], n, insts[k], k, seed, time_limit))
    if not away:
        return
    if backend == "ray":
        run_ray(away, insts, seed, time_limit, params, finished, run_one=run_one, warm_up=warm_up,
                address=address, num_cpus=jobs, max_retries=max_retries)
    else:
        run_pool(away, insts, seed, time_limit, params, finished, run_one=run_one, warm_up=warm_up,
                 jobs=jobs, max_retries=max_retries)


def run_pool(todo: Sequence[Task], insts: Sequence[Instance], seed: int, time_limit: float | None,
             params: dict[str, dict[str, Any]], finished: Finished, *, run_one: RunOne,
             warm_up: Callable[[], None], jobs: int, max_retries: int = MAX_RETRIES) -> None:
    """Solve ``todo`` on ``jobs`` spawned processes; see the module docstring.

    Raises:
        BackendError: the pool broke more than ``max_retries`` times (a worker killed each time).
    """
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    left = dict.fromkeys(todo)  # insertion-ordered; removal in O(1)
    breaks = 0
    while left:
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(left)), mp_context=mp.get_context("spawn"),
                                   initializer=_pool_init)
        futures = {pool.submit(solve_task, insts[k], k, n, params.get(n, {}), seed, time_limit, run_one,
                               warm_up): (k, n) for k, n in left}
        broken = False
        try:
            pending = set(futures)
            while pending:
                ready, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in ready:
                    try:
                        k, n, rec = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    del left[(k, n)]
                    finished(k, n, rec)
        except BaseException:
            _stop_pool(pool)
            raise
        if not broken:
            pool.shutdown(wait=True)
            return
        _stop_pool(pool)
        breaks += 1
        if breaks > max_retries:
            raise BackendError(f"the process pool broke {breaks} times (a worker died each time); "
                               f"{len(left)} solve(s) left: the partial file keeps the finished ones")
        print(f"a worker process died: resubmitting its {len(left)} unfinished solve(s) to a new pool",
              file=sys.stderr)


def _stop_pool(pool: Any) -> None:
    # Taken before shutdown(), which drops the pool's table of processes.
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:  # a long solve must not outlive Ctrl-C
        proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


# ------------------------------------------------------------------ Ray
def _import_ray():
    try:
        import ray
    except ImportError as e:
        raise BackendError("the ray backend needs Ray: pip install 'packzoo[ray]'") from e
    return ray


def run_ray(todo: Sequence[Task], insts: Sequence[Instance], seed: int, time_limit: float | None,
            params: dict[str, dict[str, Any]], finished: Finished, *, run_one: RunOne,
            warm_up: Callable[[], None], address: str | None = None, num_cpus: int | None = None,
            max_retries: int = MAX_RETRIES, window: int | None = None) -> None:
    """Solve ``todo`` as Ray tasks; see the module docstring.

    Uses the Ray this process is already connected to, if any (left running); otherwise joins
    ``address`` (or ``RAY_ADDRESS``), or starts a local Ray with ``num_cpus`` CPUs (all of this
    process's CPUs when None) in a temporary folder; what it started or joined it shuts down.

    Args:
        window: most tasks in flight at once (default: four per cluster CPU, at least 16), so a
            run of any size holds few objects and Ctrl-C has little to cancel.

    Raises:
        BackendError: Ray is not installed or could not start or connect.
    """
    ray = _import_ray()
    started = tmp = None
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        if address is None:
            tmp = tempfile.mkdtemp(prefix="packzoo-ray-", dir=_short_tmp())
            kwargs.update(address="local", num_cpus=num_cpus or default_jobs(), include_dashboard=False,
                          _temp_dir=tmp)
        else:
            kwargs.update(address=address)
        try:
            with _sigint_blocked():
                ray.init(**kwargs)
        except BaseException as e:  # Ctrl-C during start-up too: stop what was started
            _shutdown(ray, tmp)
            if not isinstance(e, Exception):
                raise
            # Ray raises ConnectionError, RuntimeError, ValueError ...
            what = "start a local Ray" if address is None else f"join the Ray cluster at {address!r}"
            raise BackendError(f"could not {what}: "
                               f"{type(e).__name__}: {e}") from e
        started = True
    try:
        _stream_ray(ray, todo, insts, seed, time_limit, params, finished, run_one, warm_up, max_retries, window)
    finally:
        if started:
            _shutdown(ray, tmp)


@contextlib.contextmanager
def _sigint_blocked():
    """Block SIGINT while Ray starts its processes, which inherit the mask: a terminal's Ctrl-C goes
    to the whole process group, and Ray's own processes dying under it make Ray's driver abort
    (an internal check fails) before this process can cancel and shut down cleanly. A Ctrl-C
    pressed meanwhile is delivered when the block lifts."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _short_tmp() -> str | None:
    """The temporary folder for a local Ray's files: the usual one (``TMPDIR``), unless its path is
    so long that Ray's socket paths (under ``session_<date>/sockets/``) would pass the 107 bytes a
    Unix socket path may have; then ``/tmp``."""
    base = tempfile.gettempdir()
    if len(base) > 40 and os.path.isdir("/tmp") and os.access("/tmp", os.W_OK):
        return "/tmp"
    return None


def _shutdown(ray, tmp: str | None) -> None:
    try:
        ray.shutdown()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _stream_ray(ray, todo, insts, seed, time_limit, params, finished, run_one, warm_up, max_retries, window) -> None:
    cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
    window = window or max(16, 4 * cpus)
    remote = ray.remote(max_retries=max_retries)(solve_task)

    def task_cpus(n: str) -> int:
        # A CP-SAT solve with num_workers threads takes that many CPUs (no more than the cluster has).
        return max(1, min(int(params.get(n, {}).get("num_workers", 1) or 1), cpus))

    queue = list(todo)[::-1]
    inflight: dict[Any, Task] = {}
    delivered: set[Task] = set()
    try:
        while queue or inflight:
            while queue and len(inflight) < window:
                k, n = queue.pop()
                ref = remote.options(num_cpus=task_cpus(n)).remote(insts[k], k, n, params.get(n, {}), seed, time_limit,
                                                                   run_one, warm_up)
                inflight[ref] = (k, n)
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.5)
            if ready:  # and whatever else landed meanwhile
                ready, _ = ray.wait(list(inflight), num_returns=len(inflight), timeout=0)
            for ref in ready:
                task = inflight.pop(ref)
                try:
                    k, n, rec = ray.get(ref)
                except ray.exceptions.RayError as e:
                    raise BackendError(f"solve of {task[1]} on instance {task[0]} failed on Ray (a worker "
                                       f"that dies is retried {max_retries} times): {e}") from e
                if (k, n) in delivered:  # never twice into the partial file
                    continue
                delivered.add((k, n))
                finished(k, n, rec)
    except BaseException:
        for ref in inflight:  # Ctrl-C or a failure: nothing keeps solving for nobody
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - a task that just finished cannot be cancelled
                pass
        raise
