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
    cfg = tiny_config(tmp_path, tasks={"include": f"[{task}]"}, model={"cue_task": "null"},  # the plain head
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


# Sector cues in cooperation and in background: the cue-scored task must learn which is which.
CUE_ARTICLES = [
    ("Hai bên nhất trí thúc đẩy hợp tác thương mại và du lịch. Nước chủ nhà có công nghiệp ô tô phát triển.",
     ["economy_trade", "tourism"]),
    ("Hai nước tăng cường hợp tác công nghiệp ô tô. Du lịch của nước bạn rất phát triển.", ["industry"]),
    ("Hai bên bàn về giáo dục, đào tạo và học bổng. Thương mại của nước chủ nhà tăng trưởng.", ["education"]),
    ("Việt Nam và Lào hợp tác về năng lượng, thương mại và giáo dục.", ["energy", "economy_trade", "education"]),
]


def test_overfit_and_round_trip_cue_scored(tmp_path):
    """model.cue_task: sectors: a label is scored from its cue tokens, so a cue in a background sentence
    scores low and a label with no cue has probability 0; save -> load identical; batch equals single."""
    arts = [diploml.Article(id=f"c{i}", title="", text=text, labels={"sectors": sectors})
            for i, (text, sectors) in enumerate(CUE_ARTICLES)]
    cfg = tiny_config(tmp_path, tasks={"include": "[sectors]"}, model={"cue_task": "sectors"},
                      training={"epochs": 80, "batch_size": 4, "learning_rate": 5e-3, "eval_strategy": "no"},
                      evaluation={"tune_thresholds": False})
    clf = DiploClassifier(cfg, random_state=0).fit(arts)
    assert clf.model.cue_task == "sectors"
    assert _train_loss(clf, arts) < 0.05
    texts = [a.full_text for a in arts]
    probas = clf.predict_proba(texts)["sectors"]
    labels = clf.tasks[0].labels
    col = {lab: labels.index(lab) for lab in labels}
    assert probas[0, col["tourism"]] > 0.9 and probas[0, col["industry"]] < 0.1  # industry: the host's own
    assert probas[1, col["industry"]] > 0.9 and probas[1, col["tourism"]] < 0.1  # tourism: the partner's own
    assert probas[2, col["economy_trade"]] < 0.1
    assert probas[0, col["health"]] < 1e-6  # no cue of health anywhere: not scored
    metrics = evaluate_probas(clf.tasks, [a.labels for a in arts], {"sectors": probas}, clf.thresholds)
    assert metrics.tasks["sectors"]["micro_f1"] == pytest.approx(1.0)

    clf.save(tmp_path / "saved")
    loaded = diploml.load(tmp_path / "saved")
    assert loaded.config.model.cue_task == "sectors"
    np.testing.assert_array_equal(loaded.predict_proba(texts)["sectors"], probas)
    single = np.concatenate([loaded.predict_proba([t])["sectors"] for t in texts])
    np.testing.assert_allclose(single, probas, atol=1e-5)
    best = loaded.explain(texts[0], "sectors", "tourism")
    assert best["probability"] > 0.9 and "du lịch" in best["text"]
    r = loaded.predict(texts[:1])[0]  # each predicted sector comes with the cues that support it
    assert sorted(d["label"] for d in r["sectors"]) == ["economy_trade", "tourism"]
    assert {(c["label"], c["form"]) for c in r["sector_cues"]} == {("economy_trade", "thương mại"),
                                                                   ("tourism", "du lịch")}
    assert all(texts[0][c["start"]:c["end"]] == c["form"] for c in r["sector_cues"])

    # the run keeps the lexicon it was trained with: an edit there (not in the bundled copy) is what it reads
    import yaml

    lex_file = tmp_path / "saved" / "cue_lexicon.yaml"
    lexicon = yaml.safe_load(lex_file.read_text("utf-8"))
    lexicon["sectors"]["tourism"] = ["lữ hành"]
    lex_file.write_text(yaml.safe_dump(lexicon, allow_unicode=True), "utf-8")
    edited = diploml.load(tmp_path / "saved").predict_proba(texts)["sectors"]
    assert edited[0, col["tourism"]] < 1e-6 and edited[0, col["economy_trade"]] == probas[0, col["economy_trade"]]
    lex_file.unlink()
    from diploml.rundir import RunDirError

    with pytest.raises(RunDirError, match="cue_lexicon.yaml is missing"):
        diploml.load(tmp_path / "saved")


def test_cues_beyond_the_training_cap_are_not_scored_in_training(tmp_path):
    """A cue only in a window that training.train_windows drops is not a training candidate (its label would
    be learnt from an empty span); prediction reads every window and scores it."""
    filler = " ".join(["Hai bên trao đổi ý kiến."] * 12)
    art = diploml.Article(id="w", title="", text=f"Hợp tác thương mại. {filler} {filler} Hợp tác du lịch.",
                          labels={"sectors": ["economy_trade", "tourism"]})
    cfg = tiny_config(tmp_path, tasks={"include": "[sectors]"}, model={"cue_task": "sectors", "max_length": 32,
                                                                       "stride": 4},
                      training={"train_windows": 1})
    clf = DiploClassifier(cfg, random_state=0)
    from diploml.models.transformer.encoder import build_encoder

    _, clf.tokenizer = build_encoder(cfg.model, seed=0)
    enc = clf.encode(art.full_text)
    sectors = clf.tasks[0].labels
    assert sorted(sectors[j] for j in enc["cue_labels"]) == ["economy_trade", "tourism"]
    assert max(w for pos in enc["cue_positions"] for w, _ in pos) >= 2
    item = clf._items([art], cap=1)[0]
    assert [sectors[j] for j in item["cue_labels"]] == ["economy_trade"]
    assert all(w == 0 for pos in item["cue_positions"] for w, _ in pos)


def test_cached_frozen_layers_give_the_full_forward(tmp_path):
    """The layers above cached lower-layer states give exactly the encoder's own output (eval mode), padding
    included; read as the output of the wrong depth, it does not."""
    cfg = tiny_config(tmp_path, model={"freeze_layers": 1, "cache_frozen": "true"})
    clf = DiploClassifier(cfg, random_state=0).fit(easy_articles()[:2])  # builds the model; weights are irrelevant
    net = clf.model.eval()
    batch = WindowCollator(clf.tokenizer.pad_token_id)(clf._items(easy_articles()))
    ids, mask = batch["input_ids"], batch["attention_mask"]
    assert (mask == 0).any()  # windows of different lengths: the padded positions are masked in both paths
    with torch.no_grad():
        full = net.token_states(ids, mask)
        low = net.lower_states(ids, mask, 1)
        assert torch.equal(net.token_states(ids, mask, low), full)
        net.frozen_depth = 0  # told the wrong depth, the cached layer would run twice
        assert not torch.allclose(net.token_states(ids, mask, low), full)


def test_overfit_and_round_trip_with_cached_frozen_layers(tmp_path):
    """model.cache_frozen: training reads the frozen layer's cached output (the collator pads it); the model
    still overfits every task, and the saved run (which has no cache) predicts what the fitted one does."""
    cfg = tiny_config(tmp_path, model={"freeze_layers": 1, "cache_frozen": "true"},
                      training={"epochs": 60, "batch_size": 4, "learning_rate": 5e-3, "eval_strategy": "no"},
                      evaluation={"tune_thresholds": False})
    articles = easy_articles()
    clf = DiploClassifier(cfg, random_state=0).fit(articles)
    items = clf._items(articles)
    assert "frozen_states" not in items[0]  # prediction items carry no cache: the full encoder runs
    assert _train_loss(clf, articles) < 0.1
    texts = [a.full_text for a in articles]
    probas = clf.predict_proba(texts)
    metrics = evaluate_probas(clf.tasks, [a.labels for a in articles], probas, clf.decision_thresholds())
    assert metrics.tasks["topic"]["macro_f1"] == pytest.approx(1.0)
    assert metrics.tasks["partners"]["micro_f1"] == pytest.approx(1.0)
    clf.save(tmp_path / "saved")
    np.testing.assert_array_equal(diploml.load(tmp_path / "saved").predict_proba(texts)["topic"], probas["topic"])


def test_bf16_mixed_precision_training(tmp_path):
    """training.precision=bf16 (what ``auto`` picks on a capable GPU) trains every task kind, cue-scored
    sectors and partner mentions included; checked with the CPU's bf16 autocast, which needs no
    training.use_cpu on a machine without a GPU."""
    cfg = tiny_config(tmp_path, model={"cue_task": "sectors"},
                      training={"precision": "bf16", "epochs": 3, "eval_strategy": "no"},
                      evaluation={"tune_thresholds": False})
    arts = easy_articles()
    clf = DiploClassifier(cfg, random_state=0).fit(arts)
    assert np.isfinite(clf.train_metrics_["train_loss"])
    assert np.isfinite(_train_loss(clf, arts))
    texts = [a.full_text for a in arts]
    probas = clf.predict_proba(texts)
    assert {t.name for t in clf.tasks} == {"topic", "regions", "sectors", "partners"}
    for t in clf.tasks:
        if t.kind == "mentions":
            assert len(probas[t.name]) == len(texts)
            assert all(np.isfinite(list(p.values())).all() for p in probas[t.name] if p)
        else:
            assert probas[t.name].shape == (len(texts), len(t.labels))
            assert np.isfinite(probas[t.name]).all()
