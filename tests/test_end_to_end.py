"""Scripts end to end on configs/tiny.yaml: train -> evaluate (test, seeds) -> predict (seeds/)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def script(name):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("e2e") / "tiny"
    assert script("train").main(["--config", "configs/tiny.yaml", "--output-dir", str(run)]) == 0
    return run


def test_run_directory_describes_itself(tiny_run):
    for name in ("diploml.json", "model.safetensors", "config.yaml", "label_maps.json", "thresholds.json",
                 "versions.json", "metrics_dev.json", "train_log.jsonl", "README.md", "tokenizer", "encoder"):
        assert (tiny_run / name).exists(), name
    maps = json.loads((tiny_run / "label_maps.json").read_text())
    assert maps["topic"]["kind"] == "single_label" and len(maps["sectors"]["labels"]) == 16
    # regions follow from the partners, so they have no threshold of their own
    assert set(json.loads((tiny_run / "thresholds.json").read_text())) == {"partners", "sectors"}
    assert maps["partners"]["kind"] == "mentions"
    assert not (tiny_run / "checkpoints").exists()


def test_evaluate_beats_chance(tiny_run, tmp_path):
    out = tmp_path / "eval"
    assert script("evaluate").main(["--model", str(tiny_run), "--data", "test", "--output", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["topic"]["accuracy"] > 1 / 8 + 0.15  # 8 balanced topics: chance is 0.125
    assert m["topic"]["confusion_matrix"] and "hamming_loss" in m["sectors"]
    for f in ("report.md", "topic_confusion.png", "topic_per_label_f1.png", "sectors_per_label_f1.png"):
        assert (out / f).stat().st_size > 0, f
    seeds = tmp_path / "seeds"
    assert script("evaluate").main(["--model", str(tiny_run), "--data", "seeds", "--output", str(seeds)]) == 0
    assert json.loads((seeds / "metrics.json").read_text())["topic"]["n"] == 5


def test_predict_seeds_all_tasks(tiny_run, tmp_path):
    out = tmp_path / "pred.jsonl"
    assert script("predict").main(["--model", str(tiny_run), "seeds", "-o", str(out), "--no-progress"]) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in recs) == sorted(p.stem for p in (ROOT / "seeds").glob("*.txt"))
    for r in recs:
        assert "label" in r["topic"] and isinstance(r["regions"], list) and isinstance(r["sectors"], list)
        assert set(r["probabilities"]) == {"topic", "regions", "sectors", "partners"}
        assert {d["label"] for d in r["partners"]} <= set(r["probabilities"]["partners"])


def test_evaluate_reports_bad_data_spec(tiny_run, capsys):
    assert script("evaluate").main(["--model", str(tiny_run), "--data", "nowhere.jsonl"]) == 2
    assert "nowhere.jsonl" in capsys.readouterr().err
