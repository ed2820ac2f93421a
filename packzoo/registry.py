"""One small registry pattern shared by the solvers and the model zoo.

A registry maps a name to a factory and a *card*: a dict of facts about the entry (a one-line
summary, its source, its default parameters, ...). Names can be listed with shell-style wildcards,
and an unknown name fails early with a KeyError that lists the closest registered names.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class UnknownNameError(KeyError):
    """A name that is not in a registry; the message lists close names."""

    def __str__(self) -> str:  # KeyError would repr() the message and add quotes
        return str(self.args[0]) if self.args else ""


@dataclass
class Entry:
    """A registered factory and its card."""

    name: str
    factory: Callable[..., Any]
    card: dict[str, Any] = field(default_factory=dict)


class Registry:
    """Name -> factory, with wildcards and helpful errors.

    Args:
        kind: what the registry holds ("solver", "model"); used in messages.

    Example:
        >>> reg = Registry("solver")
        >>> @reg.register("greedy", summary="picks the first item")
        ... def make_greedy(**kw): return dict(kw)
        >>> reg.create("greedy", k=3)
        {'k': 3}
        >>> reg.list("gr*")
        ['greedy']
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, factory: Callable[..., Any] | None = None, **card: Any):
        """Register ``factory`` under ``name``; usable as a decorator when ``factory`` is None."""

        def add(f: Callable[..., Any]) -> Callable[..., Any]:
            if not isinstance(name, str) or not name:
                raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = Entry(name, f, dict(card))
            return f

        return add if factory is None else add(factory)

    def _entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(str(name), list(self._entries), n=5, cutoff=0.4)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._entries))})"
            ) from None

    def create(self, name: str, **kwargs: Any) -> Any:
        """Build the entry ``name`` with keyword parameters."""
        return self._entry(name).factory(**kwargs)

    def card(self, name: str) -> dict[str, Any]:
        """A copy of the card of ``name``, with its name added."""
        return {"name": name, **self._entry(name).card}

    def list(self, pattern: str = "*") -> list[str]:
        """Registered names matching the shell-style ``pattern``, sorted."""
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)
