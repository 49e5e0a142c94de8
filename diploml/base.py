"""What every diploml model shares: per-task probabilities in, labelled results out.

A model (transformer, TF-IDF, rules) implements ``predict_proba`` and ``save``/``load``;
``predict`` turns probabilities into results with the same decision rule everywhere:
arg-max for ``single_label`` tasks, per-label thresholds for ``multi_label`` tasks.
A saved model directory holds ``diploml.json`` naming its ``model_type``, so
``diploml.load`` can dispatch without the caller knowing the kind.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from diploml.tasks import Task

MANIFEST = "diploml.json"
# Run-directory layout version; bump when a change makes old readers misread new directories.
FORMAT_VERSION = 1
# model_type -> "module:Class"; each class has classmethod ``load(path)``.
MODEL_TYPES = {
    "transformer": "diploml.classifier:DiploClassifier",
    "rules": "diploml.baselines.rules:RuleClassifier",
    "tfidf": "diploml.baselines.tfidf:TfidfClassifier",
}


def decode(probas: dict[str, np.ndarray], tasks: Sequence[Task], thresholds: dict[str, np.ndarray]) -> list[dict]:
    """Per-article results from per-task probability arrays of shape (n, n_labels)."""
    n = len(next(iter(probas.values()))) if probas else 0
    results = [{} for _ in range(n)]
    for task in tasks:
        p = np.asarray(probas[task.name])
        for i in range(n):
            row = p[i]
            if task.multi_label:
                thr = thresholds.get(task.name, np.full(len(task.labels), 0.5))
                chosen = [
                    {"label": lab, "probability": float(row[j])}
                    for j, lab in enumerate(task.labels) if row[j] >= thr[j]
                ]
                chosen.sort(key=lambda d: -d["probability"])
                results[i][task.name] = chosen
            else:
                j = int(np.argmax(row))
                results[i][task.name] = {"label": task.labels[j], "probability": float(row[j])}
            results[i].setdefault("probabilities", {})[task.name] = {
                lab: float(row[j]) for j, lab in enumerate(task.labels)
            }
    return results


def labels_from_results(results: list[dict], tasks: Sequence[Task]) -> dict[str, list]:
    """Plain predicted labels per task: a label per article (single) or a list (multi)."""
    out = {}
    for t in tasks:
        if t.multi_label:
            out[t.name] = [[d["label"] for d in r[t.name]] for r in results]
        else:
            out[t.name] = [r[t.name]["label"] for r in results]
    return out


class BaseClassifier:
    """Shared ``predict`` on top of a subclass's ``predict_proba``."""

    model_type: str = ""
    tasks: list[Task]
    thresholds: dict[str, np.ndarray]

    def predict_proba(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def predict(self, texts: Iterable[str], *, evidence: bool = True) -> list[dict]:
        """One result per text: each task's label(s) with probabilities, plus partner mentions."""
        texts = list(texts)
        results = decode(self.predict_proba(texts), self.tasks, self.thresholds)
        if evidence:
            for r, text in zip(results, texts, strict=True):
                r["partners"] = partner_evidence(text, r.get("regions", []))
        return results

    def save(self, path: str | Path) -> Path:
        raise NotImplementedError


def partner_evidence(text: str, predicted_regions: list[dict]) -> list[dict]:
    """Gazetteer mentions in ``text``, each flagged when its region is among the predicted ones."""
    try:
        from diploml import partners
    except ImportError:  # gazetteer not available
        return []
    chosen = {d["label"] for d in predicted_regions}
    out = []
    for m in partners.find(text):
        d = m.to_dict() if hasattr(m, "to_dict") else dict(m)
        d["supports_predicted_region"] = d.get("region") in chosen
        out.append(d)
    return out


def write_manifest(path: Path, model_type: str, **extra) -> None:
    """Write the manifest atomically (temp file + rename): savers call this last, so it marks a complete save."""
    from diploml import __version__

    data = {"model_type": model_type, "format_version": FORMAT_VERSION, "diploml_version": __version__, **extra}
    tmp = path / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
    os.replace(tmp, path / MANIFEST)


def load(path: str | Path, *, backend: str = "torch", **kwargs):
    """Load any saved diploml model directory (transformer, TF-IDF or rules).

    ``backend`` (transformer runs only): ``torch`` (default), ``onnx`` (``RUN/onnx/model.onnx``) or
    ``onnx-int8`` (``RUN/onnx/model.int8.onnx``); the ONNX files come from ``diploml export``.
    Missing, corrupt or too-new run directories raise FileNotFoundError/ValueError with a clear message.
    """
    path = Path(path)
    manifest = path / MANIFEST
    if not path.is_dir():
        raise FileNotFoundError(f"model directory not found: {path}")
    if not manifest.is_file():
        raise FileNotFoundError(
            f"{path} is not a diploml model directory: {MANIFEST} is missing "
            "(was training interrupted before the final save?)"
        )
    try:
        info = json.loads(manifest.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{manifest}: corrupt manifest ({getattr(e, 'msg', e)})") from None
    if not isinstance(info, dict):
        raise ValueError(f"{manifest}: corrupt manifest (expected a JSON object)")
    # Manifests written before versioning carry no format_version: they are format 1.
    version = info.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"{manifest}: corrupt manifest (format_version {version!r} is not an integer)")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was saved in run-directory format {version} by diploml {info.get('diploml_version', '?')}; "
            f"this diploml reads format {FORMAT_VERSION} at most: upgrade diploml")
    model_type = info.get("model_type")
    if model_type not in MODEL_TYPES:
        raise ValueError(f"{manifest}: unknown model_type {model_type!r}; known: {sorted(MODEL_TYPES)}")
    if backend != "torch":
        if model_type != "transformer":
            raise ValueError(f"backend={backend!r} needs a transformer model; {path} holds a {model_type!r} model")
        from diploml.onnx_backend import OnnxClassifier

        return OnnxClassifier.load(path, backend=backend, **kwargs)
    module, cls = MODEL_TYPES[model_type].split(":")
    return getattr(importlib.import_module(module), cls).load(path, **kwargs)


def model_card_tail(tasks: Sequence[Task], dev_metrics: dict | None, files: str) -> list[str]:
    """The model-card lines every model type shares: task table, dev metrics, how to load."""
    lines = ["", "| task | kind | labels |", "| --- | --- | --- |"]
    lines += [f"| {t.name} | {t.kind} | {len(t.labels)} |" for t in tasks]
    if dev_metrics:
        lines += ["", "## Dev metrics", "", "| task | macro F1 | micro F1 |", "| --- | --- | --- |"]
        for t in tasks:
            m = dev_metrics.get(t.name)
            if m:
                lines.append(f"| {t.name} | {m['macro_f1']:.3f} | {m['micro_f1']:.3f} |")
    lines += ["", "Load with `diploml.load(path)`; files: config.yaml (resolved config), label_maps.json,",
              "thresholds.json (multi-label decision thresholds tuned on dev), versions.json, metrics_dev.json,",
              files, "Labels are machine predictions: review them before drawing conclusions.", ""]
    return lines


def package_versions(names: Sequence[str]) -> dict[str, str]:
    """Python's and the installed versions of ``names`` (missing packages are left out)."""
    import importlib.metadata as md
    import platform

    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def dump_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")


def save_model_dir(path: str | Path, clf, *, write_files, card: str, versions: dict,
                   extra_json: dict | None = None) -> Path:
    """Write a model directory atomically enough: files are built in a temporary folder, moved in,
    and the manifest goes last, so an interrupted save never looks loadable.

    ``write_files(tmp)`` writes the model-specific files; the shared ones (config, label maps,
    thresholds, versions, metrics, model card) are written here.
    """
    import os
    import shutil
    import tempfile

    from diploml.config import save_config

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MANIFEST).unlink(missing_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".saving-", dir=path))
    try:
        write_files(tmp)
        save_config(clf.config, tmp / "config.yaml")
        dump_json(tmp / "label_maps.json", {t.name: t.to_dict() for t in clf.tasks})
        dump_json(tmp / "thresholds.json", {k: [float(x) for x in v] for k, v in clf.thresholds.items()})
        dump_json(tmp / "versions.json", versions)
        for name, data in {"metrics_dev.json": clf.dev_metrics_, **(extra_json or {})}.items():
            if data is not None:
                dump_json(tmp / name, data)
        (tmp / "README.md").write_text(card, "utf-8")
        for item in tmp.iterdir():
            target = path / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_manifest(path, clf.model_type, tasks=[t.name for t in clf.tasks])
    return path
