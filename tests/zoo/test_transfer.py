"""The transfer family: the talk's loss by hand, which triplets the miners return, the trainer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pytorch_metric_learning")

from pytorch_metric_learning.miners import TripletMarginMiner  # noqa: E402

from packzoo.zoo.transfer.data import labelled_subset  # noqa: E402
from packzoo.zoo.transfer.head import TransformConfig, TransformHead  # noqa: E402
from packzoo.zoo.transfer.loss import hand_loss, squared_l2, talk_loss  # noqa: E402
from packzoo.zoo.transfer.metrics import knn_accuracy, retrieval_metrics  # noqa: E402
from packzoo.zoo.transfer.mining import KNNTripletMiner, RandomTripletMiner, batch_miner, knn_lists  # noqa: E402

# 2-D points whose squared distances are exact in binary: a=(0,0), p=(1,0), n1=(1,1.5), n2=(0,.5), n3=(2,0).
POINTS = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.5], [0.0, 0.5], [2.0, 0.0]])
LABELS = torch.tensor([0, 0, 1, 1, 1])
# (a, p, n) -> the talk's loss [d(a,p) + 1 - d(a,n)]_+ worked out by hand:
#   (0,1,2): 1 + 1 - 3.25 -> 0      (0,1,3): 1 + 1 - 0.25 = 1.75
#   (0,1,4): 1 + 1 - 4    -> 0      (1,0,3): 1 + 1 - 1.25 = 0.75
# (no term sits exactly at 0: pml takes a square root and squares it again, so a hinge exactly at
# its kink could come out as +1e-7 and count as "non-zero").
HAND = {(0, 1, 2): 0.0, (0, 1, 3): 1.75, (0, 1, 4): 0.0, (1, 0, 3): 0.75}


def _triplets(keys):
    return tuple(torch.tensor(c) for c in zip(*keys))


def test_pml_triplet_margin_loss_equals_the_talks_loss_by_hand():
    tri = _triplets(list(HAND))
    per = hand_loss(POINTS[tri[0]], POINTS[tri[1]], POINTS[tri[2]])
    assert per.tolist() == list(HAND.values())
    assert talk_loss()(POINTS, LABELS, tri).item() == pytest.approx(2.5 / 4, abs=1e-6)
    assert talk_loss(reducer="sum")(POINTS, LABELS, tri).item() == pytest.approx(2.5, abs=1e-6)
    # pml's default reducer averages over the positive terms only: (1.75 + 0.75) / 2.
    assert talk_loss(reducer="nonzero")(POINTS, LABELS, tri).item() == pytest.approx(1.25, abs=1e-6)
    with pytest.raises(ValueError, match="reducer"):
        talk_loss(reducer="max")


def test_loss_gradient_matches_the_hand_formula():
    x = torch.randn(12, 4, generator=torch.Generator().manual_seed(1), requires_grad=True)
    tri = (torch.tensor([0, 1, 2, 3]), torch.tensor([4, 5, 6, 7]), torch.tensor([8, 9, 10, 11]))
    g1 = torch.autograd.grad(talk_loss(reducer="sum")(x, torch.arange(12), tri), x)[0]
    g2 = torch.autograd.grad(hand_loss(x[tri[0]], x[tri[1]], x[tri[2]]).sum(), x)[0]
    assert torch.allclose(g1, g2, atol=1e-5)


def test_knn_lists_equal_brute_force():
    x = torch.randn(300, 6, generator=torch.Generator().manual_seed(0))
    idx, dist = knn_lists(x, 7, batch_size=64)
    brute = torch.cdist(x.double(), x.double()) ** 2
    brute.fill_diagonal_(float("inf"))
    want = torch.argsort(brute, dim=1)[:, :7]
    assert torch.equal(idx, want)
    assert torch.allclose(dist.double(), brute.gather(1, want), atol=1e-4)
    assert knn_lists(x[:5], 200)[0].shape == (5, 4)  # capped at N - 1
    with pytest.raises(ValueError, match="at least 2"):
        knn_lists(x[:1], 3)


# On a line (squared distances 0.25, 1, 1.44, 4 from the anchor at 0), for anchor 0 with positive 1:
# negative 3 (x=0.5) is hard (closer than the positive), negative 2 (x=1.2) is semi-hard (farther,
# but inside the margin: 1 <= 1.44 < 2), negative 4 (x=2) is easy (4 >= 2).
LINE = torch.tensor([[0.0], [1.0], [1.2], [0.5], [2.0]])


def _anchor0(triplets):
    a, p, n = (t.tolist() for t in triplets)
    return {(x, y, z) for x, y, z in zip(a, p, n) if x == 0}


def test_which_triplets_are_hard_and_which_semi_hard():
    mine = lambda kind: _anchor0(KNNTripletMiner(k=200, triplets_per_anchor=50, kind=kind)(LINE, LABELS))  # noqa: E731
    assert mine("hard") == {(0, 1, 3)}
    assert mine("semihard") == {(0, 1, 2)}
    assert mine("violating") == {(0, 1, 3), (0, 1, 2)}
    # pytorch-metric-learning's in-batch miner uses the same words the same way (its issue #751
    # says they are swapped; with a distance, not a similarity, they are not).
    pml = lambda kind: _anchor0(TripletMarginMiner(margin=1.0, type_of_triplets=kind, distance=squared_l2())(LINE, LABELS))  # noqa: E731
    assert pml("hard") == {(0, 1, 3)}
    assert pml("semihard") == {(0, 1, 2)}
    assert _anchor0(batch_miner("hard")(LINE, LABELS)) == {(0, 1, 3)}
    assert _anchor0(batch_miner("semihard")(LINE, LABELS)) == {(0, 1, 2)}


def _brute_force(x, labels, k, kind, margin=1.0):
    """Every qualifying triplet with positive and negative in the anchor's k-NN list, by loops."""
    d = torch.cdist(x.double(), x.double()) ** 2
    out = set()
    for a in range(len(x)):
        others = sorted((i for i in range(len(x)) if i != a), key=lambda i: (float(d[a, i]), i))[:k]
        for p, n in itertools.product(others, others):
            if labels[p] != labels[a] or labels[n] == labels[a]:
                continue
            dp, dn = float(d[a, p]), float(d[a, n])
            ok = {"hard": dn < dp, "semihard": dp <= dn < dp + margin, "violating": dn < dp + margin}[kind]
            if ok:
                out.add((a, p, n))
    return out


@pytest.mark.parametrize("kind", ["hard", "semihard", "violating"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_miner_returns_exactly_the_qualifying_triplets_of_the_knn_lists(kind, seed):
    g = torch.Generator().manual_seed(seed)
    # Continuous points: no two distances tie (with ties, which of equals makes the list is arbitrary).
    x = torch.randn(40, 2, generator=g) * 1.5
    labels = torch.randint(0, 3, (40,), generator=g)
    got = KNNTripletMiner(k=9, triplets_per_anchor=10_000, kind=kind, seed=seed)(x, labels)
    got = set(zip(*(t.tolist() for t in got)))
    assert got == _brute_force(x, labels, 9, kind)


def test_miner_draws_at_most_t_per_anchor_from_the_lists_with_closer_negatives():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(500, 8, generator=g)
    labels = torch.randint(0, 5, (500,), generator=g)
    for positives in ("knn", "pool"):
        miner = KNNTripletMiner(k=20, triplets_per_anchor=3, positives=positives, seed=0)
        a, p, n = miner(x, labels)
        idx, _ = miner.last_knn
        assert len(a) > 0 and torch.bincount(a).max() <= 3
        d = torch.cdist(x, x) ** 2
        assert bool((d[a, n] < d[a, p]).all())
        assert bool((labels[a] == labels[p]).all()) and bool((labels[a] != labels[n]).all())
        assert bool((a != p).all())
        assert bool((idx[a] == n[:, None]).any(1).all())  # negatives from the anchor's list
        if positives == "knn":
            assert bool((idx[a] == p[:, None]).any(1).all())
    # hardest: the largest violations first, so their mean gap is at least that of random draws
    hardest = KNNTripletMiner(k=20, triplets_per_anchor=1, choice="hardest")(x, labels)
    rand = KNNTripletMiner(k=20, triplets_per_anchor=1, choice="random")(x, labels)
    gap = lambda t: float((d[t[0], t[1]] - d[t[0], t[2]]).mean())  # noqa: E731
    assert gap(hardest) >= gap(rand)


def test_miners_are_seeded_and_check_their_settings():
    x = torch.randn(100, 4, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(100) % 4
    for make in (lambda s: KNNTripletMiner(k=10, seed=s), lambda s: RandomTripletMiner(seed=s)):
        a = make(5)(x, labels)
        b = make(5)(x, labels)
        c = make(6)(x, labels)
        assert all(torch.equal(u, v) for u, v in zip(a, b))
        assert not all(torch.equal(u, v) for u, v in zip(a, c))
    with pytest.raises(ValueError, match="kind"):
        KNNTripletMiner(kind="easy")
    with pytest.raises(ValueError, match="k must"):
        KNNTripletMiner(k=0)
    with pytest.raises(ValueError, match="triplets_per_anchor"):
        RandomTripletMiner(triplets_per_anchor=0)


def test_random_miner_draws_valid_triplets_uniformly():
    labels = torch.tensor([0] * 3 + [1] * 5 + [2] * 2)
    a, p, n = RandomTripletMiner(triplets_per_anchor=2000, seed=0)(torch.zeros(10, 2), labels)
    assert bool((labels[a] == labels[p]).all()) and bool((a != p).all()) and bool((labels[a] != labels[n]).all())
    # anchor 0 (tag 0): positives 1 and 2 equally often; negatives the 7 other-tag items equally often
    pa, na = p[a == 0], n[a == 0]
    assert set(pa.tolist()) == {1, 2} and abs(float((pa == 1).float().mean()) - 0.5) < 0.05
    counts = torch.bincount(na, minlength=10)[3:]
    assert counts.min() > 2000 / 7 * 0.7


def test_head_starts_as_standardised_identity():
    x = torch.randn(50, 6) * 3 + 2
    head = TransformHead(TransformConfig(in_dim=6, out_dim=6)).fit_standardisation(x)
    z = head(x)
    assert torch.allclose(z, head.standardise(x)) and torch.allclose(z.mean(0), torch.zeros(6), atol=1e-5)
    small = TransformHead(TransformConfig(in_dim=6, out_dim=3)).fit_standardisation(x)
    assert torch.allclose(small(x), z[:, :3])
    assert torch.allclose(TransformHead(TransformConfig(6, 6, normalize=True)).fit_standardisation(x)(x).norm(dim=1),
                          torch.ones(50))
    with pytest.raises(ValueError, match="features must be"):
        head(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="unknown transform settings"):
        TransformConfig.from_dict({"in_dim": 3, "bias": True})


def test_metrics_by_hand():
    # Leave-one-out on a line: 0 and 0.1 (tag 0), 5 and 5.2 (tag 1), 0.2 (tag 1):
    # P@1: 0 -> 0.1 ok, 0.1 -> 0 or 0.2 (0.2: d 0.01 vs 0.01 tie) ...; keep it exact with distinct gaps.
    x = torch.tensor([[0.0], [0.1], [5.0], [5.3], [0.25]])
    y = torch.tensor([0, 0, 1, 1, 1])
    m = retrieval_metrics(x, y)
    # nearest others: 0->0.1 (ok), 0.1->0 (ok), 5->5.3 (ok), 5.3->5 (ok), 0.25->0.1 (wrong): 4/5
    assert m["p_at_1"] == pytest.approx(0.8)
    # MAP@R: R = 1 for tags 0 and 1 except 0.25 and 5/5.3 have R = 2 (tag 1 has 3 items).
    # 0: 1; 0.1: 1; 5: [5.3 ok, 0.25 ok] -> 1; 5.3: [5 ok, 0.25 ok] -> 1; 0.25: [0.1 x, 0 x] -> 0.
    assert m["map_at_r"] == pytest.approx(0.8)
    ref, ref_y = torch.tensor([[0.0], [1.0], [1.1], [9.0]]), torch.tensor([0, 1, 1, 0])
    assert knn_accuracy(torch.tensor([[0.2], [1.05]]), torch.tensor([0, 1]), ref, ref_y, k=3) == 0.5
    assert knn_accuracy(torch.tensor([[0.2], [1.05]]), torch.tensor([0, 1]), ref, ref_y, k=1) == 1.0


def test_labelled_subset_is_seeded_nested_and_balanced():
    labels = np.repeat(np.arange(4), 30)
    s10 = labelled_subset(labels, 10, seed=3)
    assert np.bincount(labels[s10]).tolist() == [10] * 4
    assert np.array_equal(s10, labelled_subset(labels, 10, seed=3))
    assert set(s10) <= set(labelled_subset(labels, 20, seed=3))
    assert len(labelled_subset(labels, None, 0)) == 120 and len(labelled_subset(labels, 99, 0)) == 120
    with pytest.raises(ValueError, match="per_class"):
        labelled_subset(labels, 0, 0)


def _shipped(name):
    from packzoo.zoo import model_card

    return model_card(name).weights is not None


def test_a_short_run_beats_the_identity_on_a_slice():
    from packzoo.zoo import create_model
    from packzoo.zoo.transfer.cnn import extract_features
    from packzoo.zoo.transfer.data import target_domain
    from packzoo.zoo.transfer.fit import FitConfig, TransformTrainer

    if not _shipped("transfer-cnn-fashion04"):
        pytest.skip("the source CNN is not shipped")
    torch.set_num_threads(1)
    cnn = create_model("transfer-cnn-fashion04", pretrained=True)
    dom = target_domain("fashion59")
    sub = labelled_subset(dom.pool_labels[:3000], 60, seed=0)
    x, y = extract_features(cnn, dom.pool_images[sub]), torch.from_numpy(dom.pool_labels[sub])
    tx, ty = extract_features(cnn, dom.test_images[:600]), torch.from_numpy(dom.test_labels[:600])
    trainer = TransformTrainer(x, y, FitConfig(method="knn", lr=1e-2, anchors_per_step=32), seed=0)
    before = retrieval_metrics(trainer.embed(tx), ty)["p_at_1"]
    for _ in range(8):
        trainer.epoch()
    after = retrieval_metrics(trainer.embed(tx), ty)["p_at_1"]
    assert after > before + 0.01, (before, after)


@pytest.mark.parametrize("name", ["transfer-cnn-fashion04", "transfer-w-fashion59-hard", "transfer-w-digits-hard"])
def test_shipped_models_pass_check_model(name):
    from packzoo.zoo import check_model

    if not _shipped(name):
        pytest.skip(f"{name} is not shipped")
    check_model(name)


def test_the_trainers_step_minimises_the_talks_loss_on_its_triplets():
    """The step's pml call (anchors as embeddings, the others as ref_emb) gives the hand loss's mean."""
    from packzoo.zoo.transfer.fit import FitConfig, TransformTrainer

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 16, generator=g), torch.randint(0, 4, (200,), generator=g)
    tr = TransformTrainer(x, y, FitConfig(method="random"), seed=0)
    with torch.no_grad():
        tr.head.weight.mul_(0.3)
    a, p, n = tr.miner(tr.embed(x), y)
    want = hand_loss(tr.embed(x[a]), tr.embed(x[p]), tr.embed(x[n])).mean().item()
    assert tr._triplet_step(a, p, n) == pytest.approx(want, rel=1e-5)
