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
    "solvers": ("packzoo.cli:_list_solvers", "list the registered solvers with their cards"),
    "models": ("packzoo.cli:_list_models", "list the zoo's models with their cards"),
}


def _list_solvers(argv: list[str]) -> int:
    from packzoo.solvers import list_solvers, solver_card

    pattern = argv[0] if argv else "*"
    for name in list_solvers(pattern):
        card = solver_card(name)
        print(f"{name:20s} {card.get('summary', '')}  [{card.get('source', '')}]")
    return 0


def _list_models(argv: list[str]) -> int:
    from packzoo.zoo import list_models, model_card

    pattern = argv[0] if argv else "*"
    for name in list_models(pattern):
        card = model_card(name)
        shipped = "weights shipped" if card.get("weights") else "no weights"
        print(f"{name:28s} {card.get('summary', '')}  ({shipped})")
    return 0


def _resolve(target: str):
    mod, _, fn = target.partition(":")
    return getattr(importlib.import_module(mod), fn)


def _usage() -> str:
    lines = ["usage: packzoo [COMMAND] [ARGS...]   (no command: the main job)", "", "commands:"]
    for name, (_, help_) in COMMANDS.items():
        lines.append(f"  {name:12s} {help_}")
    lines.append("")
    lines.append("`packzoo COMMAND --help` shows a command's arguments.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name = argv.pop(0) if argv and not argv[0].startswith("-") else "run"
    if name not in COMMANDS:
        print(f"packzoo: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    try:
        return int(_resolve(COMMANDS[name][0])(argv) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted: finished results are saved; run the same command again to resume", file=sys.stderr)
        return 130
    except ValueError as e:  # bad input: a clear message, not a traceback
        print(f"packzoo {name}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
