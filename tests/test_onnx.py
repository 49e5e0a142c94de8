"""ONNX export: fp32 parity with PyTorch, int8 agreement, same interface, CLI, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

import diploml
from diploml.cli import main as cli
from diploml.data import load_articles
from diploml.models.base import labels_from_results
from diploml.models.transformer.classifier import DiploClassifier
from diploml.models.transformer.onnx import OnnxClassifier

from .conftest import tiny_config

LONG = "Thủ tướng hội đàm với Tổng thống về thương mại, đầu tư và giáo dục. " * 60  # many windows


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny model trained on the bundled sample's train split (thresholds tuned on dev), exported by the CLI."""
    tmp = tmp_path_factory.mktemp("onnx")
    cfg = tiny_config(tmp, training={"epochs": 10, "batch_size": 8, "eval_strategy": "no"})
    clf = DiploClassifier(cfg, random_state=0)
    arts = load_articles("bundled:tiny_sample", clf.tasks)
    clf.fit([a for a in arts if a.split == "train"], dev=[a for a in arts if a.split == "dev"])
    clf.save(tmp / "run")
    assert cli(["export", "--model", str(tmp / "run"), "--format", "onnx", "--int8"]) == 0
    texts = [a.full_text for a in arts] + [LONG, "x"]
    return tmp / "run", clf, texts


def test_export_writes_both_graphs(run):
    path, clf, _ = run
    assert (path / "onnx" / "model.onnx").is_file() and (path / "onnx" / "model.int8.onnx").is_file()
    info = json.loads((path / "onnx" / "export.json").read_text())
    assert info["tasks"] == [t.name for t in clf.model_tasks]  # derived regions have no head
    assert "partners" in info["tasks"] and "mention_index" in info["inputs"]
    assert not [p for p in (path / "onnx").iterdir() if p.name.startswith(".tmp")]


def test_fp32_probabilities_match_pytorch(run):
    path, clf, texts = run
    onnx = diploml.load(path, backend="onnx")
    assert isinstance(onnx, OnnxClassifier)
    ref = clf.predict_proba(texts)
    # batch 1 and 32: the graph has no baked-in article, window or token count
    for batch_size in (1, 32):
        got = onnx.predict_proba(texts, batch_size=batch_size)
        for t in clf.tasks:
            if t.mentions:  # the partners head: same candidates, same probabilities
                assert [g.keys() for g in got[t.name]] == [r.keys() for r in ref[t.name]]
                assert sum(len(r) for r in ref[t.name]) > 0
                for g, r in zip(got[t.name], ref[t.name], strict=True):
                    np.testing.assert_allclose([g[c] for c in r], list(r.values()), atol=1e-4, rtol=0)
                continue
            assert got[t.name].shape == ref[t.name].shape
            np.testing.assert_allclose(got[t.name], ref[t.name], atol=1e-4, rtol=0)


def test_int8_agrees_with_pytorch(run):
    """PyTorch decisions are the reference: same topic on >= 98%, region/sector micro F1 against them >= 0.99."""
    path, clf, texts = run
    int8 = diploml.load(path, backend="onnx-int8")
    ref = labels_from_results(clf.predict(texts, evidence=False), clf.tasks)
    got = labels_from_results(int8.predict(texts, evidence=False), clf.tasks)
    same_topic = np.mean([a == b for a, b in zip(ref["topic"], got["topic"], strict=True)])
    assert same_topic >= 0.98
    for task in clf.tasks:
        if task.mentions:  # partner decisions: micro F1 over (article, code) pairs
            pairs_ref = {(i, c) for i, row in enumerate(ref[task.name]) for c in row}
            pairs_got = {(i, c) for i, row in enumerate(got[task.name]) for c in row}
            assert pairs_ref, "the reference predicts no partner: the comparison would be vacuous"
            f1 = 2 * len(pairs_ref & pairs_got) / (len(pairs_ref) + len(pairs_got))
            assert f1 >= 0.98
            continue
        if not task.multi_label:
            continue
        y_ref = np.array([[lab in row for lab in task.labels] for row in ref[task.name]])
        y_got = np.array([[lab in row for lab in task.labels] for row in got[task.name]])
        assert y_ref.sum() > 0, f"{task.name}: reference predicts nothing, the comparison would be vacuous"
        assert f1_score(y_ref, y_got, average="micro") >= 0.99, task.name


def test_same_interface(run):
    path, clf, texts = run
    onnx = diploml.load(path, backend="onnx")
    assert [t.name for t in onnx.tasks] == [t.name for t in clf.tasks]
    assert set(onnx.thresholds) == set(clf.thresholds)
    a, b = onnx.predict(texts[:3]), clf.predict(texts[:3])
    assert [r.keys() for r in a] == [r.keys() for r in b]
    assert [r["topic"]["label"] for r in a] == [r["topic"]["label"] for r in b]
    assert onnx.predict_proba([])["topic"].shape == (0, len(clf.tasks[0].labels))


def test_predict_cli_with_onnx_backend(run, tmp_path, capsys):
    path, _, _ = run
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"n{i}", "text": t}) for i, t in enumerate(["Hà Nội", LONG, " "])),
                   "utf-8")
    out = tmp_path / "out.jsonl"
    assert cli(["predict", "--model", str(path), str(src), "-o", str(out), "--backend", "onnx-int8",
                "--no-progress"]) == 0
    recs = {r["id"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    assert sorted(recs) == ["n0", "n1", "n2"]
    assert "topic" in recs["n1"] and recs["n2"]["error"] == "empty text"
    assert "2 predicted, 1 errors" in capsys.readouterr().err


def test_missing_export_and_wrong_backend_are_clear(run, tmp_path, capsys):
    path, clf, _ = run
    bare = tmp_path / "bare"
    clf.save(bare)
    with pytest.raises(FileNotFoundError, match="diploml export --model .* --format onnx --int8"):
        diploml.load(bare, backend="onnx-int8")
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'"):
        diploml.load(bare, backend="tensorrt")
    assert cli(["export", "--model", str(tmp_path / "missing"), "--format", "onnx"]) == 2
    assert "model directory not found" in capsys.readouterr().err


def test_onnx_backend_needs_a_transformer(tmp_path):
    from diploml.models.rules import RuleClassifier

    RuleClassifier().save(tmp_path / "rules")
    with pytest.raises(ValueError, match="needs a transformer model"):
        diploml.load(tmp_path / "rules", backend="onnx")
    assert cli(["export", "--model", str(tmp_path / "rules"), "--format", "onnx"]) == 2


def test_export_of_older_weights_is_refused(run, tmp_path):
    import shutil

    import torch

    path, clf, _ = run
    copy = Path(shutil.copytree(path, tmp_path / "retrained"))
    retrained = diploml.load(copy)
    with torch.no_grad():
        retrained.model.heads["topic"].bias.add_(1.0)
    retrained.save(copy)  # as if trained again into the same run directory: onnx/ is left as it was
    with pytest.raises(ValueError, match="stale"):
        diploml.load(copy, backend="onnx")
