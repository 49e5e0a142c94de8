"""Rule baseline: topic trigger phrases, gazetteer partners/regions, sector keyword lexicon.

It is the floor every trained model must beat, and a way to pre-label unlabelled articles
(``diploml label --rules``). It exposes the shared model interface (``predict_proba``,
``predict``, ``save``/``load``). The lexicons are YAML files under
``diploml/resources/rules/`` (copied into a saved model directory, where they can be edited).
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from diploml import partners as gaz
from diploml.base import MANIFEST, BaseClassifier, write_manifest
from diploml.regions import regions_of
from diploml.tasks import DEFAULT_SCHEMA, Task, load_task_schema
from diploml.text import normalize, preprocess

RULE_FILES = ("topic.yaml", "sectors.yaml", "partners.yaml")
CONFIG = "rules_config.json"
DEFAULT_PREPROCESS = {"normalize": True, "clean": True, "word_segmentation": "none"}


def bundled_rules_dir() -> Path:
    return Path(str(resources.files("diploml").joinpath("resources/rules")))


@lru_cache(maxsize=4096)
def _phrase_regex(phrase: str) -> re.Pattern:
    """Whole-word, case-insensitive regex of a normalised phrase (spaces match any whitespace)."""
    words = [re.escape(w) for w in normalize(phrase).lower().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _has_any(text: str, phrases: Iterable[str]) -> bool:
    return any(_phrase_regex(p).search(text) for p in phrases)


def _remove(text: str, phrases: Iterable[str]) -> str:
    for p in phrases:
        text = _phrase_regex(p).sub(" ", text)
    return text


class RuleClassifier(BaseClassifier):
    """Trigger phrases for ``topic``, the gazetteer for ``regions``, keywords for ``sectors``."""

    model_type = "rules"

    def __init__(self, rules_dir: str | Path | None = None, tasks: list[Task] | None = None,
                 preprocess: dict | None = None):
        self.rules_dir = Path(rules_dir) if rules_dir else bundled_rules_dir()
        self.tasks = tasks or load_task_schema(DEFAULT_SCHEMA)
        self.preprocess = {**DEFAULT_PREPROCESS, **(preprocess or {}), "word_segmentation": "none"}
        self.rules = {name: yaml.safe_load((self.rules_dir / name).read_text("utf-8")) for name in RULE_FILES}
        self.thresholds = {t.name: np.full(len(t.labels), 0.5) for t in self.tasks if t.multi_label}
        self._check_labels()

    def _task(self, name: str) -> Task | None:
        return next((t for t in self.tasks if t.name == name), None)

    def _check_labels(self) -> None:
        """Lexicon labels must exist in the task schema (a typo would silently never fire)."""
        checks = [("topic", self.rules["topic.yaml"]["order"] + [self.rules["topic.yaml"]["fallback"]]),
                  ("sectors", list(self.rules["sectors.yaml"]["sectors"])),
                  ("sectors", list(self.rules["sectors.yaml"].get("exclude") or {}))]
        for task_name, labels in checks:
            task = self._task(task_name)
            unknown = [lab for lab in labels if task is not None and lab not in task.labels]
            if unknown:
                raise ValueError(f"{self.rules_dir}: unknown {task_name} labels {unknown}")

    # --- the rules -------------------------------------------------------------------------

    def prepare(self, text: str) -> str:
        return preprocess(text, **self.preprocess)

    def topic(self, text: str) -> tuple[str, bool]:
        """(label, whether a trigger fired) for one preprocessed text."""
        cfg = self.rules["topic.yaml"]
        lines = text.lower().split("\n")
        n_lead = int(cfg.get("lead_lines", 2))
        parts = ["\n".join(lines[:1]), "\n".join(lines[1:1 + n_lead]), "\n".join(lines)]
        for part in parts:
            part = _remove(part, cfg.get("ignore", []))
            for label in cfg["order"]:
                if _has_any(part, cfg["triggers"].get(label, [])):
                    return label, True
        return cfg["fallback"], False

    def sectors(self, text: str) -> list[str]:
        cfg = self.rules["sectors.yaml"]
        low = text.lower()
        exclude = cfg.get("exclude") or {}
        return [label for label, phrases in cfg["sectors"].items()
                if _has_any(_remove(low, exclude.get(label, [])), phrases)]

    def _is_venue(self, key: str, start: int) -> bool:
        cfg = self.rules["partners.yaml"]
        before = key[max(0, start - 60):start].lower()
        venue = "|".join(re.escape(w) for w in cfg["venue_words"])
        place = "|".join(re.escape(normalize(w).lower()) for w in cfg["place_words"])
        pattern = (rf"(?<!\w)(?:{venue})\s+(?:(?:{place})\s+[^.;:!?\n]{{0,40}}?\s*|"
                   rf"[^\s.;:!?,]+(?:\s+[^\s.;:!?,]+){{0,3}},\s*)?$")
        return re.search(pattern, before) is not None

    def _org_acts(self, key: str, start: int) -> bool:
        before = key[max(0, start - 40):start].lower().rstrip()
        return any(before.endswith(normalize(t).lower()) for t in self.rules["partners.yaml"]["org_actor_titles"])

    def partners(self, text: str) -> tuple[list[str], list[str]]:
        """(selected partner codes, all mentioned codes) for one preprocessed text."""
        cfg = self.rules["partners.yaml"]
        mentions = gaz.find(text)
        lines = text.split("\n")
        lead_end = len("\n".join(lines[:1 + int(cfg.get("lead_lines", 2))]))
        counts: Counter = Counter()
        selected = []
        for m in mentions:
            if m.code.startswith("ORG:"):
                if self._org_acts(text, m.start):
                    selected.append(m.code)
                else:
                    counts[m.code] += 0  # known, but not counted as an actor
                continue
            if self._is_venue(text, m.start):
                counts[m.code] += 0
                continue
            counts[m.code] += 1
            if m.start < lead_end:
                selected.append(m.code)
        selected += [c for c, n in counts.items() if n >= int(cfg.get("min_mentions", 2))]
        if not selected and counts and counts.most_common(1)[0][1] > 0:
            selected = [counts.most_common(1)[0][0]]
        if not selected:  # only organisations that do not act: take the most mentioned one
            orgs = Counter(m.code for m in mentions if m.code.startswith("ORG:"))
            selected = [orgs.most_common(1)[0][0]] if orgs else []
        mentioned = list(dict.fromkeys(m.code for m in mentions))
        return list(dict.fromkeys(selected)), mentioned

    def analyse(self, text: str) -> dict:
        """All rule decisions for one raw text: topic, partners, regions, sectors."""
        prepared = self.prepare(text)
        topic, fired = self.topic(prepared)
        selected, mentioned = self.partners(prepared)
        return {"topic": topic, "topic_fired": fired, "partners": selected, "mentioned": mentioned,
                "regions": regions_of(selected), "sectors": self.sectors(prepared)}

    # --- model interface -------------------------------------------------------------------

    def predict_proba(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        texts = list(texts)
        out = {t.name: np.zeros((len(texts), len(t.labels))) for t in self.tasks}
        low = float(self.rules["partners.yaml"].get("mentioned_probability", 0.25))
        fallback_p = float(self.rules["topic.yaml"].get("fallback_probability", 0.3))
        for i, text in enumerate(texts):
            a = self.analyse(text)
            for task in self.tasks:
                row = out[task.name][i]
                if task.name == "topic":
                    if a["topic_fired"]:
                        row[task.index(a["topic"])] = 1.0
                    else:  # no trigger: the fallback wins, the rest share what is left
                        row[:] = (1 - fallback_p) / (len(task.labels) - 1)
                        row[task.index(a["topic"])] = fallback_p
                elif task.name == "regions":
                    for r in regions_of(a["mentioned"]):
                        row[task.index(r)] = low
                    for r in a["regions"]:
                        row[task.index(r)] = 1.0
                elif task.name == "sectors":
                    for s in a["sectors"]:
                        row[task.index(s)] = 1.0
        return out

    def fit(self, *args, **kwargs) -> RuleClassifier:
        """Rules are not trained: accepts and ignores any data."""
        return self

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / MANIFEST).unlink(missing_ok=True)  # a half-overwritten directory must not load
        for name in RULE_FILES:
            if (self.rules_dir / name).resolve() != (path / name).resolve():
                shutil.copyfile(self.rules_dir / name, path / name)
        config = {"tasks": [t.to_dict() for t in self.tasks], "preprocess": self.preprocess}
        (path / CONFIG).write_text(json.dumps(config, indent=2, ensure_ascii=False), "utf-8")
        write_manifest(path, self.model_type)
        return path

    @classmethod
    def load(cls, path: str | Path, **kwargs) -> RuleClassifier:
        path = Path(path)
        config = json.loads((path / CONFIG).read_text("utf-8")) if (path / CONFIG).is_file() else {}
        tasks = [Task(t["name"], t["kind"], tuple(t["labels"])) for t in config.get("tasks", [])] or None
        return cls(rules_dir=path, tasks=tasks, preprocess=config.get("preprocess"))
