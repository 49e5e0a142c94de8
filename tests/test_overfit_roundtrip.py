"""Overfit-and-round-trip, once per task kind: loss near zero, F1 = 1, save/load identical, batch == single."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import diploml
from diploml.evaluation.metrics import evaluate_probas
from diploml.models.transformer.classifier import DiploClassifier
from diploml.models.transformer.inputs import WindowCollator

from .conftest import easy_articles, tiny_config


def _train_loss(clf, articles):
    batch = WindowCollator(clf.tokenizer.pad_token_id)(clf._items(articles))
    clf.model.eval()
    with torch.no_grad():
        return float(clf.model(**batch)["loss"])


@pytest.mark.parametrize("task", ["topic", "sectors"], ids=["single_label", "multi_label"])
def test_overfit_and_round_trip(tmp_path, task):
    cfg = tiny_config(tmp_path, tasks={"include": f"[{task}]"},
                      training={"epochs": 60, "batch_size": 4, "learning_rate": 5e-3, "eval_strategy": "no"},
                      evaluation={"tune_thresholds": False})
    articles = easy_articles()
    clf = DiploClassifier(cfg, random_state=0).fit(articles)
    assert [t.name for t in clf.tasks] == [task]
    assert _train_loss(clf, articles) < 0.05

    texts = [a.full_text for a in articles]
    probas = clf.predict_proba(texts)
    metrics = evaluate_probas(clf.tasks, [a.labels for a in articles], probas, clf.thresholds)
    assert metrics.tasks[task]["macro_f1"] == pytest.approx(1.0)

    clf.save(tmp_path / "saved")
    loaded = diploml.load(tmp_path / "saved")
    assert isinstance(loaded, DiploClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(texts)[task], probas[task])

    single = np.concatenate([loaded.predict_proba([t])[task] for t in texts])
    np.testing.assert_allclose(single, probas[task], atol=1e-5)

    results = loaded.predict(texts)
    for r, a in zip(results, articles, strict=True):
        if task == "topic":
            assert r["topic"]["label"] == a.labels["topic"]
        else:
            assert sorted(d["label"] for d in r["sectors"]) == sorted(a.labels["sectors"])
        assert set(r["probabilities"][task]) == set(clf.tasks[0].labels)


def test_same_seed_same_metrics(tmp_path):
    cfg = tiny_config(tmp_path, training={"epochs": 3, "batch_size": 4, "eval_strategy": "no"})
    arts = easy_articles()
    p1 = DiploClassifier(cfg, random_state=7).fit(arts).predict_proba([a.full_text for a in arts])
    p2 = DiploClassifier(cfg, random_state=7).fit(arts).predict_proba([a.full_text for a in arts])
    for k in p1:
        np.testing.assert_allclose(p1[k], p2[k], atol=1e-6)


def test_unfitted_model_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        DiploClassifier().predict_proba(["x"])
