"""Compare models on the same data: a Markdown table, JSON and bar charts, plus per-model error files.

    evals = {name: evaluate(model, articles) for name, model in models.items()}
    write_comparison(evals, "test", out_dir)   # comparison-test.{md,json,png}
    write_errors(evals["tfidf"], out_dir / "tfidf" / "errors-test.jsonl")

Every number comes from ``diploml.pipeline.evaluate_model``, so a comparison row equals the
single-model report of the same model on the same data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diploml.base import decode, labels_from_results, partner_evidence
from diploml.data import Article
from diploml.pipeline import evaluate_model
from diploml.reporting import _plt, save_figure


@dataclass
class Evaluation:
    """One model on one labelled article set: metrics, probabilities and decoded results."""

    name: str
    model: object
    articles: list[Article]
    metrics: dict
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


def evaluate(model, articles: list[Article], *, name: str = "", batch_size: int = 16,
             evidence: bool = True) -> Evaluation:
    """Metrics, probabilities and decoded results (with partner mentions) of ``model`` on ``articles``."""
    labelled = [a for a in articles if a.labels]
    metrics, probas = evaluate_model(model, labelled, batch_size=batch_size)
    # decode the probabilities already computed instead of calling predict (a second forward pass)
    results = decode(probas, model.tasks, model.thresholds)
    if evidence:
        for r, a in zip(results, labelled, strict=True):
            r["partners"] = partner_evidence(a.full_text, r.get("regions", []))
    return Evaluation(name or model.model_type, model, labelled, metrics, probas, results)


# ---- comparison tables --------------------------------------------------------------------

def _tasks(evals: list[Evaluation]) -> list[str]:
    names: list[str] = []
    for e in evals:
        names += [k for k, v in e.metrics.items() if isinstance(v, dict) and "kind" in v and k not in names]
    return names


def summarize(evals: list[Evaluation], data: str) -> dict:
    """The comparison as plain data: per model and task, accuracy, micro/macro F1 and per-label F1."""
    ids = {e.name: [a.id for a in e.articles] for e in evals}
    same = len({tuple(v) for v in ids.values()}) <= 1
    models = {}
    for e in evals:
        row = {}
        for t in _tasks([e]):
            m = e.metrics[t]
            row[t] = {
                "kind": m["kind"], "n": m["n"],
                "accuracy": m.get("accuracy", m.get("subset_accuracy")),
                "micro_f1": m["micro_f1"], "macro_f1": m["macro_f1"],
                "per_label_f1": {lab: m["per_label"][lab]["f1"] for lab in m["labels"]},
                "support": {lab: m["per_label"][lab]["support"] for lab in m["labels"]},
            }
        models[e.name] = {"model_type": e.model.model_type, "n_articles": len(e.articles),
                          "mean_macro_f1": e.metrics.get("macro_f1"), "tasks": row}
    return {"data": data, "same_articles": same, "tasks": _tasks(evals), "models": models}


def _best(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None


def _cell(v: float | None, best: float | None) -> str:
    if v is None:
        return "-"
    s = f"{v:.3f}"
    return f"**{s}**" if best is not None and abs(v - best) < 1e-12 else s


def markdown(summary: dict, images: str | None = None) -> str:
    """Markdown tables: one overview (bold = best per column) and one per-label F1 table per task.

    ``images``: the file stem of the PNGs written by ``write_comparison``, linked after each table.
    """
    names = list(summary["models"])
    tasks = summary["tasks"]
    lines = [f"# Model comparison on {summary['data']}", ""]
    if not summary["same_articles"]:
        ns = ", ".join(f"{n}: {summary['models'][n]['n_articles']}" for n in names)
        lines += ["**Warning:** the models were not evaluated on the same articles (each model's own "
                  f"split of its training data; articles {ns}); the rows are not directly comparable.", ""]
    head = ["model", "articles"]
    cols: list[tuple[str, str]] = []
    for t in tasks:
        kinds = {summary["models"][n]["tasks"].get(t, {}).get("kind") for n in names}
        if "single_label" in kinds:
            cols.append((t, "accuracy"))
        cols += [(t, "micro_f1"), (t, "macro_f1")]
    head += [f"{t} {'acc.' if k == 'accuracy' else k.replace('_f1', ' F1')}" for t, k in cols] + ["mean macro F1"]
    lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    get = {(n, t, k): summary["models"][n]["tasks"].get(t, {}).get(k) for n in names for t, k in cols}
    best = {(t, k): _best([get[(n, t, k)] for n in names]) for t, k in cols}
    best_mean = _best([summary["models"][n]["mean_macro_f1"] for n in names])
    for n in names:
        m = summary["models"][n]
        cells = [n, str(m["n_articles"])] + [_cell(get[(n, t, k)], best[(t, k)]) for t, k in cols]
        cells.append(_cell(m["mean_macro_f1"], best_mean))
        lines.append("| " + " | ".join(cells) + " |")
    if images:
        lines += ["", f"![overview]({images}.png)"]
    for t in tasks:
        labels: list[str] = []
        for n in names:
            labels += [lab for lab in summary["models"][n]["tasks"].get(t, {}).get("per_label_f1", {})
                       if lab not in labels]
        support = next((summary["models"][n]["tasks"][t]["support"] for n in names
                        if t in summary["models"][n]["tasks"]), {})
        lines += ["", f"## {t}: per-label F1", "", "| label | support | " + " | ".join(names) + " |",
                  "|" + " --- |" * (len(names) + 2)]
        for lab in labels:
            vals = [summary["models"][n]["tasks"].get(t, {}).get("per_label_f1", {}).get(lab) for n in names]
            b = _best(vals)
            lines.append(f"| {lab} | {support.get(lab, '-')} | " + " | ".join(_cell(v, b) for v in vals) + " |")
        if images:
            lines += ["", f"![{t} per-label F1]({images}-{t}.png)"]
    return "\n".join(lines) + "\n"


def plot_overview(summary: dict, path: Path) -> None:
    """Grouped bars: one group per task metric (topic accuracy, micro and macro F1), one bar per model."""
    plt = _plt()
    names = list(summary["models"])
    groups = []
    for t in summary["tasks"]:
        for k in ("accuracy", "micro_f1", "macro_f1"):
            if k == "accuracy" and all(summary["models"][n]["tasks"].get(t, {}).get("kind") != "single_label"
                                       for n in names):
                continue
            groups.append((t, k))
    _grouped_bars(plt, [f"{t}\n{k.replace('_f1', ' F1')}" for t, k in groups], names,
                  [[summary["models"][n]["tasks"].get(t, {}).get(k) for t, k in groups] for n in names],
                  f"Models on {summary['data']}", path)


def plot_per_label(summary: dict, task: str, path: Path) -> None:
    """Grouped bars of per-label F1 for one task, one bar per model."""
    plt = _plt()
    names = list(summary["models"])
    per = [summary["models"][n]["tasks"].get(task, {}).get("per_label_f1", {}) for n in names]
    labels = list(dict.fromkeys(lab for p in per for lab in p))
    _grouped_bars(plt, labels, names, [[p.get(lab) for lab in labels] for p in per],
                  f"{task}: per-label F1 on {summary['data']}", path, rotate=True)


def _grouped_bars(plt, groups, names, values, title, path, rotate=False):
    width = 0.8 / max(1, len(names))
    x = np.arange(len(groups))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(groups) * max(2, len(names))), 4.2))
    for i, (n, vals) in enumerate(zip(names, values, strict=True)):
        ax.bar(x + (i - (len(names) - 1) / 2) * width, [np.nan if v is None else v for v in vals], width, label=n)
    ax.set_xticks(x, groups, rotation=45 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
    ax.set_ylim(0, 1.2)  # headroom for the legend above the bars
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", ncol=min(4, len(names)))
    save_figure(fig, path)


def write_comparison(evals: list[Evaluation], data: str, out_dir: str | Path) -> dict:
    """``comparison-<data>.md``, ``.json`` and ``.png`` (plus one per-label PNG per task) in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(evals, data)
    stem = f"comparison-{data}"
    plot_overview(summary, out / f"{stem}.png")
    for t in summary["tasks"]:
        plot_per_label(summary, t, out / f"{stem}-{t}.png")
    (out / f"{stem}.md").write_text(markdown(summary, images=stem), "utf-8")
    (out / f"{stem}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), "utf-8")
    return summary


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
    tasks = [t for t in ev.model.tasks if t.name in ev.metrics]
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
               "probabilities": {t.name: {lab: round(float(ev.probas[t.name][i][j]), 4)
                                          for j, lab in enumerate(t.labels)} for t in tasks},
               "evidence": {"partners": ev.results[i].get("partners", [])}}
        if windows and ev.model.model_type == "transformer" and "topic" in pred:
            rec["evidence"]["top_window"] = top_window(ev.model, a.full_text, "topic", pred["topic"])
        out.append(rec)
    return out


def window_probas(clf, text: str, task: str = "topic") -> tuple[list[list[int]], np.ndarray]:
    """A transformer's windows of ``text`` and each window's own probabilities for ``task`` (windows, labels)."""
    import torch

    from diploml.features import WindowCollator
    from diploml.modeling import MultiTaskClassifier

    windows = clf._windows(text)
    kind = next(k for name, k, _ in clf.model.tasks if name == task)
    # each window as its own one-window "article": the model's pooling then scores it alone
    batch = WindowCollator(clf.tokenizer.pad_token_id)([{"input_ids": [w]} for w in windows])
    device = next(clf.model.parameters()).device
    clf.model.eval()
    with torch.inference_mode():
        z = clf.model.embed(*(batch[k].to(device) for k in ("input_ids", "attention_mask", "window_mask")))
        p = MultiTaskClassifier.probabilities(clf.model.heads[task](z).float(), kind)
    return windows, p.cpu().numpy()


def top_window(clf, text: str, task: str, label: str) -> dict:
    """The window that scores ``label`` highest, with its text and its own top probabilities."""
    windows, p = window_probas(clf, text, task)
    labels = next(t.labels for t in clf.tasks if t.name == task)
    j = labels.index(label)
    best = int(p[:, j].argmax())
    top = np.argsort(-p[best])[:3]
    return {"task": task, "label": label, "window": best, "n_windows": len(windows),
            "probability": round(float(p[best, j]), 4),
            "window_probabilities": {labels[k]: round(float(p[best, k]), 4) for k in top},
            "text": clf.tokenizer.decode(windows[best], skip_special_tokens=True)}


def write_errors(ev: Evaluation, path: str | Path, *, windows: bool = True) -> int:
    """Write ``error_records`` as JSON lines; returns how many articles were misclassified."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = error_records(ev, windows=windows)
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(records)
