"""Nothing lost, nothing executed, nothing confusing (issue #12): one test per case of the bad-input table
in docs/production.md that the other test files do not cover, and a property test of predict_file."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diploml
from diploml.cli import main as cli
from diploml.data import DataError
from diploml.models.base import Model
from diploml.predict import OutputError, _Lock, iter_inputs, predict_file
from diploml.tasks import load_task_schema

from .conftest import easy_articles, tiny_config

ROOT = Path(__file__).resolve().parents[1]


class FakeModel(Model):
    """Deterministic and fast: probabilities from the text length."""

    model_type = "fake"

    def __init__(self):
        self.config = diploml.RunConfig()
        self.tasks = [t for t in load_task_schema("diplomatic_news") if not t.mentions]
        self.thresholds = {}

    def predict_proba(self, texts, *, batch_size=None, progress=False):
        out = {}
        for t in self.tasks:
            p = np.full((len(texts), len(t.labels)), 0.1)
            for i, text in enumerate(texts):
                p[i, len(text) % len(t.labels)] = 0.9
            out[t.name] = p
        return out

    def predict(self, texts, *, evidence=False, batch_size=None, progress=False):
        return super().predict(texts, evidence=False)


VI = "Thủ tướng tiếp Đại sứ Nhật Bản tại Hà Nội; hai bên nhất trí thúc đẩy hợp tác thương mại, đầu tư và lao động."


def jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


@pytest.fixture(scope="module")
def rules_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "run"
    diploml.RuleClassifier().save(path)
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny")
    cfg = tiny_config(tmp, training={"epochs": 1, "eval_strategy": "no"})
    return diploml.DiploClassifier(cfg).fit(easy_articles()).save(tmp / "run")


# ---- data loss ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
@pytest.mark.parametrize("resume", [False, True])
def test_output_equal_to_input_is_refused_and_input_kept(rules_run, tmp_path, capsys, suffix, resume):
    src = tmp_path / f"in{suffix}"
    src.write_text('{"id": "a", "text": "x"}\n' if suffix == ".jsonl" else "id,text\na,x\n", "utf-8")
    before = src.read_bytes()
    argv = ["predict", "--model", str(rules_run), str(src), "-o", str(src), "--no-progress"]
    assert cli(argv + (["--resume"] if resume else [])) == 2
    assert "is the input file" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_missing_input_leaves_the_output_alone(rules_run, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "old"}\n')
    assert cli(["predict", "--model", str(rules_run), str(tmp_path / "nope.jsonl"), "-o", str(out)]) == 2
    assert "input not found" in capsys.readouterr().err and out.read_text() == '{"id": "old"}\n'


def test_existing_output_needs_resume_or_overwrite(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": VI}, {"id": "b", "text": VI + " x"}])
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "z", "topic": "kept"}\n')
    with pytest.raises(OutputError, match="already holds results"):
        predict_file(FakeModel(), src, out, progress=False)
    assert out.read_text() == '{"id": "z", "topic": "kept"}\n'
    counts = predict_file(FakeModel(), src, out, overwrite=True, progress=False)
    assert counts["ok"] == 2 and [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "b"]
    assert not list(tmp_path.glob(".out.jsonl*"))  # no partial file or lock left behind


def test_a_second_job_on_the_same_output_is_refused(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": VI}])
    out = tmp_path / "out.jsonl"
    with _Lock(out), pytest.raises(OutputError, match="being written by another job"):
        predict_file(FakeModel(), src, out, resume=True, progress=False)
    assert not out.exists()


def test_output_folder_and_corrupt_resume_line_are_named(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": VI}])
    with pytest.raises(OutputError, match="is a folder"):
        predict_file(FakeModel(), src, tmp_path, progress=False)
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\n{broken\n{"id": "c"}\n')
    with pytest.raises(OutputError, match=r"out.jsonl:2: not a result line"):
        predict_file(FakeModel(), src, out, resume=True, progress=False)
    out.write_text('{"topic": "x"}\n')
    with pytest.raises(OutputError, match=r"out.jsonl:1: a result line without an id"):
        predict_file(FakeModel(), src, out, resume=True, progress=False)


# ---- no code execution -------------------------------------------------------------------------

def test_tfidf_runs_hold_no_pickle_and_old_pickles_are_refused(tmp_path):
    cfg = diploml.load_config(ROOT / "configs" / "tfidf.yaml")
    run = diploml.TfidfClassifier(cfg).fit(easy_articles()).save(tmp_path / "tfidf")
    for f in run.rglob("*"):
        assert not f.read_bytes().startswith(b"\x80"), f"{f} looks like a pickle"
    (run / "tfidf.safetensors").unlink()
    (run / "tfidf.joblib").write_bytes(b"\x80\x04crafted")
    with pytest.raises(ValueError, match="pickle"):
        diploml.load(run)


def test_manifest_edited_to_another_model_type_is_refused(tiny_run, tmp_path):
    run = Path(shutil.copytree(tiny_run, tmp_path / "run"))
    manifest = json.loads((run / "diploml.json").read_text())
    (run / "diploml.json").write_text(json.dumps({**manifest, "model_type": "tfidf"}))
    with pytest.raises(ValueError, match="says model_type 'tfidf' but config.yaml says 'transformer'"):
        diploml.load(run)


# ---- input -------------------------------------------------------------------------------------

def test_csv_with_bom_long_field_and_header_without_text(tmp_path):
    bom = tmp_path / "excel.csv"
    bom.write_bytes("\ufeffid,text\nx1,bài một\n".encode())
    assert [(r.id, r.error) for r in iter_inputs(bom)] == [("x1", None)]
    big = tmp_path / "big.csv"
    big.write_text(f"id,text\nok1,{VI}\nhuge,{'x' * 200_000}\nok2,{VI}\n", "utf-8")
    recs = list(iter_inputs(big, max_chars=150_000))
    assert [r.id for r in recs] == ["ok1", "huge", "ok2"] and recs[1].error.startswith("article too long")
    nohead = tmp_path / "nohead.csv"
    nohead.write_text("id,body\na,b\nc,d\n", "utf-8")
    with pytest.raises(DataError, match=r"no 'text' column \(columns found: id, body\)"):
        list(iter_inputs(nohead))


def test_jsonl_field_types_ids_and_duplicates(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [
        {"id": 0, "text": VI}, {"id": 1, "text": VI}, {"id": "1", "text": VI}, {"id": 1, "text": VI},
        {"id": "n", "text": 5}, {"id": "l", "text": ["a"]}, {"id": "z", "text": None}, {"id": [1], "text": VI},
    ])
    out = tmp_path / "out.jsonl"
    predict_file(FakeModel(), src, out, progress=False)
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(recs) == 8
    assert [r["id"] for r in recs[:3]] == [0, 1, "1"] and all("error" not in r for r in recs[:3])
    assert recs[3]["error"] == "duplicate id 1 in input"
    assert [r["error"] for r in recs[4:7]] == ["field 'text' must be a string, got a number",
                                               "field 'text' must be a string, got a list",
                                               "field 'text' must be a string, got null"]
    assert recs[7]["error"] == "field 'id' must be a string or an integer, got a list"


def test_html_pages_are_stripped_and_odd_text_is_flagged(tmp_path):
    model = FakeModel()
    page = f"<html><head><script>var topic = 'phone_call';</script></head><body><p>{VI}</p></body></html>"
    assert model.prepare(page) == VI
    results = model.predict([VI * 2, "The minister met the ambassador of Japan to discuss trade. " * 5, "x", "..."])
    assert "warning" not in results[0]
    assert "does not look like Vietnamese" in results[1]["warning"]
    assert all("near-empty" in r["warning"] for r in results[2:])
    with pytest.raises(TypeError, match="one string"):
        model.predict(VI)


def test_every_record_failing_exits_non_zero(rules_run, tmp_path, capsys):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": ""}, {"id": "b"}])
    assert cli(["predict", "--model", str(rules_run), str(src), "-o", str(tmp_path / "o.jsonl"),
                "--no-progress"]) == 1
    assert "every record failed" in capsys.readouterr().err


# ---- errors ------------------------------------------------------------------------------------

def test_truncated_weights_give_a_clear_error(tiny_run, tmp_path):
    run = Path(shutil.copytree(tiny_run, tmp_path / "run"))
    data = (run / "model.safetensors").read_bytes()
    (run / "model.safetensors").write_bytes(data[: len(data) // 2])
    proc = subprocess.run([sys.executable, "scripts/predict.py", "--model", str(run), "seeds", "-o",
                           str(tmp_path / "o.jsonl")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "model.safetensors" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_edited_config_is_refused(tiny_run, tmp_path):
    run = Path(shutil.copytree(tiny_run, tmp_path / "run"))
    cfg = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(cfg.replace("max_length: 64", "max_length: 48"))
    with pytest.raises(ValueError, match="was edited after training"):
        diploml.load(run)


def test_training_data_without_a_task_fails_before_training(tmp_path):
    arts = easy_articles()
    del arts[3].labels["topic"]
    cfg = tiny_config(tmp_path)
    with pytest.raises(DataError, match="carry no 'topic' label \\(first: id 'a3'\\)"):
        diploml.DiploClassifier(cfg).fit(arts)


def test_training_into_a_used_directory(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "--config", "configs/rules.yaml", "--output-dir", str(run)]
    assert cli(argv) == 0
    (run / "stale-report.md").write_text("old")
    assert cli(argv) == 2 and "already holds another run" in capsys.readouterr().err
    assert cli(argv + ["--overwrite"]) == 0
    assert not (run / "stale-report.md").exists() and (run / "diploml.json").exists()


def test_cli_help_is_plain_and_imports_no_torch():
    proc = subprocess.run([sys.executable, "-m", "diploml.cli", "predict", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "``" not in proc.stdout and "(default: 16)" in proc.stdout
    code = "import sys; from diploml.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True).stdout == "False\n"
    assert subprocess.run([sys.executable, "-m", "diploml.cli", "--version"], capture_output=True, text=True,
                          cwd=ROOT).stdout.startswith("diploml ")


def test_quickstart_installs_the_test_tools():
    text = (ROOT / "scripts" / "quickstart.sh").read_text()
    assert '-e ".[dev]"' in text


# ---- property test -----------------------------------------------------------------------------

def _expected_jsonl_records(data: bytes) -> int:
    n = 0
    for raw in io.BytesIO(data):
        try:
            if raw.decode("utf-8").strip():
                n += 1
        except UnicodeDecodeError:
            n += 1
    return n


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                           max_leaves=6)
records = st.dictionaries(st.sampled_from(["id", "text", "title", "x"]), json_values, max_size=4)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(lines=st.lists(st.one_of(st.binary(max_size=40), records.map(lambda r: json.dumps(r).encode()),
                                st.just(b"")), max_size=8))
def test_predict_file_on_random_jsonl(tmp_path_factory, lines):
    tmp = tmp_path_factory.mktemp("prop")
    data = b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n"
    src = tmp / "in.jsonl"
    src.write_bytes(data)
    out = tmp / "out.jsonl"
    predict_file(FakeModel(), src, out, progress=False)
    assert src.read_bytes() == data
    written = out.read_text("utf-8").split("\n")[:-1]  # not splitlines: U+0085 and U+2028 are inside lines
    assert len(written) == _expected_jsonl_records(data)
    assert all("id" in json.loads(x) for x in written)


@SETTINGS
@given(rows=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=60), st.text(max_size=10)), max_size=8))
def test_predict_file_on_random_csv(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("propcsv")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "text", "title"])
    w.writerows(rows)
    src = tmp / "in.csv"
    src.write_text(buf.getvalue(), "utf-8", newline="")
    before = src.read_bytes()
    out = tmp / "out.jsonl"
    predict_file(FakeModel(), src, out, progress=False)
    assert src.read_bytes() == before
    assert len(out.read_text("utf-8").split("\n")[:-1]) == len(list(csv.reader(io.StringIO(buf.getvalue())))) - 1


def test_fingerprint_is_of_the_file_as_written(tiny_run):
    """Loading hashes config.yaml's own mapping, so keys a later diploml adds (with defaults) do not make
    an older run directory look edited."""
    import yaml

    from diploml import rundir

    manifest = json.loads((tiny_run / "diploml.json").read_text())
    raw = yaml.safe_load((tiny_run / "config.yaml").read_text())
    assert rundir.config_fingerprint(raw) == manifest["config_sha256"]
    raw["evaluation"].pop("rule_prior")  # as if written before the key existed
    assert rundir.config_fingerprint(raw) != manifest["config_sha256"]
