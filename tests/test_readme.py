"""Every Python example of the README runs on its own, as a user would paste it (each block in a
fresh namespace, in a temporary folder, in the README's order)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_readme_example_runs_on_its_own(k):
    code = compile(BLOCKS[k], f"README.md python block {k + 1}", "exec")
    exec(code, {"__name__": "__readme__"})
