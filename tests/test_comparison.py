"""Comparison and error analysis: files exist, numbers equal the per-model metrics, errors are the wrong ones."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from diploml.config import load_config
from diploml.evaluation.evaluate import error_records, evaluate, unique_names, write_errors
from diploml.evaluation.metrics import evaluate_probas
from diploml.evaluation.reports import markdown, summarize, write_comparison
from diploml.models.tfidf import TfidfClassifier

from .conftest import easy_articles, tiny_config


def evaluate_model(model, articles):
    """Metrics straight from the model's probabilities (the path the comparison must agree with)."""
    probas = model.predict_proba([a.full_text for a in articles])
    return evaluate_probas(model.tasks, [a.labels for a in articles], probas, model.thresholds).to_dict(), probas


ROOT = Path(__file__).resolve().parents[1]


def tfidf(**overrides):
    cfg = load_config(ROOT / "configs" / "tfidf.yaml", [f"{k}={v}" for k, v in overrides.items()])
    return TfidfClassifier(cfg).fit(easy_articles())


@pytest.fixture(scope="module")
def models():
    # two different models: a memorising one and a heavily regularised word-only one
    return {"strong": tfidf(**{"model.C": 100.0}), "weak": tfidf(**{"model.C": 0.01, "model.char_ngrams": "null"})}


def held_out():
    """The easy articles with one gold topic changed: a memorising model gets exactly that one wrong."""
    arts = easy_articles("h")
    arts[0].labels["topic"] = "consular"
    return arts


def test_comparison_numbers_equal_per_model_metrics(models, tmp_path):
    arts = held_out()
    evals = [evaluate(m, arts, name=n) for n, m in models.items()]
    summary = write_comparison(evals, "held", tmp_path)
    for name in ("comparison-held.md", "comparison-held.json", "comparison-held.png", "comparison-held-topic.png",
                 "comparison-held-regions.png", "comparison-held-sectors.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    saved = json.loads((tmp_path / "comparison-held.json").read_text())
    assert saved == json.loads(json.dumps(summary)) and saved["same_articles"] is True
    for n, m in models.items():
        direct, _ = evaluate_model(m, arts)
        row = saved["models"][n]["tasks"]
        assert row["topic"]["accuracy"] == direct["topic"]["accuracy"]
        for task in ("topic", "regions", "sectors"):
            assert row[task]["macro_f1"] == direct[task]["macro_f1"]
            assert row[task]["micro_f1"] == direct[task]["micro_f1"]
            assert row[task]["per_label_f1"] == {k: v["f1"] for k, v in direct[task]["per_label"].items()}
        assert saved["models"][n]["mean_macro_f1"] == direct["macro_f1"]
    assert saved["models"]["strong"]["tasks"]["topic"]["accuracy"] == pytest.approx(7 / 8)
    md = (tmp_path / "comparison-held.md").read_text()
    assert "| strong | 8 | **0.875** |" in md and "## sectors: per-label F1" in md and "Warning" not in md


def test_error_records_list_the_misclassified(models, tmp_path):
    ev = evaluate(models["strong"], held_out(), name="strong")
    records = error_records(ev)
    assert [r["id"] for r in records] == ["h0"]
    (r,) = records
    assert r["wrong_tasks"] == ["topic"]
    assert r["gold"]["topic"] == "consular" and r["predicted"]["topic"] == "visit"
    assert r["predicted"]["regions"] == r["gold"]["regions"] == ["southeast_asia"]
    assert max(r["probabilities"]["topic"], key=r["probabilities"]["topic"].get) == "visit"
    assert isinstance(r["evidence"]["mentions"], list)
    assert write_errors(ev, tmp_path / "errors.jsonl") == 1
    assert json.loads((tmp_path / "errors.jsonl").read_text())["id"] == "h0"


def test_warns_when_articles_differ(models):
    evals = [evaluate(models["strong"], held_out(), name="a"), evaluate(models["weak"], held_out()[:4], name="b")]
    s = summarize(evals, "x")
    assert s["same_articles"] is False and "Warning" in markdown(s)


def test_unique_names():
    assert unique_names(["runs/tfidf", "other/tfidf", "runs/rules"]) == ["runs/tfidf", "other/tfidf", "rules"]


def test_window_probas_of_a_transformer(tmp_path):
    from diploml.models.transformer.classifier import DiploClassifier

    cfg = tiny_config(tmp_path, training={"max_steps": 1, "eval_strategy": "no"})
    clf = DiploClassifier(cfg, random_state=0).fit(easy_articles())
    short = easy_articles()[0].full_text
    windows, p = clf.window_probas(short)
    assert len(windows) == 1 and p.shape == (1, 8)
    # a one-window article is scored exactly like its only window
    np.testing.assert_allclose(p, clf.predict_proba([short])["topic"], atol=1e-5)
    long = " ".join(a.full_text for a in easy_articles()) * 3
    windows, p = clf.window_probas(long)
    assert len(windows) > 1 and p.shape == (len(windows), 8)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)


def test_evaluate_script_compares_models(models, tmp_path):
    data = tmp_path / "held.jsonl"
    data.write_text("".join(json.dumps({"id": a.id, "text": a.text, **a.labels}, ensure_ascii=False) + "\n"
                            for a in held_out()), "utf-8")
    for n, m in models.items():
        m.save(tmp_path / n)
    spec = importlib.util.spec_from_file_location("evaluate_script", ROOT / "scripts" / "evaluate.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "cmp"
    argv = ["--model", str(tmp_path / "strong"), str(tmp_path / "weak"), "--data", str(data), "seeds",
            "--output", str(out)]
    assert script.main(argv) == 0
    for name in ("comparison-held.md", "comparison-seeds.json", "strong/errors-held.jsonl",
                 "weak/errors-seeds.jsonl", "strong/eval-held/metrics.json"):
        assert (out / name).exists(), name
    assert [json.loads(x)["id"] for x in (out / "strong" / "errors-held.jsonl").read_text().splitlines()] == ["h0"]
    single = tmp_path / "single"
    assert script.main(["--model", str(tmp_path / "strong"), "--data", str(data), "--output", str(single)]) == 0
    assert (single / "metrics.json").exists() and (single / "errors-held.jsonl").exists()
    assert script.main(["--model", str(tmp_path / "strong"), str(tmp_path / "nope"), "--data", str(data)]) == 2
