"""Every registered model passes check_model, rule by rule (parametrised from the registry)."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("torch")

from packzoo.zoo import list_models, model_card  # noqa: E402
from packzoo.zoo.check import RULES, ModelCheckError, check_model  # noqa: E402
from packzoo.zoo.weights import WEIGHTS_DIR  # noqa: E402

MODELS = list_models()


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("name", MODELS)
def test_model_conforms(name, rule):
    check_model(name, rules=(rule,))


def test_every_family_has_a_model_with_shipped_weights():
    from packzoo.zoo import families

    for fam in families():
        assert any(model_card(n).weights is not None for n in list_models(family=fam)), fam


def test_check_model_names_the_broken_rule(tmp_path, monkeypatch):
    """A card whose check disagrees with the weights fails rule 'evaluate', and only that one."""
    from packzoo.zoo import weights

    name = "ptrnet-binpack-n8"
    for ext in (".safetensors", ".json"):
        shutil.copy(WEIGHTS_DIR / f"{name}{ext}", tmp_path / f"{name}{ext}")
    card = json.loads((tmp_path / f"{name}.json").read_text())
    key = next(iter(card["check"]["metrics"]))
    card["check"]["metrics"][key] += 1.0
    (tmp_path / f"{name}.json").write_text(json.dumps(card))
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    check_model(name, rules=("card", "sha256"))
    with pytest.raises(ModelCheckError) as e:
        check_model(name)
    assert e.value.rule == "evaluate"


def test_a_card_without_family_or_with_unknown_keys_is_refused(tmp_path):
    from packzoo.zoo import WeightsError, load_card

    name = "ptrnet-binpack-n8"
    card = json.loads((WEIGHTS_DIR / f"{name}.json").read_text())
    (tmp_path / "a.json").write_text(json.dumps({**card, "bogus": 1}))
    with pytest.raises(WeightsError, match=r"a\.json.*unknown keys \['bogus'\]"):
        load_card("a", tmp_path)
    del card["family"]
    (tmp_path / "b.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match=r"b\.json.*missing required keys \['family'\]"):
        load_card("b", tmp_path)
    (tmp_path / "c.json").write_text("{not json")
    with pytest.raises(WeightsError, match=r"c\.json.*not valid JSON"):
        load_card("c", tmp_path)


def test_list_models_by_family():
    from packzoo.zoo import families

    assert {"ptrnet", "sb3"} <= set(families())
    assert list_models(family="sb3") == ["sb3-maskppo-n10", "sb3-maskppo-online-c10", "sb3-maskppo-place-n10"]
    with pytest.raises(ValueError, match="unknown family"):
        list_models(family="nope")


def test_a_deleted_weights_file_is_not_listed_as_shipped(tmp_path, monkeypatch, capsys):
    from packzoo.cli import main
    from packzoo.zoo import weights

    name = "ptrnet-binpack-n8"
    shutil.copy(WEIGHTS_DIR / f"{name}.json", tmp_path / f"{name}.json")  # the card, not the file
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    assert model_card(name).weights is None
    assert main(["models", "ptrnet-binpack-n8"]) == 0
    assert "no weights" in capsys.readouterr().out
