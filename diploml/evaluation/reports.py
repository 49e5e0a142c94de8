"""Reports: one model on one dataset (metrics.json, report.md, confusion matrix and per-label F1 plots),
several models side by side (comparison-DATA.md/.json/.png), and the short terminal table.

Every number comes from a ``diploml.evaluation.metrics.Metrics`` object, so a comparison row equals the
single-model report of the same model on the same data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from diploml.evaluation.metrics import Metrics


def save_figure(fig, path: Path) -> None:
    """Lay out, write as a 110-dpi PNG and free a matplotlib figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(m: dict, title: str, path: Path) -> None:
    plt = _plt()
    cm = np.asarray(m["confusion_matrix"])
    labels = m["labels"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(labels), 1.0 + 0.6 * len(labels)))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    vmax = cm.max() if cm.size else 0
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                        color="white" if cm[i, j] > vmax / 2 else "black", fontsize=8)
    save_figure(fig, path)


def plot_per_label_f1(m: dict, title: str, path: Path) -> None:
    plt = _plt()
    labels = m["labels"]
    f1 = [m["per_label"][lab]["f1"] for lab in labels]
    support = [m["per_label"][lab]["support"] for lab in labels]
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.32 * len(labels)))
    y = np.arange(len(labels))
    ax.barh(y, f1, color="#3b75af")
    ax.set_yticks(y, [f"{lab} (n={s})" for lab, s in zip(labels, support, strict=True)])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(title)
    for yi, v in zip(y, f1, strict=True):
        ax.text(min(v + 0.01, 0.93), yi, f"{v:.2f}", va="center", fontsize=8)
    save_figure(fig, path)


def markdown_report(metrics: Metrics, title: str) -> str:
    lines = [f"# {title}", ""]
    tasks = list(metrics.tasks)
    lines += ["| task | n | accuracy / subset acc. | micro F1 | macro F1 | weighted F1 | Hamming loss |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for t in tasks:
        m = metrics.tasks[t]
        acc = m.get("accuracy", m.get("subset_accuracy"))
        ham = f"{m['hamming_loss']:.3f}" if "hamming_loss" in m else "-"
        lines.append(f"| {t} | {m['n']} | {acc:.3f} | {m['micro_f1']:.3f} | {m['macro_f1']:.3f} "
                     f"| {m['weighted_f1']:.3f} | {ham} |")
    if metrics.macro_f1 is not None:
        lines += ["", f"Mean macro F1 over tasks: **{metrics.macro_f1:.3f}**"]
    for t in tasks:
        m = metrics.tasks[t]
        lines += ["", f"## {t}", "", "| label | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
        for lab in m["labels"]:
            p = m["per_label"][lab]
            lines.append(f"| {lab} | {p['precision']:.3f} | {p['recall']:.3f} | {p['f1']:.3f} | {p['support']} |")
        lines += ["", f"![per-label F1]({t}_per_label_f1.png)"]
        if "confusion_matrix" in m:
            lines += ["", f"![confusion matrix]({t}_confusion.png)"]
    return "\n".join(lines) + "\n"


def write_report(metrics: Metrics, out_dir: str | Path, title: str) -> Path:
    """metrics.json, report.md and one or two PNGs per task in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics.to_dict(), indent=2, ensure_ascii=False), "utf-8")
    for t, m in metrics.tasks.items():
        plot_per_label_f1(m, f"{title}: {t}", out / f"{t}_per_label_f1.png")
        if "confusion_matrix" in m:
            plot_confusion(m, f"{title}: {t}", out / f"{t}_confusion.png")
    (out / "report.md").write_text(markdown_report(metrics, title), "utf-8")
    return out


def summary_table(rows: list[tuple[str, str, Metrics]]) -> str:
    """A short text table: (model, dataset, metrics) -> macro/micro F1 per task."""
    tasks = []
    for _, _, m in rows:
        tasks += [k for k in m.tasks if k not in tasks]
    head = f"{'model':<16}{'data':<8}" + "".join(f"{t + ' maF1':>16}{t + ' miF1':>16}" for t in tasks)
    lines = [head, "-" * len(head)]
    for model, data, metrics in rows:
        m = metrics.tasks
        cells = "".join(f"{m[t]['macro_f1']:>16.3f}{m[t]['micro_f1']:>16.3f}" if t in m else f"{'-':>16}{'-':>16}"
                        for t in tasks)
        lines.append(f"{model:<16}{data:<8}" + cells)
    return "\n".join(lines)


# ---- comparison tables --------------------------------------------------------------------

def _tasks(evals) -> list[str]:
    names: list[str] = []
    for e in evals:
        names += [k for k in e.metrics.tasks if k not in names]
    return names


def summarize(evals, data: str) -> dict:
    """The comparison as plain data: per model and task, accuracy, micro/macro F1 and per-label F1."""
    ids = {e.name: [a.id for a in e.articles] for e in evals}
    same = len({tuple(v) for v in ids.values()}) <= 1
    models = {}
    for e in evals:
        row = {}
        for t in _tasks([e]):
            m = e.metrics.tasks[t]
            row[t] = {
                "kind": m["kind"], "n": m["n"],
                "accuracy": m.get("accuracy", m.get("subset_accuracy")),
                "micro_f1": m["micro_f1"], "macro_f1": m["macro_f1"],
                "per_label_f1": {lab: m["per_label"][lab]["f1"] for lab in m["labels"]},
                "support": {lab: m["per_label"][lab]["support"] for lab in m["labels"]},
            }
        models[e.name] = {"model_type": e.model.model_type, "n_articles": len(e.articles),
                          "mean_macro_f1": e.metrics.macro_f1, "tasks": row}
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


def write_comparison(evals, data: str, out_dir: str | Path) -> dict:
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
