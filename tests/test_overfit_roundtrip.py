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
        if k == "partners":
            assert p1[k] == pytest.approx(p2[k], abs=1e-6)
        else:
            np.testing.assert_allclose(p1[k], p2[k], atol=1e-6)


def test_unfitted_model_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        DiploClassifier().predict_proba(["x"])


def test_overfit_and_round_trip_mentions(tmp_path):
    """The partners task: gold partners score high, a country merely mentioned (an example, a venue) low;
    save -> load gives identical partner probabilities; batch equals single."""
    cfg = tiny_config(tmp_path, tasks={"include": "[partners]"},
                      training={"epochs": 80, "batch_size": 4, "learning_rate": 5e-3, "eval_strategy": "no"},
                      evaluation={"tune_thresholds": False})
    articles = easy_articles()
    clf = DiploClassifier(cfg, random_state=0).fit(articles)
    assert _train_loss(clf, articles) < 0.05
    texts = [a.full_text for a in articles]
    probas = clf.predict_proba(texts)["partners"]
    assert probas[2]["JP"] > 0.9 and probas[2]["KR"] < 0.1  # Korea only as an example
    assert probas[4]["BR"] > 0.9 and probas[4]["US"] < 0.1  # the USA only as the venue
    results = clf.predict(texts)
    assert [[d["label"] for d in r["partners"]] for r in results] == [a.labels["partners"] for a in articles]
    jp = next(d for d in results[2]["partners"])
    assert jp["region"] == "northeast_asia"

    clf.save(tmp_path / "saved")
    loaded = diploml.load(tmp_path / "saved")
    assert loaded.predict_proba(texts)["partners"] == probas
    single = [loaded.predict_proba([t])["partners"][0] for t in texts]
    for a, b in zip(single, probas, strict=True):
        assert a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-5 for k in a)


def test_regions_follow_the_predicted_partners(tmp_path):
    cfg = tiny_config(tmp_path, training={"epochs": 3, "batch_size": 4, "eval_strategy": "no"})
    clf = DiploClassifier(cfg, random_state=0).fit(easy_articles())
    assert clf.regions_from_partners and "regions" not in clf.model.heads
    from diploml.partners import regions_of

    for r in clf.predict([a.full_text for a in easy_articles("z")] + ["Nhật Bản, Lào và Pháp hợp tác với Mỹ."]):
        assert sorted(d["label"] for d in r["regions"]) == regions_of([d["label"] for d in r["partners"]])


def test_windows_beyond_the_first_reach_the_loss(tmp_path):
    """A label stated only in the third window is learnt when training reads every window."""
    filler = " ".join(["Hai bên trao đổi ý kiến."] * 12)
    cue = {"visit": "chuyến thăm chính thức", "consular": "bảo hộ công dân"}
    arts = [diploml.Article(id=f"w{i}", title="", text=f"{filler} {filler} {cue[topic]} {i}.",
                            labels={"topic": topic}) for i, topic in enumerate(["visit", "consular"] * 4)]
    cfg = tiny_config(tmp_path, tasks={"include": "[topic]"}, model={"max_length": 32, "stride": 4},
                      training={"epochs": 60, "batch_size": 4, "learning_rate": 5e-3, "eval_strategy": "no",
                                "train_windows": "null"}, evaluation={"tune_thresholds": False})
    clf = DiploClassifier(cfg, random_state=0)
    clf.fit(arts)
    assert len(clf.windows(arts[0].full_text)) >= 3
    p = clf.predict_proba([a.full_text for a in arts])["topic"]
    assert [clf.tasks[0].labels[i] for i in p.argmax(1)] == [a.labels["topic"] for a in arts]
