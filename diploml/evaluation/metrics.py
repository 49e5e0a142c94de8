"""Metrics as pure functions over arrays (scikit-learn; no network, unlike ``evaluate``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
)

from diploml.tasks import Task


def _per_label(y_true, y_pred, names: Sequence[str], **kw) -> dict[str, dict]:
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0, **kw)
    return {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, lab in enumerate(names)}


def single_label_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> dict:
    """Class indices in, accuracy / F1 averages / per-label scores / confusion matrix out."""
    idx = list(range(len(labels)))
    return {
        "kind": "single_label",
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "micro_f1": float(f1_score(y_true, y_pred, labels=idx, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=idx, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y_true, y_pred, labels=idx, average="weighted", zero_division=0)),
        "per_label": _per_label(y_true, y_pred, labels, labels=idx),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=idx).tolist(),
        "labels": list(labels),
    }


def multi_label_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> dict:
    """Multi-hot matrices (n, n_labels) in; subset accuracy, Hamming loss, F1 averages, per-label out.

    Macro F1 averages over labels that occur in the gold data or the predictions, so a label
    absent from a small evaluation set and never predicted does not count as a zero.
    """
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    per = _per_label(y_true, y_pred, labels)
    present = [i for i in range(len(labels)) if y_true[:, i].any() or y_pred[:, i].any()]
    macro = float(np.mean([per[labels[i]]["f1"] for i in present])) if present else 0.0
    return {
        "kind": "multi_label",
        "n": int(len(y_true)),
        "subset_accuracy": float(accuracy_score(y_true, y_pred)),
        "hamming_loss": float(hamming_loss(y_true, y_pred)),
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": macro,
        "weighted_f1": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "per_label": per,
        "labels": list(labels),
    }


def decide_mentions(probas: list[dict[str, float]], threshold: float = 0.5) -> list[set[str]]:
    """The decision rule of a mentions task: the candidates scoring at least ``threshold``."""
    return [{c for c, p in row.items() if p >= threshold} for row in probas]


def mentions_metrics(gold: list[set[str]], pred: list[set[str]]) -> dict:
    """Sets of codes per article in; micro/macro F1 over the codes that occur, per-code scores out."""
    codes = sorted(set().union(*gold, *pred)) if gold else []
    y_true = np.array([[c in g for c in codes] for g in gold], dtype=int).reshape(len(gold), len(codes))
    y_pred = np.array([[c in p for c in codes] for p in pred], dtype=int).reshape(len(pred), len(codes))
    if not codes:
        return {"kind": "mentions", "n": len(gold), "subset_accuracy": 1.0, "micro_f1": 1.0, "macro_f1": 1.0,
                "weighted_f1": 1.0, "per_label": {}, "labels": []}
    m = multi_label_metrics(y_true, y_pred, codes)
    m["kind"] = "mentions"
    return m


def decide(probas: np.ndarray, task: Task, thresholds: np.ndarray | None = None) -> np.ndarray:
    """The decision rule: arg-max indices (single) or multi-hot above per-label thresholds (multi)."""
    probas = np.asarray(probas)
    if not task.multi_label:
        return probas.argmax(-1)
    thr = np.full(len(task.labels), 0.5) if thresholds is None else np.asarray(thresholds)
    return (probas >= thr).astype(int)


def task_metrics(task: Task, y_true: np.ndarray, probas: np.ndarray, thresholds=None) -> dict:
    y_pred = decide(probas, task, thresholds)
    fn = multi_label_metrics if task.multi_label else single_label_metrics
    return fn(y_true, y_pred, task.labels)


@dataclass
class Metrics:
    """Per-task metric dicts (``single_label_metrics``/``multi_label_metrics``) and their mean macro F1.

    ``to_dict`` gives the JSON of ``metrics.json``: one key per task plus ``macro_f1``.
    """

    tasks: dict[str, dict] = field(default_factory=dict)

    @property
    def macro_f1(self) -> float | None:
        """Macro F1 averaged over tasks (None when no task was scored)."""
        return float(np.mean([m["macro_f1"] for m in self.tasks.values()])) if self.tasks else None

    def to_dict(self) -> dict:
        return {**self.tasks, "macro_f1": self.macro_f1} if self.tasks else {}

    @classmethod
    def from_dict(cls, d: dict | None) -> Metrics | None:
        if not d:
            return None
        return cls({k: v for k, v in d.items() if isinstance(v, dict)})


def evaluate_probas(tasks: Sequence[Task], gold: list[dict], probas: dict[str, np.ndarray],
                    thresholds: dict[str, np.ndarray] | None = None) -> Metrics:
    """Metrics for every task that has gold labels in every article."""
    out = {}
    for t in tasks:
        if not gold or any(t.name not in g for g in gold) or t.name not in probas:
            continue
        thr = (thresholds or {}).get(t.name)
        if t.mentions:
            pred = decide_mentions(probas[t.name], 0.5 if thr is None else float(np.asarray(thr).reshape(-1)[0]))
            out[t.name] = mentions_metrics([set(g[t.name]) for g in gold], pred)
        else:
            out[t.name] = task_metrics(t, t.gold_array(gold), probas[t.name], thr)
    return Metrics(out)


def tune_mentions_threshold(gold: list[set[str]], probas: list[dict[str, float]], grid: Sequence[float],
                            default: float = 0.5) -> float:
    """The threshold maximising micro F1 of a mentions task on dev (ties: closest to ``default``)."""
    best = (-1.0, 0.0, default)
    for t in grid:
        f = mentions_metrics(gold, decide_mentions(probas, t))["micro_f1"]
        key = (f, -abs(t - default))
        if key > best[:2]:
            best = (f, -abs(t - default), t)
    return float(best[2])


def tune_thresholds(y_true: np.ndarray, probas: np.ndarray, grid: Sequence[float], default: float = 0.5,
                    shrinkage: float = 0.0) -> np.ndarray:
    """Per-label thresholds maximising each label's F1 on dev; ``default`` where a label never occurs.

    Ties go to the threshold closest to ``default`` so that sparse dev data does not push thresholds to
    extremes. ``shrinkage`` k > 0 pulls each label's threshold toward the one best threshold of the whole
    task (micro F1), weighted by the label's dev positives n: (n * t_label + k * t_task) / (n + k), so that
    a label seen a few times on dev does not get a threshold fitted to those few articles.
    """
    y_true = np.asarray(y_true, dtype=int)
    probas = np.asarray(probas)
    out = np.full(y_true.shape[1], default, dtype=np.float32)
    for j in range(y_true.shape[1]):
        if y_true[:, j].any():
            out[j] = _best_threshold(y_true[:, j], probas[:, j], grid, default)
    if shrinkage > 0:
        shared = _best_threshold(y_true.ravel(), probas.ravel(), grid, default)
        n = y_true.sum(0)
        out = ((n * out + shrinkage * shared) / (n + shrinkage)).astype(np.float32)
    return out


def _best_threshold(y: np.ndarray, p: np.ndarray, grid: Sequence[float], default: float) -> float:
    best = (-1.0, 0.0, default)
    for t in grid:
        f = f1_score(y, p >= t, zero_division=0)
        key = (f, -abs(t - default))
        if key > best[:2]:
            best = (f, -abs(t - default), t)
    return float(best[2])
