"""The real-text set: labels and URLs in the repository, texts joined from the user's copies, never guessed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from diploml.data import DataError
from diploml.data.real_dev import FIELDS, load_real_dev, read_labels
from diploml.partners import regions_of
from diploml.tasks import load_task_schema

ROOT = Path(__file__).resolve().parents[1]
TASKS = load_task_schema("diplomatic_news")


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _set(tmp_path, texts: dict[str, str]) -> Path:
    labels = tmp_path / "labels"
    labels.mkdir()
    recs = [{"id": k, "url": f"https://example.org/{k}", "query": "q", "title": "t", "topic": "meeting",
             "partners": ["JP"], "regions": ["northeast_asia"], "sectors": [], "text_sha1": _sha(v)}
            for k, v in texts.items()]
    (labels / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), "utf-8")
    return labels


def test_texts_are_joined_and_missing_or_changed_ones_reported(tmp_path):
    labels = _set(tmp_path, {"r1": "Thủ tướng tiếp Đại sứ Nhật Bản.", "r2": "Hai", "r3": "Ba"})
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "r1.txt").write_text("Thủ tướng tiếp Đại sứ Nhật Bản.", "utf-8")
    (texts / "r2.txt").write_text("Hai, edited", "utf-8")
    articles, missing = load_real_dev(labels, texts=texts, tasks=TASKS)
    assert [a.id for a in articles] == ["r1"] and articles[0].labels["topic"] == "meeting"
    assert missing == {"r2": "text differs from the one labelled (SHA-1)", "r3": "no text"}
    jsonl = tmp_path / "texts.jsonl"
    jsonl.write_text(json.dumps({"id": "r3", "text": "Ba"}) + "\n", "utf-8")
    articles, missing = load_real_dev(labels, texts=jsonl, tasks=TASKS)
    assert [a.id for a in articles] == ["r3"] and set(missing) == {"r1", "r2"}
    with pytest.raises(DataError, match="--texts"):
        load_real_dev(labels, texts=None)


def test_a_text_in_the_labels_is_refused(tmp_path):
    labels = tmp_path / "l.jsonl"
    labels.write_text(json.dumps({"id": "x", "text": "copied article"}) + "\n")
    with pytest.raises(DataError, match="labels only"):
        read_labels(labels)


def test_the_committed_set_is_labels_and_facts_only():
    records = read_labels(ROOT / "data" / "real_dev")
    assert records
    topics = {t.name: t for t in TASKS}
    for r in records:
        assert set(r) <= set(FIELDS), set(r) - set(FIELDS)
        assert r["url"].startswith("http") and r["query"] and len(r["text_sha1"]) == 40
        assert r["topic"] in topics["topic"].labels
        assert set(r["sectors"]) <= set(topics["sectors"].labels)
        assert sorted(r["regions"]) == regions_of(r["partners"]), r["id"]


def test_evaluate_real_dev_through_the_cli(tmp_path, capsys):
    import diploml
    from diploml.cli import main

    texts = {"r1": "Thủ tướng tiếp Đại sứ Nhật Bản tại Hà Nội.", "r2": "Hai"}
    labels = _set(tmp_path, texts)
    run = diploml.RuleClassifier().save(tmp_path / "rules")
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "r1.txt").write_text(texts["r1"], "utf-8")
    import diploml.data.real_dev as rd

    old = rd.DEFAULT_DIR
    rd.DEFAULT_DIR = str(labels)
    try:
        assert main(["evaluate", "--model", str(run), "--data", "real_dev", "--texts", str(folder),
                     "--output", str(tmp_path / "rep")]) == 0
    finally:
        rd.DEFAULT_DIR = old
    assert json.loads((tmp_path / "rep" / "metrics.json").read_text())["topic"]["n"] == 1
