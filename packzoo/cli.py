"""The ``packzoo`` command.

``packzoo`` alone runs the main job (``make run``). Subcommands live in the modules that own them;
this file only dispatches, importing a module when its command is called, so ``packzoo --help``
stays fast and one feature's heavy imports (torch, ortools) never slow another's.

Each command module exposes ``cli(argv: list[str]) -> int`` and parses its own arguments.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("packzoo.mainjob:cli", "the main job (default): a seeded leaderboard and the HTML report"),
    "leaderboard": ("packzoo.solvers.leaderboard:cli", "run solvers on a named instance set, validate, rank, save"),
    "gap": ("packzoo.solvers.gap:cli", "heuristics' true optimality gaps against CP-SAT optima"),
    "report": ("packzoo.viz.report:cli", "write the offline HTML report of a leaderboard"),
    "train": ("packzoo.train:cli", "train a zoo family: `packzoo train <family> --steps --lr ... --out DIR`"),
    "solve": ("packzoo.cli:_solve", "pack your own instance file (JSON or CSV) with a solver; save the validated packing"),
    "solvers": ("packzoo.cli:_list_solvers", "list the registered solvers with their cards"),
    "models": ("packzoo.cli:_list_models", "list the zoo's models with their cards"),
}


def _value(text: str):
    """A command-line value: JSON when it parses (numbers, true/false, lists), else the string."""
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _solve(argv: list[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="packzoo solve", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Pack the boxes of FILE (.json as Instance.to_json, or .csv with a header "
                    "l,w,h[,name,quantity,weight,orientations]); the packing is validated before it is saved. "
                    "--mode/--container/--support/--max-weight set a CSV's problem (and override a JSON file's).")
    p.add_argument("file", help="the instance file")
    p.add_argument("--solver", default="local-search", help="a registered solver (see `packzoo solvers`)")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds")
    p.add_argument("--seed", type=int, default=0, help="the solver's seed")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="a solver parameter (JSON value)")
    p.add_argument("--out", default="packing.json", help="where to write the packing (JSON)")
    p.add_argument("--html", default=None, help="also write an offline 3D view of the packing here")
    p.add_argument("--mode", choices=("free", "base", "container", "bins"), default=None,
                   help="the problem: free bin (least surface), base (fixed L,W; least height), container "
                        "(fixed L,W,H; most volume), bins (fewest L,W,H bins); default: the file's, else free")
    p.add_argument("--container", default=None, metavar="L,W[,H]", help="the base (L,W) or container/bin (L,W,H)")
    p.add_argument("--support", type=float, default=None, help="support rule: the least supported fraction of a base")
    p.add_argument("--max-weight", type=float, default=None, help="the most weight per container/bin (needs a weight column)")
    args = p.parse_args(argv)
    from pathlib import Path

    from packzoo._io import check_output_dir
    from packzoo.envs import bound, read_instance, validate
    from packzoo.solvers import create_solver

    container = None
    if args.container is not None:
        try:
            container = tuple(int(v) for v in args.container.split(","))
        except ValueError:
            p.error(f"--container must be integers L,W or L,W,H, got {args.container!r}")
    inst = read_instance(args.file, mode=args.mode, container=container, support=args.support,
                         max_weight=args.max_weight)
    params = {}
    for item in args.param:
        key, eq, val = item.partition("=")
        if not eq or not key:
            p.error(f"--param must be KEY=VALUE, got {item!r}")
        params[key] = _value(val)
    solver = create_solver(args.solver, **params)
    for target in (args.out, args.html):  # before any work: an unwritable place is bad input
        if target is not None:
            check_output_dir(Path(target).resolve().parent)
            if Path(target).is_dir():
                raise ValueError(f"{target!r} is a folder; give a file name")
    sol = solver.solve(inst, seed=args.seed, time_limit=args.time_limit)
    errors = validate(sol.packing) if sol.packing is not None else ["no packing returned"]
    if errors:
        print(f"packzoo solve: {args.solver} gave an invalid packing: {errors[:3]}", file=sys.stderr)
        return 1
    pk = sol.packing
    lb = bound(inst)
    pk.save(args.out, solver=args.solver, params=params, status=sol.status, seconds=round(sol.seconds, 4),
            bound=lb, ratio=pk.ratio, source=str(args.file))
    if inst.mode == "free":
        what = f"surface {pk.surface_area}, bin {'x'.join(map(str, pk.bin))}"
    elif inst.mode == "base":
        what = f"height {pk.height} on the {inst.container[0]}x{inst.container[1]} base"
    elif inst.mode == "container":
        what = f"{pk.items_packed} of {inst.n} items, volume {pk.packed_volume}"
    else:
        what = f"{pk.bins_used} bins"
    print(f"{args.file}: {inst.n} items, mode {inst.mode}; {args.solver}: {what} (ratio to the bound {pk.ratio:.4f}, "
          f"utilisation {pk.utilisation:.1%}), {sol.status}, {sol.seconds:.2f} s; wrote {args.out}")
    if args.html:
        from packzoo._io import atomic_write_text
        from packzoo.viz import packing_figure

        atomic_write_text(args.html, packing_figure(pk).to_html(include_plotlyjs=True, full_html=True))
        print(f"wrote {args.html}")
    return 0


def _list_solvers(argv: list[str]) -> int:
    import argparse

    from packzoo.solvers import KINDS, list_solvers, solver_card

    p = argparse.ArgumentParser(prog="packzoo solvers", description="List the registered solvers with their cards.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard on the names")
    p.add_argument("--kind", choices=KINDS, default=None, help="only this kind")
    p.add_argument("--mode", choices=("free", "base", "container", "bins"), default=None,
                   help="only the solvers that pack this mode")
    args = p.parse_args(argv)
    for name in list_solvers(args.pattern, kind=args.kind, mode=args.mode):
        card = solver_card(name)
        modes = ",".join(card["modes"]) + ("+c" if card["constraints"] else "")
        print(f"{name:22s} {card['kind']:9s} {modes:28s} {card['summary']}  [{card['source']}]")
    return 0


def _list_models(argv: list[str]) -> int:
    import argparse
    import json

    p = argparse.ArgumentParser(
        prog="packzoo models", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="List the zoo's models by family; show a card, evaluate or check a model.")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard on the names")
    p.add_argument("--family", default=None, help="only this family")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--card", metavar="NAME", help="print the model's card (registry + weights) as JSON")
    g.add_argument("--evaluate", metavar="NAME", help="evaluate the pretrained model; print its metrics as JSON")
    g.add_argument("--check", metavar="NAME", help="run the conformance check (check_model) on the model")
    p.add_argument("--limit", action="append", default=[], metavar="KEY=VALUE",
                   help="with --evaluate: a limit such as instances=10 (repeatable)")
    args = p.parse_args(argv)
    from packzoo.zoo import list_models, model_card

    if args.card:
        print(json.dumps(model_card(args.card).to_dict(), indent=2, sort_keys=True))
        return 0
    if args.evaluate:
        from packzoo.zoo import evaluate_model

        limits = {}
        for item in args.limit:
            key, eq, val = item.partition("=")
            if not eq or not key:
                p.error(f"--limit must be KEY=VALUE, got {item!r}")
            limits[key] = _value(val)
        print(json.dumps(evaluate_model(args.evaluate, **limits), indent=2, sort_keys=True, default=str))
        return 0
    if args.check:
        from packzoo.zoo.check import RULES, check_model

        check_model(args.check)
        print(f"{args.check}: passes every rule ({', '.join(RULES)})")
        return 0
    if args.limit:
        p.error("--limit needs --evaluate NAME")
    family = None
    for name in list_models(args.pattern, family=args.family):
        card = model_card(name)
        if card.family != family:
            family = card.family
            print(f"[{family}]")
        shipped = f"weights {card.weights.bytes / 1024:.0f} KB" if card.weights else "no weights"
        print(f"  {name:32s} {card.summary}  ({shipped})")
    return 0


def _resolve(target: str):
    mod, _, fn = target.partition(":")
    return getattr(importlib.import_module(mod), fn)


def _usage() -> str:
    lines = ["usage: packzoo [COMMAND] [ARGS...]   (no command: the main job)", "", "commands:"]
    for name, (_, help_) in COMMANDS.items():
        lines.append(f"  {name:12s} {help_}")
    lines.append("")
    lines.append("`packzoo COMMAND --help` shows a command's arguments and their defaults; `packzoo --version`.")
    lines.append("exit codes: 0 done, 1 a result was invalid (reported, never scored), 2 bad input,")
    lines.append("            130 interrupted (nothing cut short is saved; rerun the same command to resume)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run ``packzoo [COMMAND] [ARGS...]``; returns the exit code (0 ok, 2 bad input, 130 interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv and argv[0] == "--version":
        from packzoo import __version__

        print(f"packzoo {__version__}")
        return 0
    name = argv.pop(0) if argv and not argv[0].startswith("-") else "run"
    if name not in COMMANDS:
        print(f"packzoo: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    from packzoo.registry import UnknownNameError

    try:
        return int(_resolve(COMMANDS[name][0])(argv) or 0)
    except SystemExit as e:  # argparse: --help (0) or bad arguments (2, message already printed)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except UnknownNameError as e:
        print(f"packzoo {name}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `packzoo solvers | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: finished results are saved; run the same command again to resume", file=sys.stderr)
        return 130
    except ValueError as e:  # bad input: a clear message, not a traceback
        print(f"packzoo {name}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
