"""Evaluation reports: metrics.json, a Markdown report and PNG plots (confusion matrix, per-label F1)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


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


def markdown_report(metrics: dict, title: str) -> str:
    lines = [f"# {title}", ""]
    tasks = [k for k, v in metrics.items() if isinstance(v, dict) and "kind" in v]
    lines += ["| task | n | accuracy / subset acc. | micro F1 | macro F1 | weighted F1 | Hamming loss |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for t in tasks:
        m = metrics[t]
        acc = m.get("accuracy", m.get("subset_accuracy"))
        ham = f"{m['hamming_loss']:.3f}" if "hamming_loss" in m else "-"
        lines.append(f"| {t} | {m['n']} | {acc:.3f} | {m['micro_f1']:.3f} | {m['macro_f1']:.3f} "
                     f"| {m['weighted_f1']:.3f} | {ham} |")
    if "macro_f1" in metrics:
        lines += ["", f"Mean macro F1 over tasks: **{metrics['macro_f1']:.3f}**"]
    for t in tasks:
        m = metrics[t]
        lines += ["", f"## {t}", "", "| label | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
        for lab in m["labels"]:
            p = m["per_label"][lab]
            lines.append(f"| {lab} | {p['precision']:.3f} | {p['recall']:.3f} | {p['f1']:.3f} | {p['support']} |")
        lines += ["", f"![per-label F1]({t}_per_label_f1.png)"]
        if "confusion_matrix" in m:
            lines += ["", f"![confusion matrix]({t}_confusion.png)"]
    return "\n".join(lines) + "\n"


def write_report(metrics: dict, out_dir: str | Path, title: str) -> Path:
    """metrics.json, report.md and one or two PNGs per task in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False), "utf-8")
    for t, m in metrics.items():
        if not (isinstance(m, dict) and "kind" in m):
            continue
        plot_per_label_f1(m, f"{title}: {t}", out / f"{t}_per_label_f1.png")
        if "confusion_matrix" in m:
            plot_confusion(m, f"{title}: {t}", out / f"{t}_confusion.png")
    (out / "report.md").write_text(markdown_report(metrics, title), "utf-8")
    return out


def summary_table(rows: list[tuple[str, str, dict]]) -> str:
    """A short text table: (model, dataset, metrics) -> macro/micro F1 per task."""
    tasks = []
    for _, _, m in rows:
        tasks += [k for k, v in m.items() if isinstance(v, dict) and "kind" in v and k not in tasks]
    head = f"{'model':<16}{'data':<8}" + "".join(f"{t + ' maF1':>16}{t + ' miF1':>16}" for t in tasks)
    lines = [head, "-" * len(head)]
    for model, data, m in rows:
        cells = "".join(f"{m[t]['macro_f1']:>16.3f}{m[t]['micro_f1']:>16.3f}" if t in m else f"{'-':>16}{'-':>16}"
                        for t in tasks)
        lines.append(f"{model:<16}{data:<8}" + cells)
    return "\n".join(lines)
