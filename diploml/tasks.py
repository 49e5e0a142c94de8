"""Task declarations: a name, a kind and the label list.

Kinds: ``single_label`` (one label, softmax, arg-max), ``multi_label`` (any labels, sigmoids, per-label
thresholds) and ``mentions`` (the labels are candidates found in each text -- partner codes proposed
by the gazetteer --, each scored by a sigmoid and kept above one threshold).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

KINDS = ("single_label", "multi_label", "mentions")


@dataclass(frozen=True)
class Task:
    name: str
    kind: str
    labels: tuple[str, ...]

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"task {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"task {self.name!r}: duplicate labels in {list(self.labels)}")
        if self.kind == "mentions":
            if self.labels:
                raise ValueError(f"task {self.name!r}: a mentions task has no fixed labels (its candidates come "
                                 "from the text)")
        elif len(self.labels) < 2:
            raise ValueError(f"task {self.name!r}: needs at least two labels")

    @property
    def multi_label(self) -> bool:
        return self.kind == "multi_label"

    @property
    def mentions(self) -> bool:
        """A task whose labels are candidates found in each text (partner codes proposed by the gazetteer)."""
        return self.kind == "mentions"

    def index(self, label: str) -> int:
        return self.labels.index(label)

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, d: dict) -> Task:
        """The inverse of ``to_dict`` (label maps of run directories, schema files, configs)."""
        return cls(name=d["name"], kind=d["kind"], labels=tuple(d.get("labels") or ()))

    def encode(self, value) -> int | np.ndarray:
        """A gold value as a target: class index (single-label) or multi-hot vector (multi-label)."""
        if not self.multi_label:
            return self.index(value)
        v = np.zeros(len(self.labels), dtype=np.float32)
        for lab in value:
            v[self.index(lab)] = 1.0
        return v

    def gold_array(self, gold: list[dict]) -> np.ndarray:
        """Gold labels of articles (dicts task -> value) as indices (n,) or a multi-hot matrix (n, labels)."""
        if self.multi_label:
            return np.stack([self.encode(g[self.name]) for g in gold]).astype(int) if gold else \
                np.zeros((0, len(self.labels)), dtype=int)
        return np.array([self.index(g[self.name]) for g in gold], dtype=int)


def bundled_schema_path(name: str) -> Path:
    return Path(str(resources.files("diploml").joinpath(f"resources/tasks/{name}.yaml")))


def load_task_schema(name_or_path: str | Path) -> list[Task]:
    """Tasks from a schema YAML: a bundled name (``diplomatic_news``) or a file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = bundled_schema_path(str(name_or_path))
    if not path.is_file():
        raise FileNotFoundError(f"task schema not found: {name_or_path!r} (looked for {path})")
    raw = yaml.safe_load(path.read_text("utf-8")) or {}
    items = raw.get("tasks")
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a top-level 'tasks' list")
    return [Task.from_dict(t) for t in items]


DEFAULT_SCHEMA = "diplomatic_news"
