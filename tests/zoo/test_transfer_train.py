"""``packzoo train transfer``: both stages resume bit-identically; a short run beats the identity."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from safetensors.torch import load_file  # noqa: E402

from packzoo.train.transfer import cli  # noqa: E402

SOURCE = ["--stage", "source", "--train-limit", "192", "--batch-size", "32", "--steps", "6", "--ckpt-every", "2",
          "--eval-limit", "60", "--no-progress"]


def _tensors(folder):
    return load_file(str(folder / "checkpoint.safetensors"))


def _same(a, b):
    return list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("transfer") / "src"
    assert cli([*SOURCE, "--out", str(d)]) == 0
    return d


def test_source_stage_resumes_bit_identical(source_run, tmp_path):
    part = tmp_path / "part"
    assert cli([*SOURCE, "--out", str(part), "--stop-at", "3"]) == 0
    assert cli([*SOURCE, "--out", str(part), "--resume"]) == 0
    assert _same(_tensors(source_run), _tensors(part))
    with pytest.raises(ValueError, match="already holds a run"):
        cli([*SOURCE, "--out", str(part)])


@pytest.mark.parametrize("method", ["knn", "batch-semihard"])
def test_transform_stage_resumes_bit_identical(source_run, tmp_path, method):
    args = ["--stage", "transform", "--target", "digits", "--backbone", str(source_run), "--method", method,
            "--per-class", "20", "--eval-limit", "100", "--steps", "4", "--lr", "0.01", "--no-progress"]
    assert cli([*args, "--out", str(tmp_path / "full")]) == 0
    assert cli([*args, "--out", str(tmp_path / "part"), "--stop-at", "2"]) == 0
    assert cli([*args, "--out", str(tmp_path / "part"), "--resume"]) == 0
    full, part = _tensors(tmp_path / "full"), _tensors(tmp_path / "part")
    assert _same(full, part)
    assert not torch.equal(full["head/weight"], torch.eye(128))  # it did learn something


def test_bad_backbone_is_refused(tmp_path):
    from packzoo.train.run import RunError

    with pytest.raises(RunError, match="no checkpoint"):
        cli(["--stage", "transform", "--backbone", str(tmp_path), "--out", str(tmp_path / "o"), "--no-progress"])
    with pytest.raises(SystemExit):
        cli(["--stage", "transform", "--per-class", "0", "--out", str(tmp_path / "o")])
