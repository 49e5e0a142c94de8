"""Bad input the other test files do not cover (see docs/production.md for the full table):
configs that are not mappings or not UTF-8, empty and whitespace-only texts through the model,
a 10 MB article, empty input files, non-UTF-8 CSV, and a 10,000-article job killed and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from diploml.config import ConfigError, RunConfig, load_config
from diploml.data import DataError
from diploml.models.base import Model
from diploml.predict import iter_inputs, predict_file
from diploml.tasks import load_task_schema

ROOT = Path(__file__).resolve().parents[1]


class CheapModel(Model):
    """Deterministic stand-in: probabilities from a hash of the text; no partner look-up (speed)."""

    model_type = "test"

    def __init__(self, delay: float = 0.0):
        self.config = RunConfig()
        self.tasks = [t for t in load_task_schema("diplomatic_news") if not t.mentions]
        self.thresholds = {}
        self.delay = delay
        self.texts: list[str] = []

    def predict_proba(self, texts, *, batch_size=None, progress=False):
        self.texts += texts
        time.sleep(self.delay)  # lets a test kill the job halfway
        out = {}
        for t in self.tasks:
            p = np.full((len(texts), len(t.labels)), 0.1)
            for i, text in enumerate(texts):
                p[i, sum(map(ord, text)) % len(t.labels)] = 0.9
            out[t.name] = p
        return out

    def predict(self, texts, *, evidence=False, batch_size=None, progress=False):
        return super().predict(texts, evidence=False)


# ---- configs ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b"- training\n- model\n", "expected a mapping of sections, got list"),
    (b"just a string\n", "expected a mapping of sections, got str"),
    (b"name: caf\xe9\n", "not UTF-8 text"),
    (b"training:\n", "training: Input should be a valid dictionary"),
    (b"training:\n\tepochs: 1\n", r"bad.yaml:2:1: invalid YAML"),
])
def test_config_shapes_that_are_not_configs(tmp_path, content, message):
    p = tmp_path / "bad.yaml"
    p.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_config(p)


def test_override_with_wrong_type_names_key_and_value():
    with pytest.raises(ConfigError, match=r"training\.batch_size: .*'many'"):
        load_config(ROOT / "configs" / "tiny.yaml", ["training.batch_size=many"])


# ---- texts through the model ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_model():
    """An untrained tiny transformer: enough to check shapes and that nothing crashes."""
    from diploml.models.transformer.classifier import DiploClassifier
    from diploml.models.transformer.encoder import build_encoder, build_model

    cfg = load_config(ROOT / "configs" / "tiny.yaml")
    clf = DiploClassifier(cfg)
    encoder, clf.tokenizer = build_encoder(cfg.model, seed=0)
    clf.model = build_model(encoder, clf.model_tasks, cfg.model, cfg.tasks).eval()
    return clf


def test_empty_and_whitespace_texts_through_the_model(tiny_model):
    """Documented handling: the model API accepts them (one [CLS] [SEP] window); predict_file rejects them."""
    texts = ["", "   ", "\n\t\u00a0\u3000", "Hà Nội"]
    probas = tiny_model.predict_proba(texts)
    for t in tiny_model.tasks:
        if t.mentions:
            assert probas[t.name] == [{}, {}, {}, {}]  # no candidates in these texts
            continue
        assert probas[t.name].shape == (4, len(t.labels)) and np.isfinite(probas[t.name]).all()
    assert len(tiny_model.predict(texts)) == 4


def test_ten_megabyte_article_is_an_error_record_not_a_crash(tmp_path):
    src = tmp_path / "in.jsonl"
    huge = "Bộ trưởng Ngoại giao hội đàm. " * 350_000  # about 10 MB of UTF-8
    assert len(huge.encode()) > 10_000_000
    with open(src, "w", encoding="utf-8") as f:
        for rid, text in (("before", "Hà Nội"), ("huge", huge), ("after", "Hải Phòng")):
            f.write(json.dumps({"id": rid, "text": text}, ensure_ascii=False) + "\n")
    model = CheapModel()
    counts = predict_file(model, src, tmp_path / "out.jsonl", progress=False)
    recs = {r["id"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text("utf-8").splitlines())}
    assert counts == {"ok": 2, "error": 1, "skipped": 0}
    assert recs["huge"]["error"].startswith("article too long: 10")
    assert "topic" in recs["before"] and "topic" in recs["after"]
    assert all(len(t) < 100 for t in model.texts)  # the huge text never reached the model


# ---- input files ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, content", [("empty.jsonl", ""), ("blank.jsonl", "\n\n  \n"), ("empty.csv", ""),
                                           ("header.csv", "id,title,text\n")])
def test_empty_input_file_gives_empty_output(tmp_path, name, content):
    src = tmp_path / name
    src.write_text(content, "utf-8")
    for out in (tmp_path / "out.jsonl", tmp_path / "out.csv"):
        assert predict_file(CheapModel(), src, out, progress=False) == {"ok": 0, "error": 0, "skipped": 0}
        assert out.exists()
    assert (tmp_path / "out.jsonl").read_text() == ""
    assert (tmp_path / "out.csv").read_text().startswith("id,topic")


def test_empty_input_through_the_script(tmp_path):
    from diploml.models.rules import RuleClassifier

    RuleClassifier().save(tmp_path / "rules")
    (tmp_path / "empty.jsonl").write_text("")
    proc = subprocess.run([sys.executable, "scripts/predict.py", "--model", str(tmp_path / "rules"),
                           str(tmp_path / "empty.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "0 predicted, 0 errors" in proc.stderr


def test_folder_without_txt_files(tmp_path):
    (tmp_path / "notes.md").write_text("x")
    with pytest.raises(DataError, match="folder holds no .txt files"):
        list(iter_inputs(tmp_path))


def _non_utf8_csv(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes("id,title,text\nok1,,Hà Nội\n".encode() + b"bad,,caf\xe9\nok2,,H\xc3\xa0\n")
    counts = predict_file(CheapModel(), src, tmp_path / "out.jsonl", progress=False)
    return counts, [json.loads(line) for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]


def test_non_utf8_csv_row_is_an_error_record_and_the_others_are_kept(tmp_path):
    counts, recs = _non_utf8_csv(tmp_path)
    assert counts == {"ok": 2, "error": 1, "skipped": 0}
    assert {r["id"]: r.get("error") for r in recs} == {"ok1": None, "bad": "invalid UTF-8", "ok2": None}


# ---- a 10,000-article job killed halfway --------------------------------------------------------------------

N = 10_000


def _drive(src: str, out: str, resume: bool) -> None:
    """Entry point of the child process: slow enough (1 ms per batch of 16) to be killed mid-stream."""
    predict_file(CheapModel(delay=0.001), src, out, batch_size=16, resume=resume, progress=False)


def _job(src: Path, out: Path, resume: bool) -> subprocess.Popen:
    code = f"from tests.test_bad_input import _drive; _drive({str(src)!r}, {str(out)!r}, {resume})"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_killed_job_resumes_to_exactly_n_records(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for i in range(N):
            f.write(json.dumps({"id": f"a{i}", "text": f"Bài báo số {i} về hợp tác."}, ensure_ascii=False) + "\n")
    proc = _job(src, out, resume=False)
    deadline = time.monotonic() + 120
    while not out.exists() or out.read_bytes().count(b"\n") < N // 2:
        assert proc.poll() is None, "the job finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # no clean-up: the last line may be torn
    proc.wait(timeout=30)
    written = out.read_bytes().count(b"\n")
    assert N // 2 <= written < N
    assert _job(src, out, resume=True).wait(timeout=120) == 0
    ids = [json.loads(line)["id"] for line in out.read_text("utf-8").splitlines()]
    assert len(ids) == N and len(set(ids)) == N
    assert set(ids) == {f"a{i}" for i in range(N)}
