"""The ``packzoo`` command: every subcommand answers --help with its defaults, bad arguments exit 2
with a message, and nothing crashes with a traceback on bad input."""

from __future__ import annotations

import pytest

from packzoo.cli import COMMANDS, main


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_subcommand_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: packzoo ") and command in out.split("\n")[0]


def test_help_shows_defaults(capsys):
    assert main(["gap", "--help"]) == 0
    assert "(default: 60.0)" in capsys.readouterr().out  # 60 s per solve: worth knowing before a long run


def test_top_level_help_and_version(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in COMMANDS) and "exit codes" in out
    assert main(["--version"]) == 0
    import packzoo

    assert capsys.readouterr().out.strip() == f"packzoo {packzoo.__version__}"


@pytest.mark.parametrize("argv, message", [
    (["nosuchcommand"], "unknown command"),
    (["leaderboard", "--instances", "x"], "invalid int value"),
    (["leaderboard", "--set", "uniform-n8", "--solvers", "lsa-lwz", "--instances", "1", "--out", "{tmp}"], "did you mean lsa-lws"),
    (["leaderboard", "--set", "nosuchset", "--instances", "1", "--solvers", "random", "--out", "{tmp}"], "nosuchset"),
    (["solvers", "--kind", "magic"], "invalid choice"),
    (["models", "--family", "nope"], "unknown family"),
    (["models", "--card", "ptrnet-binpack-n99"], "did you mean"),
    (["models", "--limit", "instances=3"], "--limit needs --evaluate"),
    (["train"], "usage: packzoo train"),
    (["train", "nofamily"], "unknown family"),
    (["train", "ptrnet", "--steps", "0", "--out", "{tmp}"], "expected a positive integer"),
    (["train", "ptrnet", "--lr", "-1", "--out", "{tmp}"], "expected a number > 0"),
    (["train", "sb3", "--steps", "-5", "--out", "{tmp}"], "expected a positive integer"),
    (["report", "--results", "{tmp}/missing"], "no leaderboard file"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys, tmp_path):
    argv = [a.replace("{tmp}", str(tmp_path / "out")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_train_refuses_a_file_as_out_before_any_work(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["train", "ptrnet", "--steps", "1", "--out", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_models_lists_by_family_and_shows_a_card(capsys):
    import json

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "[ptrnet]" in out and "[sb3]" in out and "ptrnet-binpack-n8" in out
    assert main(["models", "--card", "ptrnet-binpack-n8"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["family"] == "ptrnet" and card["weights"]["recipe"].startswith("packzoo train ptrnet")
    assert main(["models", "--evaluate", "ptrnet-binpack-n8", "--limit", "instances=2", "--limit", "samples=0",
                 "--limit", "beam=[]"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["uniform-n8"]["instances"] == 2


def test_solvers_lists_with_kind(capsys):
    assert main(["solvers", "sort-*"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["sort-longest", "sort-surface", "sort-volume"]
    assert all(line.split()[1] == "heuristic" for line in lines)
