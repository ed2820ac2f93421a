"""The house's rule of the arrows, checked on the source: every ``import packzoo...`` counts,
including the lazy ones inside functions (they are arrows all the same).

cli / mainjob -> train -> solvers -> zoo -> envs;  viz -> solvers, zoo, envs.
``packzoo._io``, ``packzoo._checks`` and ``packzoo.registry`` are foundations anyone may use; the package root
(``packzoo/__init__.py``) is where envs and viz meet (it registers the envs with viz's renderer).
"""

from __future__ import annotations

import ast
from pathlib import Path

import packzoo

ROOT = Path(packzoo.__file__).parent
FOUNDATION = {"_io", "_checks", "registry"}
# room -> the rooms it may import (besides itself and the foundations)
ALLOWED = {
    "envs": set(),
    "zoo": {"envs"},
    "solvers": {"zoo", "envs"},
    "train": {"solvers", "zoo", "envs"},
    "viz": {"solvers", "zoo", "envs"},
    "cli": {"train", "solvers", "zoo", "envs", "viz", "mainjob"},
    "mainjob": {"solvers", "zoo", "envs", "viz"},
}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path) -> set[str]:
    """Every packzoo module ``module`` imports (absolute and relative, top-level and lazy)."""
    found = set()
    pkg = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "packzoo"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.split(".")[0] == "packzoo":
                found.add(name)
                # `from packzoo.zoo import weights` imports a submodule: count it too
                found |= {f"{name}.{a.name}" for a in node.names}
    mods = _modules()
    return {m for m in found if m in mods and m != module}


def _graph() -> dict[str, set[str]]:
    return {m: _imports(m, p) for m, p in _modules().items()}


def test_arrows_point_one_way():
    bad = []
    for mod, targets in _graph().items():
        room = _room(mod)
        if room in FOUNDATION or room == "__init__":
            continue
        for t in targets:
            troom = _room(t)
            if troom in (room, "__init__") and troom != "__init__":
                continue
            if troom == "__init__" or troom in FOUNDATION:
                continue
            if troom not in ALLOWED[room]:
                bad.append(f"{mod} -> {t}")
    assert not bad, "imports against the arrows:\n" + "\n".join(sorted(bad))


def test_no_import_cycle_between_rooms():
    rooms: dict[str, set[str]] = {}
    for mod, targets in _graph().items():
        rooms.setdefault(_room(mod), set()).update(
            _room(t) for t in targets if _room(t) != _room(mod) and _room(mod) != "__init__" and _room(t) != "__init__")
    _assert_acyclic(rooms)


def test_no_import_cycle_between_modules():
    """Within rooms too: no module imports (directly or through others) a module that imports it.

    A package's ``__init__`` re-exporting its submodules is not a cycle of logic, so edges from
    a package to its own submodules are left out.
    """
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in _graph().items()}
    _assert_acyclic(graph)


def _assert_acyclic(graph: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for t in sorted(graph.get(n, ())):
            if state.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)


def test_the_walker_sees_lazy_and_relative_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from packzoo.solvers import create_solver\n    import packzoo.viz\n")
    got = _imports("packzoo.zoo.fake", src)
    assert {"packzoo.solvers", "packzoo.viz"} <= got
