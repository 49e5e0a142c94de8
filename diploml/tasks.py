"""Task declarations: a name, a kind (``single_label`` or ``multi_label``) and the label list."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

KINDS = ("single_label", "multi_label")


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
        if len(self.labels) < 2:
            raise ValueError(f"task {self.name!r}: needs at least two labels")

    @property
    def multi_label(self) -> bool:
        return self.kind == "multi_label"

    def index(self, label: str) -> int:
        return self.labels.index(label)

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "labels": list(self.labels)}


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
    return [Task(name=t["name"], kind=t["kind"], labels=tuple(t["labels"])) for t in items]


DEFAULT_SCHEMA = "diplomatic_news"
