"""TF-IDF baseline: fit on in-memory articles, shapes, overfitting, save/load, diploml.load, train script."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import diploml
from diploml.config import load_config
from diploml.evaluation.metrics import evaluate_probas
from diploml.models.tfidf import TfidfClassifier

from .conftest import EASY, easy_articles


def evaluate_model(model, articles):
    probas = model.predict_proba([a.full_text for a in articles])
    return evaluate_probas(model.tasks, [a.labels for a in articles], probas, model.thresholds).to_dict(), probas


ROOT = Path(__file__).resolve().parents[1]


def tfidf_config(**overrides):
    return load_config(ROOT / "configs" / "tfidf.yaml", [f"{k}={v}" for k, v in overrides.items()])


@pytest.fixture(scope="module")
def fitted():
    # C large: the easy articles are meant to be memorised
    return TfidfClassifier(tfidf_config(**{"model.C": 100.0})).fit(easy_articles(), dev=easy_articles("d"))


def test_predict_proba_shapes(fitted):
    texts = [text for text, *_ in EASY[:3]]
    p = fitted.predict_proba(texts)
    assert set(p) == {"topic", "regions", "sectors", "partners"}
    assert [set(row) for row in p["partners"]] == [{"LA"}, {"FR"}, {"JP", "KR"}]  # the gazetteer's candidates
    assert p["topic"].shape == (3, 8) and p["regions"].shape == (3, 11) and p["sectors"].shape == (3, 16)
    np.testing.assert_allclose(p["topic"].sum(1), 1.0, rtol=1e-6)
    assert ((p["sectors"] >= 0) & (p["sectors"] <= 1)).all()
    results = fitted.predict(texts)
    assert len(results) == 3 and "label" in results[0]["topic"] and isinstance(results[0]["sectors"], list)
    assert fitted.predict_proba([])["topic"].shape == (0, 8)


def test_overfits_easy_articles(fitted):
    metrics, _ = evaluate_model(fitted, easy_articles())
    for task in ("topic", "regions", "sectors", "partners"):
        assert metrics[task]["macro_f1"] == pytest.approx(1.0), task
    assert set(fitted.thresholds) == {"partners", "sectors"}  # regions follow from the partners
    assert fitted.dev_metrics_.tasks["topic"]["accuracy"] == pytest.approx(1.0)


def test_fit_accepts_texts_and_label_dicts():
    arts = easy_articles()
    clf = TfidfClassifier(tfidf_config(), random_state=1).fit([a.full_text for a in arts], [a.labels for a in arts])
    assert clf.random_state == 1 and clf.dev_metrics_ is None and clf.thresholds == {}
    assert clf.predict_proba(["Thủ tướng thăm Lào"])["topic"].shape == (1, 8)


def test_unfitted_raises():
    with pytest.raises(RuntimeError, match="not fitted"):
        TfidfClassifier().predict_proba(["x"])


def test_save_load_identical(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    for name in ("diploml.json", "tfidf.safetensors", "tfidf_vocabulary.json", "config.yaml", "label_maps.json",
                 "thresholds.json", "versions.json", "metrics_dev.json", "README.md"):
        assert (tmp_path / "m" / name).is_file(), name
    assert json.loads((tmp_path / "m" / "diploml.json").read_text())["model_type"] == "tfidf"
    loaded = diploml.load(tmp_path / "m")
    assert isinstance(loaded, TfidfClassifier)
    texts = [a.full_text for a in easy_articles()] + ["Một bài báo khác hẳn về hợp tác giáo dục."]
    a, b = fitted.predict_proba(texts), loaded.predict_proba(texts)
    for task in a:
        np.testing.assert_array_equal(a[task], b[task])
    for task in fitted.thresholds:
        np.testing.assert_array_equal(fitted.thresholds[task], loaded.thresholds[task])
    assert fitted.predict(texts) == loaded.predict(texts)


def test_partial_save_does_not_load(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    (tmp_path / "m" / "diploml.json").unlink()
    with pytest.raises(ValueError, match="diploml.json"):
        diploml.load(tmp_path / "m")


def test_train_script_with_tfidf_config(tmp_path):
    data = tmp_path / "small.jsonl"
    with data.open("w", encoding="utf-8") as fh:
        for split, arts in (("train", easy_articles()), ("dev", easy_articles("d")), ("test", easy_articles("t"))):
            for a in arts:
                # the loader rejects the same text in two splits
                text = a.text if split == "train" else f"{a.text} Bản tin {split}."
                fh.write(json.dumps({"id": a.id, "text": text, "split": split, **a.labels}, ensure_ascii=False)
                         + "\n")
    spec = importlib.util.spec_from_file_location("train_script", ROOT / "scripts" / "train.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    run = tmp_path / "run"
    assert train.main(["--config", "configs/tfidf.yaml", "--output-dir", str(run), f"data.path={data}"]) == 0
    model = diploml.load(run)
    assert model.model_type == "tfidf" and model.config.data.path == str(data)
    assert json.loads((run / "metrics_dev.json").read_text())["topic"]["n"] == 8
