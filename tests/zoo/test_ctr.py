"""CTR family: random coding (seeded, distance-preserving), models, trainer (resume, DDP, beats LR)."""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from packzoo.zoo.ctr import RandomCoding, ctr_metrics, default_config, jl_dim
from packzoo.zoo.ctr.coding import CodingError
from packzoo.zoo.ctr.models import ModelConfigError, build_model, predict
from packzoo.zoo.data.clicklog import SyntheticLog

INT64 = st.integers(-(2**63), 2**63 - 1)


def test_coding_is_seeded_and_needs_no_table():
    ids = np.array([[0, 1, -1, 2**63 - 1, -(2**63)]], dtype=np.int64)
    a = RandomCoding(dim=64, nnz=4, seed=1)
    assert np.array_equal(a.encode(ids), RandomCoding(dim=64, nnz=4, seed=1).encode(ids))
    assert not np.array_equal(a.encode(ids), RandomCoding(dim=64, nnz=4, seed=2).encode(ids))
    assert not np.array_equal(a.encode(ids, field=0), a.encode(ids, field=1))
    # a bag's code is the sum of its ids' codes; each id's column has unit norm; padding counts 0
    single = np.stack([a.encode(ids[:, [j]])[0] for j in range(5)])
    assert np.allclose(a.encode(ids)[0], single.sum(0), atol=1e-6)
    # a column has unit norm unless two of its hashes land on one row; on average exactly 1
    norms = (a.encode(np.arange(4000, dtype=np.int64)) ** 2).sum(1)
    assert abs(norms.mean() - 1) < 0.03 and np.median(norms) == pytest.approx(1.0)
    w = np.array([[1, 1, 0, 0, 0]], np.float32)
    assert np.allclose(a.encode(ids, w)[0], single[:2].sum(0), atol=1e-6)
    rows, signs = a.columns(ids)
    assert rows.shape == (1, 5, 4) and rows.min() >= 0 and rows.max() < 64
    assert set(np.unique(np.abs(signs))) == {np.float32(0.5)}
    for bad in (dict(dim=0), dict(dim=4, nnz=5), dict(dim=8, seed=1.5)):
        with pytest.raises(CodingError):
            RandomCoding(**bad)
    with pytest.raises(CodingError, match="integer array"):
        a.encode(np.array([[0.5]]))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.tuples(INT64, st.floats(-10, 10).filter(lambda v: abs(v) > 1e-3)), min_size=1, max_size=12),
                min_size=10, max_size=10))
def test_coding_preserves_distances_within_the_jl_bound(vectors):
    """n sparse vectors; d = jl_dim(n, eps) (Dasgupta-Gupta). Each pair's squared distance must keep
    within 1 +- eps with probability >= 1 - 2/n^2 over the coding's seed: over 40 seeds, the rate of
    distorted pairs stays under that bound (plus a binomial margin), and the mean ratio is ~1."""
    n, eps, seeds = len(vectors), 0.5, 40
    d = jl_dim(n, eps)
    vecs = [dict(v) for v in vectors]  # repeated ids: the last value wins
    ids = sorted({i for v in vecs for i in v})
    dense = np.array([[v.get(i, 0.0) for i in ids] for v in vecs])
    pairs = [(i, j) for i, j in itertools.combinations(range(n), 2) if np.linalg.norm(dense[i] - dense[j]) > 1e-6]
    if not pairs:
        return
    bad, ratios = 0, []
    for seed in range(seeds):
        code = RandomCoding(dim=d, nnz=8, seed=seed).encode_sparse_vectors(
            [np.array(list(v), np.int64) for v in vecs], [np.array(list(v.values())) for v in vecs])
        for i, j in pairs:
            r = np.sum((code[i] - code[j]) ** 2) / np.sum((dense[i] - dense[j]) ** 2)
            ratios.append(r)
            bad += not (1 - eps <= r <= 1 + eps)
    trials = seeds * len(pairs)
    p = 2 / n**2
    assert bad <= trials * p + 3 * math.sqrt(trials * p * (1 - p)) + 1, (bad, trials)
    assert abs(np.mean(ratios) - 1) < 0.15


def test_distinct_ids_stay_distinguishable():
    rc = RandomCoding(dim=256, nnz=4, seed=0)
    ids = np.arange(5000, dtype=np.int64) * 7919 - 10**17
    codes = rc.encode(ids)
    assert len(np.unique(codes, axis=0)) == 5000  # no two ids share all their non-zeros


def _tiny_log_model(name: str, steps: int, seed: int = 0):
    import torch.nn.functional as F

    log = SyntheticLog(seed=1, users=2000, items=500)
    torch.manual_seed(seed)
    cfg = default_config(name, list(log.groups.items()), data="synthetic", default_dim=128 if name != "ctr-lr" else 1 << 16,
                         lr_buckets=1 << 14)
    m = build_model(cfg)
    opt = torch.optim.AdamW(m.parameters(), lr=0.01 if name == "ctr-lr" else 0.005)
    for s in range(steps):
        b = log.batch(s, 512)
        a, _ = m(b)
        loss = F.binary_cross_entropy_with_logits(a, torch.from_numpy(b.click))
        opt.zero_grad()
        loss.backward()
        opt.step()
    test = log.batch(10**6, 5000)
    p, _ = predict(m, test)
    return ctr_metrics(test.click, test.conversion, p, p)["ctr_auc"]


def test_a_short_run_of_rc_mlp_beats_lr_on_the_synthetic_log():
    torch.set_num_threads(1)
    lr, rc = _tiny_log_model("ctr-lr", 150), _tiny_log_model("ctr-rc-mlp", 150)
    assert rc > lr + 0.01, (rc, lr)


def test_config_errors_name_the_problem():
    with pytest.raises(ModelConfigError, match="kind"):
        default_config("ctr-lr", kind="tree")
    with pytest.raises(ModelConfigError, match="item field"):
        default_config("ctr-rc-mlp", [("u", "user")], data="x")
    with pytest.raises(ModelConfigError, match="unknown field"):
        default_config("ctr-rc-mlp", [("u", "user"), ("i", "item")], data="x", code_dim={"z": 3})
    with pytest.raises(ValueError, match="unknown model"):
        default_config("ctr-tree")


def test_metrics_match_a_hand_computation():
    click = np.array([1, 0, 1, 0], float)
    conv = np.array([1, np.nan, 0, np.nan])
    p = np.array([0.9, 0.8, 0.7, 0.1])
    m = ctr_metrics(click, conv, p, np.array([0.6, 0.5, 0.4, 0.5]), tail=np.array([1, 1, 0, 0], bool))
    assert m["ctr_auc"] == 0.75  # pairs (pos, neg): (.9,.8) (.9,.1) (.7,.1) right, (.7,.8) wrong
    assert math.isclose(m["ctr_logloss"], -np.mean(np.log([0.9, 0.2, 0.7, 0.9])), rel_tol=1e-6)
    assert m["cvr_auc"] == 1.0 and m["clicked"] == 2 and m["tail_rows"] == 2 and m["tail_ctr_auc"] == 1.0


def _train(args: list[str], env: dict | None = None, nproc: int = 1) -> subprocess.CompletedProcess:
    e = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    if nproc == 1:
        cmd = [sys.executable, "-m", "packzoo.train.ctr", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}", "--standalone",
               "-m", "packzoo.train.ctr", *args]
    # own process group: a hung rendezvous is killed whole, never left behind
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"training timed out: {err[-2000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


SYN = ["--model", "ctr-rc-mlp", "--data", "synthetic", "--users", "3000", "--items", "800", "--test-rows", "3000",
       "--batch-size", "256", "--steps", "60", "--eval-every", "60", "--no-progress", "--lr", "0.005"]


def test_two_process_data_parallel_training_is_as_good_as_one(tmp_path):
    one = _train([*SYN, "--out", str(tmp_path / "one")])
    two = _train([*SYN, "--out", str(tmp_path / "two")], nproc=2)
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    a = json.loads(one.stdout.strip().splitlines()[-1])
    b = json.loads(two.stdout.strip().splitlines()[-1])
    assert b["world_size"] == 2 and a["world_size"] == 1
    # the same global batches and averaged gradients: the same model up to float rounding
    assert abs(a["test"]["ctr_auc"] - b["test"]["ctr_auc"]) < 0.01, (a["test"], b["test"])
    assert b["test"]["ctr_auc"] > 0.6


def test_resume_is_bit_identical(tmp_path):
    from packzoo.train.ctr import cli
    from safetensors.torch import load_file

    base = ["--model", "ctr-rc-mlp", "--data", "synthetic", "--users", "500", "--items", "300", "--test-rows", "500",
            "--batch-size", "128", "--eval-every", "3", "--no-progress", "--arch", '{"dropout": 0.1}']
    assert cli([*base, "--steps", "6", "--out", str(tmp_path / "a")]) == 0
    assert cli([*base, "--steps", "3", "--out", str(tmp_path / "b")]) == 0
    assert cli([*base, "--steps", "6", "--out", str(tmp_path / "b"), "--resume"]) == 0
    ta = load_file(tmp_path / "a" / "checkpoint.safetensors")
    tb = load_file(tmp_path / "b" / "checkpoint.safetensors")
    assert set(ta) == set(tb) and all(torch.equal(ta[k], tb[k]) for k in ta)
    assert (tmp_path / "a" / "metrics.csv").read_text().splitlines()[1:] != []


def test_trainer_reads_a_csv_log_with_a_spec(tmp_path):
    from packzoo.train.ctr import cli
    from packzoo.zoo.data.readers import MalformedRowError

    rng = np.random.default_rng(0)
    lines = ["user,age,item,cat,hour,click,buy"]
    for _ in range(600):
        u, i = rng.integers(0, 50), rng.integers(0, 40)
        c = int(rng.random() < (0.7 if (u + i) % 2 else 0.2))
        lines.append(f"{u},{u % 7},{i},c{i % 5},{rng.integers(0, 24)},{c},{int(c and rng.random() < 0.5) if c else ''}")
    data = tmp_path / "log.csv"
    data.write_text("\n".join(lines) + "\n")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"user": ["user", "age"], "item": ["item", "cat"], "context": ["hour"],
                                "click": "click", "conversion": "buy"}))
    args = ["--model", "ctr-rc-mlp", "--data", f"csv:{data}", "--spec", str(spec), "--test-rows", "100",
            "--batch-size", "64", "--steps", "12", "--eval-every", "6", "--no-progress", "--arch", '{"default_dim": 32}']
    assert cli([*args, "--out", str(tmp_path / "run")]) == 0  # 500 training rows: the stream wraps around
    data.write_text("\n".join(lines[:300] + ["1,2,3"] + lines[300:]) + "\n")
    with pytest.raises(MalformedRowError, match="line 301"):
        cli([*args, "--out", str(tmp_path / "run2")])
    assert cli([*args, "--out", str(tmp_path / "run3"), "--skip-bad"]) == 0


def test_parquet_needs_pyarrow_or_reads(tmp_path):
    from packzoo.zoo.data.images import DatasetError
    from packzoo.zoo.data.readers import ColumnSpec, read_table

    spec = ColumnSpec.from_dict({"user": ["u"], "item": ["i"], "click": "y"})
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        (tmp_path / "x.parquet").write_bytes(b"PAR1")
        with pytest.raises(DatasetError, match="needs pyarrow"):
            list(read_table(tmp_path / "x.parquet", spec, fmt="parquet"))
        return
    pq.write_table(pa.table({"u": [1, 2, 3], "i": ["a", "b", "a"], "y": [1, 0, 1]}), tmp_path / "x.parquet")
    (t,) = list(read_table(tmp_path / "x.parquet", spec, fmt="parquet"))
    assert t.ids["u"].ravel().tolist() == [1, 2, 3] and t.click.tolist() == [1, 0, 1]


def test_gate_drops_ids_never_seen_in_training():
    from packzoo.zoo.data.clicklog import ClickTable, single

    cfg = default_config("ctr-rc-mlp", [("u", "user"), ("age", "user"), ("i", "item")], data="x",
                         gate_fields=["u"], id_dropout=0.0, default_dim=16)
    m = build_model(cfg)

    def table(users):
        ids = {"u": single(users)[0], "age": single([3] * len(users))[0], "i": single([7] * len(users))[0]}
        w = {f: np.ones((len(users), 1), np.float32) for f in ids}
        n = len(users)
        return ClickTable(ids, w, {"u": "user", "age": "user", "i": "item"}, np.zeros(n, np.float32),
                          np.full(n, np.nan, np.float32))

    m.train()
    m(table([5, 6, 2**62]))
    m.eval()
    g = m.gate(table([5, 2**62, 123456789, -1]))
    assert g.weights["u"].ravel().tolist() == [1, 1, 0, 0] and g.weights["age"].ravel().tolist() == [1] * 4
    assert int(m.sketch.sum()) == 6  # 3 ids x 2 rows of the sketch
    with pytest.raises(ModelConfigError, match="gate_fields"):
        default_config("ctr-rc-mlp", [("u", "user"), ("i", "item")], data="x", gate_fields=["zz"])
