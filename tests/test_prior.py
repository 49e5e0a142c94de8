"""The rule prior: a learnt combination of a model's and the rules' probabilities, fitted on dev."""

from __future__ import annotations

import numpy as np
import pytest

import diploml
from diploml.models.prior import RulePrior
from diploml.tasks import load_task_schema

from .conftest import easy_articles

TASKS = {t.name: t for t in load_task_schema("diplomatic_news")}


def test_an_uninformative_model_learns_to_follow_informative_rules():
    rng = np.random.default_rng(0)
    topic, sectors, partners = TASKS["topic"], TASKS["sectors"], TASKS["partners"]
    n = 80
    gold_topic = rng.integers(0, 8, n)
    gold_sectors = rng.random((n, 16)) < 0.3
    gold = [{"topic": topic.labels[g], "sectors": [s for s, on in zip(sectors.labels, row, strict=True) if on],
             "partners": ["JP"]} for g, row in zip(gold_topic, gold_sectors, strict=True)]
    model = {"topic": rng.dirichlet(np.ones(8), n), "sectors": rng.random((n, 16)),
             "partners": [{"JP": 0.5, "KR": 0.5} for _ in range(n)]}
    rules = {"topic": np.eye(8)[gold_topic], "sectors": gold_sectors.astype(float),
             "partners": [{"JP": 1.0, "KR": 0.25} for _ in range(n)]}
    prior = RulePrior.fit([topic, sectors, partners], gold, model, rules)
    out = prior.apply([topic, sectors, partners], model, rules)
    assert (out["topic"].argmax(1) == gold_topic).all()
    np.testing.assert_allclose(out["topic"].sum(1), 1.0)
    assert ((out["sectors"] >= 0.5) == gold_sectors).all()
    assert all(row["JP"] > 0.5 > row["KR"] for row in out["partners"])
    # without the prior the model would be at chance
    assert (model["topic"].argmax(1) == gold_topic).mean() < 0.5


def test_rule_prior_is_saved_and_loaded(tmp_path):
    cfg = diploml.load_config("configs/tfidf.yaml", ["evaluation.rule_prior=true"])
    clf = diploml.TfidfClassifier(cfg).fit(easy_articles(), dev=easy_articles("d"))
    assert clf.rule_prior is not None and "topic.w" in clf.rule_prior.arrays
    path = clf.save(tmp_path / "m")
    assert (path / "rule_prior.safetensors").is_file()
    texts = [a.full_text for a in easy_articles()]
    a, b = clf.predict_proba(texts), diploml.load(path).predict_proba(texts)
    np.testing.assert_array_equal(a["topic"], b["topic"])
    assert a["partners"] == b["partners"]
    (path / "rule_prior.safetensors").unlink()
    with pytest.raises(ValueError, match="rule_prior.safetensors is missing"):
        diploml.load(path)


def test_rule_prior_tasks_limit_the_combination():
    cfg = diploml.load_config("configs/tfidf.yaml", ["evaluation.rule_prior=true",
                                                     "evaluation.rule_prior_tasks=[sectors, partners]"])
    clf = diploml.TfidfClassifier(cfg).fit(easy_articles(), dev=easy_articles("d"))
    assert sorted({k.split(".")[0] for k in clf.rule_prior.arrays}) == ["partners", "sectors"]
