"""CTR family data: MovieLens loader and splits, the synthetic log, Criteo/CSV readers' errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from packzoo.zoo.data.clicklog import ClickTable, SyntheticLog, string_ids
from packzoo.zoo.data.images import DatasetError
from packzoo.zoo.data.movielens import TAIL_ROWS, movielens100k, movielens_split, recbole_dir
from packzoo.zoo.data.readers import ColumnSpec, MalformedRowError, read_criteo, read_table, value_ids

needs_movielens = pytest.mark.skipif(recbole_dir() is None, reason="recbole wheel (MovieLens-100k files) not installed")

CRITEO_ROW = ("1\t1\t5\t\t0\t1382\t4\t15\t2\t181\t1\t2\t\t2\t68fd1e64\t80e26c9b\tfb936136\t7b4723c4\t25c83c98\t"
              "7e0ccccf\tde7995b8\t1f89b1b3\ta73ee510\ta8cd5504\tb2cb9c98\t37c9c164\t2824a5f6\t1adce6ef\t8ba8b39a\t"
              "891b62e7\te5ba7672\tf54016b9\t21ddcdc9\tb1252a9d\t07b5194c\t\t3a171ecb\tc5c50484\te8b83407\t9727dd16")


@needs_movielens
def test_movielens_labels_splits_and_tail():
    ml = movielens100k()
    assert len(ml) == 100_000 and ml.user.max() == 943 and ml.item.max() == 1682
    sp = movielens_split("random")
    assert len(sp.train) == 80_000 and len(sp.test) == 20_000
    # labels as documented: click = rating >= 4; conversion = rating 5 on clicked rows, nan elsewhere
    r = sp.test.extra["rating"]
    assert np.array_equal(sp.test.click, (r >= 4).astype(np.float32))
    assert np.isnan(sp.test.conversion[r < 4]).all()
    assert np.array_equal(sp.test.conversion[r >= 4], (r[r >= 4] == 5).astype(np.float32))
    # tail by brute force: count the item's training rows
    i = int(np.flatnonzero(sp.tail)[0])
    assert (sp.train.extra["item"] == sp.test.extra["item"][i]).sum() < TAIL_ROWS
    # same seed, same split; the time split puts every training row before every test row
    assert np.array_equal(movielens_split("random").test.extra["item"], sp.test.extra["item"])
    t = movielens_split("time")
    assert t.train.extra["timestamp"].max() <= t.test.extra["timestamp"].min()
    u = movielens_split("user-time")  # each user's last 20%: every test row after that user's training rows
    last = {}
    for user, ts in zip(u.train.extra["user"].tolist(), u.train.extra["timestamp"].tolist()):
        last[user] = max(last.get(user, ts), ts)
    assert all(ts >= last[user] for user, ts in zip(u.test.extra["user"].tolist(), u.test.extra["timestamp"].tolist()))
    assert len(u.test) == sum(round(c * 0.2) for c in np.unique(ml.user, return_counts=True)[1])


def test_movielens_reads_grouplens_files(tmp_path):
    (tmp_path / "u.data").write_text("1\t10\t5\t881250949\n2\t10\t3\t881250950\n1\t11\t4\t881250951\n")
    (tmp_path / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    flags = ["0"] * 19
    g1, g2 = list(flags), list(flags)
    g1[1] = g1[5] = "1"
    (tmp_path / "u.item").write_text(f"10|A|01-Jan-1995||http://x|{'|'.join(g1)}\n11|B|||http://y|{'|'.join(g2)}\n",
                                     encoding="latin-1")
    ml = movielens100k(tmp_path)
    assert ml.year.tolist() == [1995, 1995, 0]
    assert ml.genres[0, :2].tolist() == [1, 5] and ml.genres[2, 0] == -1
    (tmp_path / "u.data").write_text("1\t10\tfive\t881250949\n")
    with pytest.raises(DatasetError, match="line 1: rating 'five'"):
        movielens100k(tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        movielens100k(tmp_path / "nowhere")


def test_synthetic_log_is_seeded_and_spreads_ids():
    log = SyntheticLog(seed=3, users=1000, items=5000)
    a, b = log.batch(7, 500), log.batch(7, 500)
    assert np.array_equal(a.ids["item_id"], b.ids["item_id"]) and np.array_equal(a.click, b.click)
    assert not np.array_equal(a.click, log.batch(8, 500).click)
    ids = a.ids["user_id"].ravel()
    assert len(np.unique(ids)) <= 1000 and (ids < 0).any() and np.abs(ids).max() > 2**50  # all of int64
    assert np.isnan(a.conversion[a.click == 0]).all() and not np.isnan(a.conversion[a.click == 1]).any()
    with pytest.raises(DatasetError, match="users"):
        SyntheticLog(users=0)


def test_criteo_malformed_rows_name_the_line(tmp_path):
    p = tmp_path / "train.txt"
    bad_label = "2" + CRITEO_ROW[1:]
    bad_int = CRITEO_ROW.replace("\t1382\t", "\tabc\t")
    p.write_text("\n".join([CRITEO_ROW, CRITEO_ROW, "1\t2\t3", bad_label, bad_int, CRITEO_ROW]) + "\n")
    with pytest.raises(MalformedRowError, match=r"line 3: expected 40 tab-separated fields") as e:
        list(read_criteo(p))
    assert e.value.line == 3
    stats: dict[str, int] = {}
    chunks = list(read_criteo(p, skip_bad=True, chunk_rows=2, stats=stats))
    assert stats["skipped"] == 3 and [len(c) for c in chunks] == [2, 1]
    t = chunks[0]
    assert t.weights["I3"][0, 0] == 0 and t.ids["I1"][0, 0] == 1
    assert t.ids["I5"][0, 0] == int(np.floor(np.log(1382) ** 2))  # the winners' bucketing
    assert t.ids["C1"][0, 0] == 0x68FD1E64 and t.weights["C22"][0, 0] == 0
    p.write_text(bad_label + "\n")
    with pytest.raises(MalformedRowError, match="line 1: label must be 0 or 1"):
        list(read_criteo(p))


def test_csv_with_column_spec(tmp_path):
    spec = ColumnSpec.from_dict({"user": ["u", "city"], "item": ["i", "tags"], "click": "y", "conversion": "c",
                                 "multi": {"tags": "|"}})
    p = tmp_path / "log.csv"
    p.write_text("u,city,i,tags,y,c\n5,paris,9,a|b,1,1\n6,rome,9,,0,\n7,paris,10,b,1,0\n8,x,1,a,7,0\n9,y\n")
    with pytest.raises(MalformedRowError, match="line 5: y must be 0 or 1"):
        list(read_table(p, spec))
    stats: dict[str, int] = {}
    (t,) = list(read_table(p, spec, skip_bad=True, stats=stats))
    assert stats["skipped"] == 2 and len(t) == 3
    assert t.ids["u"].ravel().tolist() == [5, 6, 7]  # integers are their own ids
    assert t.ids["city"][0, 0] == t.ids["city"][2, 0] == string_ids(["paris"])[0]
    assert t.weights["tags"].tolist() == [[1, 1], [0, 0], [1, 0]]
    assert t.ids["tags"][0, 1] == t.ids["tags"][2, 0]  # "b" is the same id in every row
    assert np.isnan(t.conversion[1]) and t.conversion[2] == 0
    assert t.groups == {"u": "user", "city": "user", "i": "item", "tags": "item"}
    sp = tmp_path / "spec.json"
    sp.write_text(json.dumps({"user": ["u"], "item": ["nope"], "click": "y"}))
    with pytest.raises(DatasetError, match=r"header lacks columns \['nope'\]"):
        list(read_table(p, ColumnSpec.load(sp)))
    with pytest.raises(DatasetError, match="missing keys"):
        ColumnSpec.from_dict({"user": ["u"]})
    assert value_ids(["12", "012", "-3"]).tolist()[::2] == [12, -3] and value_ids(["012"])[0] != 12


def test_click_table_rejects_mismatched_rows():
    with pytest.raises(DatasetError, match="do not fit"):
        ClickTable({"a": np.zeros((3, 1), np.int64)}, {"a": np.ones((2, 1), np.float32)}, {"a": "user"},
                   np.zeros(3, np.float32), np.zeros(3, np.float32))
