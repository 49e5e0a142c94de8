"""Loading labelled and unlabelled articles: JSONL, CSV, folders of .txt, bundled corpora, HF datasets."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from diploml.tasks import Task

LABEL_FIELDS = ("topic", "partners", "regions", "sectors")


class DataError(ValueError):
    """Bad input data; the message names the file, line or article id."""


@dataclass
class Article:
    id: str
    text: str
    title: str = ""
    labels: dict = field(default_factory=dict)  # task name -> label (single) or list of labels (multi)
    partners: list[str] = field(default_factory=list)
    split: str | None = None

    @property
    def full_text(self) -> str:
        """What the models read: headline, blank line, body."""
        return f"{self.title}\n\n{self.text}" if self.title else self.text


def bundled_path(name: str) -> Path:
    path = Path(str(resources.files("diploml").joinpath(f"resources/corpus/{name}.jsonl")))
    if not path.is_file():
        raise DataError(f"no bundled corpus named {name!r} ({path})")
    return path


def _article(rec: dict, where: str, tasks: list[Task] | None) -> Article:
    rid = rec.get("id")
    if rid is None or str(rid).strip() == "":
        raise DataError(f"{where}: missing 'id'")
    rid = str(rid)
    text = rec.get("text")
    if not isinstance(text, str):
        raise DataError(f"{where} (id {rid!r}): missing or non-text 'text'")
    if not text.strip():
        raise DataError(f"{where} (id {rid!r}): empty text")
    labels = {}
    for task in tasks or []:
        if task.name not in rec or rec[task.name] is None:
            continue
        value = rec[task.name]
        if task.multi_label:
            if isinstance(value, str):  # CSV cells: "a;b"
                value = [v.strip() for v in value.replace(",", ";").split(";") if v.strip()]
            bad = [v for v in value if v not in task.labels]
        else:
            bad = [] if value in task.labels else [value]
        if bad:
            raise DataError(
                f"{where} (id {rid!r}): unknown {task.name} label {bad[0]!r}; known: {', '.join(task.labels)}"
            )
        labels[task.name] = value
    partners = rec.get("partners") or []
    if isinstance(partners, str):
        partners = [p.strip() for p in partners.replace(",", ";").split(";") if p.strip()]
    split = rec.get("split") or None
    return Article(id=rid, title=str(rec.get("title") or ""), text=text, labels=labels, partners=list(partners),
                   split=split)


def iter_records(path: str | Path) -> Iterator[tuple[dict, str]]:
    """Raw records and their location (``file:line``) from JSONL, CSV, a .txt folder or ``-`` (stdin JSONL).

    Streams: memory does not grow with the input size.
    """
    if str(path) == "-":
        for lineno, line in enumerate(sys.stdin, 1):
            if line.strip():
                yield _json_line(line, f"<stdin>:{lineno}"), f"<stdin>:{lineno}"
        return
    path = Path(path)
    if path.is_dir():
        labels = {}
        if (path / "labels.jsonl").is_file():
            for rec, _ in iter_records(path / "labels.jsonl"):
                labels[rec.get("file") or f"{rec['id']}.txt"] = rec
        files = sorted(path.glob("*.txt"))
        if not files:
            raise DataError(f"{path}: folder holds no .txt files")
        for f in files:
            try:
                text = f.read_text("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{f}: not UTF-8 text (byte {e.start})") from None
            rec = {"id": f.stem, "title": "", "text": text, **{k: v for k, v in labels.get(f.name, {}).items()
                                                                 if k not in ("file", "id")}}
            yield rec, str(f)
        return
    if not path.is_file():
        raise DataError(f"input not found: {path}")
    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            for lineno, row in enumerate(csv.DictReader(fh), 2):
                yield dict(row), f"{path}:{lineno}"
        return
    with open(path, encoding="utf-8") as fh:
        lineno = 0
        while True:
            try:
                line = fh.readline()
            except UnicodeDecodeError as e:
                raise DataError(f"{path}:{lineno + 1}: not UTF-8 text ({e.reason})") from None
            if not line:
                break
            lineno += 1
            if line.strip():
                yield _json_line(line, f"{path}:{lineno}"), f"{path}:{lineno}"


def _json_line(line: str, where: str) -> dict:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        raise DataError(f"{where}: invalid JSON ({e.msg})") from None
    if not isinstance(rec, dict):
        raise DataError(f"{where}: expected a JSON object")
    return rec


def load_articles(source: str | Path, tasks: list[Task] | None = None) -> list[Article]:
    """All articles of a source; labels are checked against ``tasks``; duplicate ids are an error."""
    source = str(source)
    if source.startswith("bundled:"):
        source = str(bundled_path(source.split(":", 1)[1]))
    if source.startswith("hf:"):
        return _load_hf(source[3:], tasks)
    articles, seen = [], {}
    for rec, where in iter_records(source):
        art = _article(rec, where, tasks)
        if art.id in seen:
            raise DataError(f"{where}: duplicate id {art.id!r} (first at {seen[art.id]})")
        seen[art.id] = where
        articles.append(art)
    if not articles:
        raise DataError(f"{source}: no articles")
    return articles


def _load_hf(spec: str, tasks):
    """``hf:NAME[:SPLIT]`` or ``hf:/path/saved_with_save_to_disk``; needs the ``datasets`` package."""
    try:
        import datasets
    except ImportError:
        raise DataError("hf: sources need the datasets package: pip install 'diploml[datasets]'") from None
    name, _, split = spec.partition(":")
    ds = datasets.load_from_disk(name) if Path(name).exists() else datasets.load_dataset(name)
    if isinstance(ds, datasets.DatasetDict):
        parts = [ds[split]] if split else [ds[s] for s in ds]
        names = [split] if split else list(ds)
    else:
        parts, names = [ds], [None]
    out = []
    for part, sname in zip(parts, names, strict=True):
        for i, rec in enumerate(part):
            rec = dict(rec)
            if sname and not rec.get("split"):
                rec["split"] = sname
            out.append(_article(rec, f"hf:{spec}[{i}]", tasks))
    return out


def _fingerprint(art: Article) -> str:
    return hashlib.sha1(" ".join(art.full_text.split()).lower().encode()).hexdigest()


def split_articles(articles: list[Article], *, dev_fraction=0.1, test_fraction=0.15, seed=13,
                   stratify_task: str | None = "topic") -> dict[str, list[Article]]:
    """Group by each article's ``split``; articles without one are assigned deterministically.

    Assignment hashes the id with ``seed`` within each stratum (the topic label), so it does not
    depend on file order. Identical texts in two splits are reported as a DataError.
    """
    out: dict[str, list[Article]] = {"train": [], "dev": [], "test": []}
    strata: dict[str, list[Article]] = {}
    for a in articles:
        if a.split:
            out.setdefault(a.split, []).append(a)
        else:
            strata.setdefault(str(a.labels.get(stratify_task, "")), []).append(a)
    for group in strata.values():
        group = sorted(group, key=lambda a: hashlib.sha1(f"{seed}:{a.id}".encode()).hexdigest())
        n_test = round(len(group) * test_fraction)
        n_dev = round(len(group) * dev_fraction)
        for i, a in enumerate(group):
            out["test" if i < n_test else "dev" if i < n_test + n_dev else "train"].append(a)
    seen: dict[str, tuple[str, str]] = {}
    for name, arts in out.items():
        for a in arts:
            fp = _fingerprint(a)
            if fp in seen and seen[fp][0] != name:
                raise DataError(f"article {a.id!r} ({name}) has the same text as {seen[fp][1]!r} ({seen[fp][0]})")
            seen.setdefault(fp, (name, a.id))
    return out
