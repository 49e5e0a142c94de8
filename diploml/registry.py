"""Model types by name: build an unfitted model from a config, load any saved run directory.

Adding a model type: a ``diploml.models.base.Model`` subclass, a config class in
``diploml.config`` (a member of the ``model`` union), and one line here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from diploml.config import RunConfig
from diploml.rundir import RunDirError, read_manifest

# model.type -> "module:Class"
MODEL_TYPES = {
    "transformer": "diploml.models.transformer.classifier:DiploClassifier",
    "tfidf": "diploml.models.tfidf:TfidfClassifier",
    "rules": "diploml.models.rules:RuleClassifier",
    "embed_lr": "diploml.models.embed_lr:EmbedLRClassifier",
}


def model_class(model_type: str):
    if model_type not in MODEL_TYPES:
        raise ValueError(f"unknown model type {model_type!r}; known: {', '.join(MODEL_TYPES)}")
    module, cls = MODEL_TYPES[model_type].split(":")
    return getattr(importlib.import_module(module), cls)


def build(cfg: RunConfig, *, random_state: int | None = None):
    """An unfitted model of the type that ``cfg.model.type`` names."""
    return model_class(cfg.model.type)(cfg, random_state=random_state)


def load(path: str | Path, *, backend: str = "torch", **options):
    """Load any saved run directory (transformer, TF-IDF, rules or embed_lr).

    ``backend`` (transformer runs only): ``torch`` (default), ``onnx`` or ``onnx-int8`` (the graphs that
    ``diploml export`` writes). ``options`` go to the model type's ``load`` (e.g. ``device``, ``threads``).
    Missing, corrupt, edited or too-new run directories raise FileNotFoundError/ValueError naming the path.
    """
    info = read_manifest(path)
    model_type = info.get("model_type")
    if model_type not in MODEL_TYPES:
        raise RunDirError(f"{Path(path) / 'diploml.json'}: unknown model_type {model_type!r}; "
                          f"known: {sorted(MODEL_TYPES)}")
    return model_class(model_type).load(path, backend=backend, **options)
