"""Transfer across a large domain gap with a learned linear transform (the talk's section 3).

A CNN trained on a source domain (Fashion-MNIST classes 0-4) gives frozen features x; a linear
transform f(x) = W z(x) (z: per-dimension standardisation with the target pool's statistics),
learned from a few labelled target images with the talk's triplet loss
[||f(a) - f(p)||^2 + 1 - ||f(a) - f(n)||^2]_+ and its hard-triplet miner (per-query K = 200
nearest-neighbour lists refreshed every epoch; negatives with another tag closer than the
positives), maps them into the target domain. Targets: Fashion-MNIST classes 5-9 (tags the CNN never
saw) and scikit-learn's digits resized to 28x28.

Zoo models: ``transfer-cnn-fashion04`` (the source CNN, :class:`~packzoo.zoo.transfer.cnn.SourceCNN`)
and ``transfer-w-<target>-<mining>`` (a :class:`~packzoo.zoo.transfer.head.TransformHead`, applied to
the source CNN's features) for targets ``fashion59``/``digits`` and mining ``hard``/``random``.
``evaluate_model(name, images=500)`` measures on the first ``images`` held-out images.
Training: ``packzoo train transfer`` (:mod:`packzoo.train.transfer`).
"""

from __future__ import annotations

import os
from typing import Any

from packzoo.zoo import register_model
from packzoo.zoo.weights import fit_weights, has_weights, load_card, load_weights, pretrained_arguments

FAMILY = "transfer"
CNN_NAME = "transfer-cnn-fashion04"
MININGS = ("hard", "random")
CHECK_LIMITS: dict[str, Any] = {"images": 500}
SOURCE = ("the talk's section 3 (learned transform, triplet loss, K-NN hard-triplet mining); Schroff et al. 2015 "
          "(FaceNet: triplet loss, semi-hard negatives); Musgrave et al. 2020 (pytorch-metric-learning, MAP@R); "
          "He et al. 2016 (ResNet)")
CNN_DATASET = ("Fashion-MNIST (Xiao et al. 2017, MIT licence) from Debian's dataset-fashion-mnist: classes 0-4 "
               "(T-shirt/top, Trouser, Pullover, Dress, Coat), 30,000 training images, accuracy on their 5,000 test images")
TARGET_DATASETS = {
    "fashion59": ("Fashion-MNIST classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot; MIT licence, Debian's "
                  "dataset-fashion-mnist): labelled pool = their 30,000 training images, metrics on their 5,000 test images"),
    "digits": ("scikit-learn's digits (UCI optical digits, CC BY 4.0; bundled with scikit-learn) resized to 28x28: "
               "labelled pool = 898 images, metrics on a fixed stratified held-out half of 899 images"),
}


def transform_name(target: str, mining: str) -> str:
    """Zoo name of the transform learned on ``target`` with ``mining`` (``hard``/``random``)."""
    return f"transfer-w-{target}-{mining}"


def build_cnn(name: str | None = CNN_NAME, pretrained: bool = False, directory: str | os.PathLike | None = None,
              **overrides: Any):
    """A :class:`SourceCNN` in eval mode; ``pretrained`` loads the shipped weights ``name``.
    ``overrides`` replace :class:`CNNConfig` fields (fresh models only)."""
    from packzoo.zoo.transfer.cnn import CNNConfig, SourceCNN

    if pretrained:
        name = pretrained_arguments(name, overrides)
        tensors = load_weights(name, directory)
        return fit_weights(SourceCNN(CNNConfig.from_dict(dict(load_card(name, directory).config))), tensors, name)
    model = SourceCNN(CNNConfig.from_dict(dict(overrides)))
    model.eval()
    return model


def build_transform(name: str | None = None, pretrained: bool = False, directory: str | os.PathLike | None = None,
                    **overrides: Any):
    """A :class:`TransformHead` in eval mode (fresh: W = I, shaped like the shipped ``name``);
    ``pretrained`` loads ``name``.

    The head maps the source CNN's features (its card's ``config["backbone"]`` names the CNN and
    ``config["layer"]`` which of its features, see :meth:`SourceCNN.features`).
    """
    from packzoo.zoo.transfer.head import TransformConfig, TransformHead

    if pretrained:
        name = pretrained_arguments(name, overrides)
        tensors = load_weights(name, directory)
        cfg = {k: v for k, v in load_card(name, directory).config.items() if k not in ("backbone", "layer")}
        return fit_weights(TransformHead(TransformConfig.from_dict(cfg)), tensors, name)
    # A fresh head has the shipped one's shape (the features it maps fix in_dim), W = I.
    cfg = {}
    if name is not None and has_weights(name, directory):
        cfg = {k: v for k, v in load_card(name, directory).config.items() if k not in ("backbone", "layer")}
    model = TransformHead(TransformConfig.from_dict({**cfg, **overrides}))
    model.eval()
    return model


def evaluate_cnn(images: int | None = 500, directory: str | None = None) -> dict[str, Any]:
    """Source top-1 accuracy of the shipped CNN on the first ``images`` source test images (all if None)."""
    import torch

    from packzoo.zoo.transfer.cnn import as_float_images
    from packzoo.zoo.transfer.data import source_domain

    dom = source_domain(directory)
    x, y = dom.test_images[:images], dom.test_labels[:images]
    model = build_cnn(CNN_NAME, pretrained=True)
    with torch.no_grad():
        pred = torch.cat([model(as_float_images(x[i:i + 1000])).argmax(1) for i in range(0, len(x), 1000)])
    return {"source_top1": float((pred.numpy() == y).mean()), "images": len(y)}


def _transform_evaluator(target: str, mining: str):
    name = transform_name(target, mining)

    def evaluate(images: int | None = 500, directory: str | None = None) -> dict[str, Any]:
        """P@1 and MAP@R of leave-one-out retrieval among the first ``images`` held-out target images,
        after the shipped transform and (``identity.*``) with W = I on the same standardisation."""
        import torch

        from packzoo.zoo.transfer.cnn import extract_features
        from packzoo.zoo.transfer.data import target_domain
        from packzoo.zoo.transfer.metrics import retrieval_metrics

        dom = target_domain(target, directory)
        head = build_transform(name, pretrained=True)
        card = load_card(name)
        cnn = build_cnn(card.config["backbone"], pretrained=True)
        x = extract_features(cnn, dom.test_images[:images], card.config.get("layer", "fc"))
        y = torch.from_numpy(dom.test_labels[:images])
        with torch.no_grad():
            after, before = head(x), head.standardise(x)
        res = retrieval_metrics(after, y)
        res.update({f"identity.{k}": v for k, v in retrieval_metrics(before, y).items()})
        res["images"] = len(y)
        return res

    return evaluate


def _cnn_factory(pretrained: bool = False, **overrides: Any):
    return build_cnn(CNN_NAME, pretrained, **overrides)


def _transform_factory(name: str):
    def make(pretrained: bool = False, **overrides: Any):
        return build_transform(name, pretrained, **overrides)

    return make


register_model(
    CNN_NAME, _cnn_factory, family=FAMILY, evaluate=evaluate_cnn,
    summary="small ResNet (3 residual stages, 128-d feature layer) trained on Fashion-MNIST classes 0-4; the frozen source",
    source=SOURCE, task="Fashion-MNIST classes 0-4 classification (top-1); features for the transforms",
    headline=("test.source_top1", "fashion59.identity.p_at_1", "digits.identity.p_at_1"),
)
for _target in ("fashion59", "digits"):
    for _mining in MININGS:
        register_model(
            transform_name(_target, _mining), _transform_factory(transform_name(_target, _mining)), family=FAMILY,
            evaluate=_transform_evaluator(_target, _mining),
            summary=(f"linear transform f(x) = W z(x) of {CNN_NAME}'s features, learned on {_target} with the talk's "
                     f"triplet loss and {'K-NN hard-triplet mining (K=200)' if _mining == 'hard' else 'random triplets'}"),
            source=SOURCE, task=f"{_target}: retrieval precision@1 / MAP@R on held-out images",
            target=_target, mining=_mining,
            headline=("test.p_at_1", "test.map_at_r", "test.knn_acc", "identity.p_at_1"),
        )


__all__ = ["CHECK_LIMITS", "CNN_NAME", "FAMILY", "MININGS", "build_cnn", "build_transform", "evaluate_cnn",
           "transform_name"]
