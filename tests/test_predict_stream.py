"""Streaming prediction: error records, resume without duplicates, CSV output, stdin-like inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from diploml.config import RunConfig
from diploml.data import DataError
from diploml.models.base import Model
from diploml.predict import done_ids, iter_inputs, predict_file
from diploml.tasks import load_task_schema


class CountingModel(Model):
    """Deterministic stand-in model: probabilities from text length; counts calls."""

    model_type = "test"

    def __init__(self):
        self.config = RunConfig()
        self.tasks = [t for t in load_task_schema("diplomatic_news") if not t.mentions]
        self.thresholds = {}
        self.seen = 0

    def predict_proba(self, texts, *, batch_size=None, progress=False):
        self.seen += len(texts)
        n = len(texts)
        out = {}
        for t in self.tasks:
            p = np.full((n, len(t.labels)), 0.1)
            for i, text in enumerate(texts):
                p[i, len(text) % len(t.labels)] = 0.9
            out[t.name] = p
        return out


def _write(path, n, bad=()):
    with open(path, "wb") as f:
        for i in range(n):
            if i in bad:
                f.write(b'{"id": "broken", "text": "\xff\xfe"}\n' if i % 2 else b"{not json\n")
            else:
                f.write(json.dumps({"id": f"a{i}", "title": "T", "text": f"bài {i}" * (i % 5 + 1)},
                                   ensure_ascii=False).encode() + b"\n")
    return path


def test_bad_records_become_error_records(tmp_path):
    src = tmp_path / "in.jsonl"
    _write(src, 6, bad={2, 3})
    with open(src, "a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "empty", "text": "   "}) + "\n")
        f.write(json.dumps({"id": "notext", "title": "x"}) + "\n")
        f.write(json.dumps({"id": "huge", "text": "x" * 5000}) + "\n")
        f.write(json.dumps({"id": "a0", "text": "again"}) + "\n")
    out = tmp_path / "out.jsonl"
    counts = predict_file(CountingModel(), src, out, batch_size=2, max_chars=1000, progress=False)
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    errors = {r["id"]: r["error"] for r in recs if "error" in r}
    assert counts == {"ok": 4, "error": 6, "skipped": 0}
    assert errors["empty"] == "empty text"
    assert errors["notext"] == "missing field 'text'"
    assert errors["huge"].startswith("article too long")
    assert errors["a0 (repeated)"] == "duplicate id 'a0' in input"
    assert [r["id"] for r in recs].count("a0") == 1  # the first a0 keeps its id, once
    assert any("invalid JSON" in e for e in errors.values()) and any("UTF-8" in e for e in errors.values())


def test_resume_after_interruption_gives_each_id_once(tmp_path):
    src = _write(tmp_path / "in.jsonl", 50)
    out = tmp_path / "out.jsonl"
    predict_file(CountingModel(), src, out, batch_size=8, progress=False)
    full = out.read_text().splitlines()
    # simulate a kill: keep 20 lines and half of the 21st
    out.write_text("\n".join(full[:20]) + "\n" + full[20][:15])
    model = CountingModel()
    counts = predict_file(model, src, out, batch_size=8, resume=True, progress=False)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(ids) == 50 and len(set(ids)) == 50
    assert counts["skipped"] == 20 and model.seen == 30
    assert out.read_text().splitlines() == full


def test_csv_output_and_inputs(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,title,text\nx1,Tiêu đề,Nội dung một\nx2,,Nội dung hai\n", "utf-8")
    out = tmp_path / "out.csv"
    counts = predict_file(CountingModel(), src, out, progress=False)
    assert counts["ok"] == 2
    lines = out.read_text().splitlines()
    assert lines[0].startswith("id,topic,topic_probability,regions,sectors")
    assert done_ids(out) == {"x1", "x2"}


def test_folder_input_and_missing_input(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "one.txt").write_text("Một bài", "utf-8")
    (tmp_path / "d" / "bad.txt").write_bytes(b"\xff\xfe\x00")
    recs = {r.id: r for r in iter_inputs(tmp_path / "d")}
    assert recs["one"].error is None and recs["bad"].error.startswith("not UTF-8")
    with pytest.raises(DataError, match="input not found"):
        list(iter_inputs(tmp_path / "missing.jsonl"))
