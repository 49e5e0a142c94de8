"""The real-text development set: published articles kept as URLs and labels, texts kept by the user.

    articles, missing = load_real_dev("data/real_dev", texts="~/real_dev_texts", tasks=tasks)

``data/real_dev/*.jsonl`` holds, per article, its URL, the query that finds it, the title, source,
date, the labels (the annotation guide's) and the SHA-1 and length of the text that was labelled.
The texts themselves are never in the repository: ``texts`` is a folder of ``<id>.txt`` files or a
JSONL file of ``{"id", "text"}``, fetched and kept by the user. An article whose text is missing
or differs from the labelled one (SHA-1) is reported, never guessed. Never train on this set.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from diploml.data.io import Article, DataError, _article, read_records
from diploml.tasks import Task

DEFAULT_DIR = "data/real_dev"
FIELDS = ("id", "url", "query", "title", "source", "date", "topic", "partners", "regions", "sectors",
          "text_sha1", "text_chars", "reviews", "note")


def read_labels(source: str | Path = DEFAULT_DIR) -> list[dict]:
    """The label records of a folder of ``*.jsonl`` files (or one file), in id order; ids must be unique."""
    path = Path(source)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise DataError(f"real-text set not found: {path}")
    out, seen = [], {}
    for f in files:
        for rec in read_records(f):
            rid = rec.data.get("id")
            if not isinstance(rid, str) or not rid:
                raise DataError(f"{rec.where}: missing 'id'")
            if rid in seen:
                raise DataError(f"{rec.where}: duplicate id {rid!r} (first at {seen[rid]})")
            if "text" in rec.data:
                raise DataError(f"{rec.where}: id {rid!r} carries a text; the real-text set keeps labels only")
            seen[rid] = rec.where
            out.append(rec.data)
    return sorted(out, key=lambda r: r["id"])


def read_texts(texts: str | Path) -> dict[str, str]:
    """Texts by id from a folder of ``<id>.txt`` files or a JSONL file of ``{"id", "text"}`` records."""
    path = Path(texts).expanduser()
    if path.is_dir():
        return {f.stem: f.read_bytes().decode("utf-8", errors="replace") for f in sorted(path.glob("*.txt"))}
    if path.is_file():
        return {str(r.data["id"]): r.data["text"] for r in read_records(path)
                if "id" in r.data and isinstance(r.data.get("text"), str)}
    raise DataError(f"--texts {path}: no such folder or JSONL file")


def load_real_dev(labels: str | Path = DEFAULT_DIR, *, texts: str | Path | None, tasks: list[Task] | None = None,
                  ) -> tuple[list[Article], dict[str, str]]:
    """Articles of the real-text set whose text the user has, and ``{id: why}`` for the others."""
    if texts is None:
        raise DataError("the real-text set keeps no texts: give --texts DIR_OR_JSONL (the articles you fetched)")
    records = read_labels(labels)
    have = read_texts(texts)
    articles, missing = [], {}
    for rec in records:
        text = have.get(rec["id"])
        if text is None:
            missing[rec["id"]] = "no text"
            continue
        sha = rec.get("text_sha1")
        if sha and hashlib.sha1(text.encode("utf-8")).hexdigest() != sha:
            missing[rec["id"]] = "text differs from the one labelled (SHA-1)"
            continue
        fields = {k: v for k, v in rec.items() if k in ("id", "topic", "partners", "regions", "sectors")}
        articles.append(_article({**fields, "text": text, "title": ""}, f"real_dev:{rec['id']}", tasks))
    return articles, missing


def events_told(records: list[dict], real: list[dict]) -> set[str]:
    """Ids of the real-text label records ``real`` (``read_labels``) whose event one of ``records`` (corpus
    records) also tells.

    Same rule as the corpus splits (``diploml.data.events.same_event``: same topic, dates within 3 days
    and a shared partner). A model trained on such a record has read about the event, so a score on the
    other articles is the blind one.
    """
    from diploml.data.events import same_event

    return {x["id"] for x in real if any(same_event(r, x) for r in records)}
