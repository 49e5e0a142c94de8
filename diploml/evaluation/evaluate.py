"""Evaluate models on labelled articles: metrics, decoded results, error records, reports.

    ev = evaluate(model, articles, name="tfidf")          # Evaluation: metrics, probas, results
    write_errors(ev, "runs/tfidf/errors-test.jsonl")
    evaluate_runs(["runs/rules", "runs/tfidf"], ["test", "seeds"], output="runs/comparison")

``evaluate_runs`` is what ``diploml evaluate`` (and ``scripts/evaluate.py``) runs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diploml.data import Article, DataError, load_articles, load_splits
from diploml.evaluation.metrics import Metrics, evaluate_probas
from diploml.evaluation.reports import summary_table, write_comparison, write_report
from diploml.models.base import labels_from_results, partner_evidence

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """One model on one labelled article set: metrics, probabilities and decoded results."""

    name: str
    model: object
    articles: list[Article]
    metrics: Metrics
    probas: dict[str, np.ndarray]
    results: list[dict]


def unique_names(paths: list[str | Path]) -> list[str]:
    """Display names of model directories: the folder name, made unique with its parent when needed."""
    names = [Path(p).name or str(p) for p in paths]
    out = []
    for p, n in zip(paths, names, strict=True):
        if names.count(n) > 1:
            n = f"{Path(p).parent.name}/{n}"
        while n in out:
            n += "'"
        out.append(n)
    return out


def resolve_eval_data(spec: str, model, *, texts: str | None = None) -> tuple[str, list[Article]]:
    """``--data``: a split name of the model's training data (train/dev/test), ``seeds``, ``real_dev``
    (the real-text set of ``data/real_dev``, joined with the user's ``texts``), or a path."""
    cfg = model.config
    if spec == "real_dev":
        from diploml.data.real_dev import DEFAULT_DIR, load_real_dev

        articles, missing = load_real_dev(DEFAULT_DIR, texts=texts, tasks=model.tasks)
        if missing:
            log.warning("real_dev: %d of %d articles left out (%s)", len(missing), len(missing) + len(articles),
                        "; ".join(f"{k}: {v}" for k, v in list(missing.items())[:5]) + (" ..." if len(missing) > 5
                                                                                         else ""))
        if not articles:
            raise DataError(f"real_dev: none of the {len(missing)} articles has its text in {texts}")
        return "real_dev", articles
    if spec in ("train", "dev", "test"):
        return spec, load_splits(cfg.data, model.tasks)[spec]
    if spec == "seeds":
        return "seeds", load_articles(cfg.evaluation.seeds_dir or "seeds", model.tasks)
    if not Path(spec).exists() and not spec.startswith(("bundled:", "hf:")):
        raise DataError(f"--data {spec!r}: not a split name (train, dev, test, seeds) nor an existing path")
    return Path(spec).stem or spec, load_articles(spec, model.tasks)


def evaluate(model, articles: list[Article], *, name: str = "", batch_size: int = 16,
             evidence: bool = True, progress: bool = False) -> Evaluation:
    """Metrics, probabilities and decoded results (with partner mentions) of ``model`` on labelled ``articles``."""
    labelled = [a for a in articles if a.labels]
    if not labelled:
        raise DataError("no labelled articles to evaluate")
    probas = model.predict_proba([a.full_text for a in labelled], batch_size=batch_size, progress=progress)
    metrics = evaluate_probas(model.tasks, [a.labels for a in labelled], probas, model.decision_thresholds())
    # decode the probabilities already computed instead of calling predict (a second forward pass)
    results = model.decode(probas)
    if evidence:
        for r, a in zip(results, labelled, strict=True):
            r["mentions"] = partner_evidence(a.full_text, r.get("regions", []), r.get("partners"))
    return Evaluation(name or model.model_type, model, labelled, metrics, probas, results)


# ---- error analysis -----------------------------------------------------------------------

def _gold(article: Article, task) -> str | list[str]:
    g = article.labels[task.name]
    return sorted(g, key=task.index) if task.multi_label else g


def error_records(ev: Evaluation, *, windows: bool = True) -> list[dict]:
    """One record per misclassified article: which tasks are wrong, gold vs predicted, probabilities, evidence.

    A multi-label task counts as wrong when the predicted label set differs from the gold set.
    Evidence: the partner mentions found in the text and, for a transformer, its highest-scoring
    window for the predicted topic.
    """
    tasks = [t for t in ev.model.tasks if t.name in ev.metrics.tasks]
    predicted = labels_from_results(ev.results, tasks)
    out = []
    for i, a in enumerate(ev.articles):
        gold = {t.name: _gold(a, t) for t in tasks}
        pred = {t.name: (sorted(predicted[t.name][i], key=t.index) if t.multi_label else predicted[t.name][i])
                for t in tasks}
        wrong = [t.name for t in tasks if (set(gold[t.name]) != set(pred[t.name]) if t.multi_label
                                           else gold[t.name] != pred[t.name])]
        if not wrong:
            continue
        rec = {"id": a.id, "title": a.title, "wrong_tasks": wrong, "gold": gold, "predicted": pred,
               "probabilities": {t.name: {lab: round(p, 4) for lab, p in ev.results[i]["probabilities"][t.name].items()}
                                 for t in tasks},
               "evidence": {"mentions": ev.results[i].get("mentions", [])}}
        if windows and "topic" in pred:
            top = ev.model.explain(a.full_text, "topic", pred["topic"])
            if top is not None:
                rec["evidence"]["top_window"] = top
        out.append(rec)
    return out


def write_errors(ev: Evaluation, path: str | Path, *, windows: bool = True) -> int:
    """Write ``error_records`` as JSON lines; returns how many articles were misclassified."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = error_records(ev, windows=windows)
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(records)


def evaluate_runs(model_dirs: list[str], data: list[str], *, output: str | None = None, batch_size: int = 16,
                  windows: bool = True, backend: str = "torch", progress: bool = False,
                  texts: str | None = None) -> tuple[str, Path]:
    """Evaluate run directories on datasets; returns the summary table and where the reports went.

    One model, one dataset: ``metrics.json``, ``report.md``, plots and ``errors-DATA.jsonl`` in ``output``
    (default ``RUN/eval-DATA``). Several: per dataset ``comparison-DATA.*`` in ``output`` (default
    ``runs/comparison``) and per model ``NAME/eval-DATA/`` and ``NAME/errors-DATA.jsonl``.
    """
    from diploml.registry import load

    names = unique_names(model_dirs)
    single = len(model_dirs) == 1 and len(data) == 1
    out_root = Path(output or "runs/comparison")
    models = {n: load(p, backend=backend) for n, p in zip(names, model_dirs, strict=True)}
    rows, where = [], out_root
    for spec in data:
        evals = []
        for n, model in models.items():
            data_name, articles = resolve_eval_data(spec, model, texts=texts)
            ev = evaluate(model, articles, name=n, batch_size=batch_size, progress=progress)
            base = Path(output or Path(model_dirs[0]) / f"eval-{data_name}") if single else out_root / n
            out = base if single else base / f"eval-{data_name}"
            write_report(ev.metrics, out, f"{n} on {data_name}")
            write_errors(ev, (out if single else base) / f"errors-{data_name}.jsonl", windows=windows)
            rows.append((n, data_name, ev.metrics))
            evals.append(ev)
            where = out / "report.md" if single else out_root
        if not single:
            write_comparison(evals, data_name, out_root)
    return summary_table(rows), where
