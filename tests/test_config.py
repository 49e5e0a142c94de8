"""Config validation: every shipped config loads; bad keys, types, values and labels are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from diploml.config import ConfigError, RunConfig, config_from_dict, load_config
from diploml.tasks import load_task_schema

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def test_there_are_shipped_configs():
    names = {p.stem for p in CONFIGS}
    assert {"tiny", "default"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_config_is_valid(path):
    cfg = load_config(path)
    assert isinstance(cfg, RunConfig)
    assert [t.name for t in cfg.tasks.resolve()][:3] == ["topic", "regions", "sectors"]
    first = path.read_text("utf-8").splitlines()[0]
    assert first.startswith("# python scripts/train.py --config configs/" + path.name), first


def test_default_schema_matches_the_annotation_guide():
    tasks = {t.name: t for t in load_task_schema("diplomatic_news")}
    assert tasks["topic"].kind == "single_label" and len(tasks["topic"].labels) == 8
    assert tasks["regions"].kind == "multi_label" and len(tasks["regions"].labels) == 11
    assert tasks["sectors"].kind == "multi_label" and len(tasks["sectors"].labels) == 16
    text = (ROOT / "docs" / "annotation-guide.md").read_text("utf-8")  # the guide shipped in the repository
    for t in tasks.values():
        for label in t.labels:
            assert f"`{label}`" in text, label


def test_shipped_guide_is_the_shared_guide():
    shared = ROOT.parent / "shared" / "annotation-guide.md"
    if not shared.exists():
        pytest.skip("no shared/ folder beside this checkout (only the project's own machines have it)")
    assert (ROOT / "docs" / "annotation-guide.md").read_bytes() == shared.read_bytes()


def test_unknown_key_message(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("training:\n  learnin_rate: 0.001\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert str(e.value) == f"{p}: training.learnin_rate: unknown key (value 0.001)"


def test_unknown_section(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("trainng:\n  epochs: 1\n")
    with pytest.raises(ConfigError, match=r"trainng: unknown key"):
        load_config(p)


def test_wrong_type_and_value_are_named():
    with pytest.raises(ConfigError, match=r"training\.epochs: .*'three'"):
        config_from_dict({"training": {"epochs": "three"}})
    with pytest.raises(ConfigError, match=r"model\.pooling: .*'median'"):
        config_from_dict({"model": {"pooling": "median"}})


def test_cache_frozen_needs_frozen_layers():
    with pytest.raises(ConfigError, match=r"model: .*cache_frozen needs freeze_layers >= 1"):
        config_from_dict({"model": {"cache_frozen": True}})
    assert config_from_dict({"model": {"cache_frozen": True, "freeze_layers": 1}}).model.cache_frozen


def test_unknown_task_in_include_and_loss_weights():
    with pytest.raises(ConfigError, match=r"tasks.include: unknown task 'topik'"):
        config_from_dict({"tasks": {"include": ["topik"]}})
    with pytest.raises(ConfigError, match=r"tasks.loss_weights: unknown task 'region'"):
        config_from_dict({"tasks": {"loss_weights": {"region": 2.0}}})


def test_inline_task_definitions():
    cfg = config_from_dict({"tasks": {"definitions": [
        {"name": "stance", "kind": "single_label", "labels": ["pos", "neg"]}]}})
    (t,) = cfg.tasks.resolve()
    assert (t.name, t.kind, t.labels) == ("stance", "single_label", ("pos", "neg"))
    with pytest.raises(ConfigError, match="kind"):
        config_from_dict({"tasks": {"definitions": [{"name": "x", "kind": "multi", "labels": ["a", "b"]}]}})


def test_overrides_and_yaml_errors(tmp_path):
    cfg = load_config(ROOT / "configs" / "tiny.yaml", ["training.epochs=2", "model.max_length=32", "name=x"])
    assert (cfg.training.epochs, cfg.model.max_length, cfg.name) == (2, 32, "x")
    with pytest.raises(ConfigError, match="expected section.key=value"):
        load_config(ROOT / "configs" / "tiny.yaml", ["training.epochs"])
    with pytest.raises(ConfigError, match=r"training.epoch: unknown key"):
        load_config(ROOT / "configs" / "tiny.yaml", ["training.epoch=2"])
    bad = tmp_path / "broken.yaml"
    bad.write_text("training:\n  epochs: [1\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+:\d+: invalid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")


def test_stride_must_fit_window():
    with pytest.raises(ConfigError, match="stride"):
        config_from_dict({"model": {"max_length": 32, "stride": 31}})


def test_train_script_exits_nonzero_naming_the_key(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_script", ROOT / "scripts" / "train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    p = tmp_path / "typo.yaml"
    p.write_text("model:\n  nme_or_path: x\n")
    assert mod.main(["--config", str(p)]) == 2
    assert "model.nme_or_path: unknown key" in capsys.readouterr().err


def test_cue_task_must_be_a_multi_label_task_with_cues(tmp_path):
    from diploml.models.transformer.classifier import DiploClassifier

    from .conftest import tiny_config

    with pytest.raises(ConfigError, match="model.cue_task: 'topic' is not a declared multi_label task"):
        DiploClassifier(tiny_config(tmp_path, model={"cue_task": "topic"}))
    with pytest.raises(ConfigError, match="model.cue_task: 'sectorz'"):
        DiploClassifier(tiny_config(tmp_path, model={"cue_task": "sectorz"}))
    with pytest.raises(ConfigError, match="word_segmentation: none"):
        DiploClassifier(tiny_config(tmp_path, model={"cue_task": "sectors"},
                                    preprocess={"word_segmentation": "underthesea"}))
    inline = config_from_dict({"model": {"cue_task": "mood"}, "tasks": {"schema": None, "definitions": [
        {"name": "mood", "kind": "multi_label", "labels": ["happy", "sad"]}]}})
    with pytest.raises(ConfigError, match=r"no cues for the labels \['happy', 'sad'\]"):
        DiploClassifier(inline)
