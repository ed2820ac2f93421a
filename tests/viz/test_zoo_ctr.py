"""The CTR family's report figures build from the shipped weights and have their traces."""

from __future__ import annotations

import pytest

from packzoo.zoo.data.movielens import recbole_dir


@pytest.mark.skipif(recbole_dir() is None, reason="recbole wheel (MovieLens-100k files) not installed")
def test_ctr_figures_build_from_the_shipped_weights():
    from packzoo.viz.zoo_ctr import BUCKETS, zoo_figures

    figs = dict(zoo_figures())
    assert set(figs) == {"CTR: ROC curves on MovieLens-100k", "CTR: AUC by item popularity"}
    roc = figs["CTR: ROC curves on MovieLens-100k"]
    names = [t.name for t in roc.data]
    assert any(n.startswith("ctr-lr (AUC") for n in names) and any(n.startswith("ctr-rc-mlp (AUC") for n in names)
    for t in roc.data[:-1]:
        assert t.x[0] == 0 and t.y[-1] == 1 and (t.x[1:] >= t.x[:-1]).all()  # a ROC curve from (0,0) to (1,1)
    bars = figs["CTR: AUC by item popularity"]
    assert len(bars.data) == len(roc.data) - 1 and all(len(t.x) == len(BUCKETS) for t in bars.data)
