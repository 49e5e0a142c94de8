"""Fault tolerance: SIGTERM/SIGINT mid-training leaves a complete checkpoint and no run directory;
``--resume`` reaches the same final model as an uninterrupted run; broken run directories fail clearly."""

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

import diploml
from diploml import rundir
from diploml.models.transformer.trainer import _last_checkpoint

ROOT = Path(__file__).resolve().parents[1]
# 16 articles, 4 per step, a checkpoint every epoch (4 steps), 8 epochs: 32 steps in all.
ARGS = ["--config", "configs/tiny.yaml", "data.limit=16", "training.epochs=8", "training.batch_size=4",
        "training.train_windows=1", "training.eval_strategy=no", "training.save_total_limit=2",
        "training.logging_steps=1000"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}


def _cmd(out: Path, *extra) -> list[str]:
    return [sys.executable, "scripts/train.py", *ARGS, "--output-dir", str(out), *extra]


def _interrupt(out: Path, sig: int) -> subprocess.CompletedProcess:
    """Start training, send ``sig`` once the first complete checkpoint exists, wait for the process to stop."""
    proc = subprocess.Popen(_cmd(out), cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while _last_checkpoint(out / "checkpoints") is None:
        assert proc.poll() is None, "training ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint after 240 s"
        time.sleep(0.05)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=240)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _step(checkpoint: str) -> int:
    return int(Path(checkpoint).name.split("-")[1])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("resume") / "full"
    proc = subprocess.run(_cmd(out), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_sigterm_then_resume_matches_uninterrupted_run(reference, tmp_path):
    out = tmp_path / "run"
    proc = _interrupt(out, signal.SIGTERM)
    assert proc.returncode != 0
    assert "training stopped by SIGTERM" in proc.stderr
    # No run directory from a half-trained model, and a complete checkpoint to resume from.
    assert not (out / "diploml.json").exists()
    last = _last_checkpoint(out / "checkpoints")
    assert last is not None and 4 <= _step(last) < 32
    with pytest.raises(ValueError, match="diploml.json is missing"):
        diploml.load(out)

    resumed = subprocess.run(_cmd(out, "--resume"), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((out / "metrics_train.json").read_text())["global_step"] == 32

    a, b = diploml.load(reference), diploml.load(out)
    texts = [a.full_text for a in diploml.load_articles("bundled:tiny_sample")[:24]]
    pa, pb = a.predict_proba(texts), b.predict_proba(texts)
    for task in pa:
        if task == "partners":
            assert [r.keys() for r in pb[task]] == [r.keys() for r in pa[task]]
            for rb, ra in zip(pb[task], pa[task], strict=True):
                assert rb == pytest.approx(ra, abs=1e-5)
        else:
            np.testing.assert_allclose(pb[task], pa[task], atol=1e-5, err_msg=task)
    ma = json.loads((reference / "metrics_dev.json").read_text())
    mb = json.loads((out / "metrics_dev.json").read_text())
    assert mb["macro_f1"] == pytest.approx(ma["macro_f1"], abs=1e-6)


def test_sigint_stops_gracefully_too(tmp_path):
    out = tmp_path / "run"
    proc = _interrupt(out, signal.SIGINT)
    assert proc.returncode != 0 and "training stopped by SIGINT" in proc.stderr
    assert not (out / "diploml.json").exists() and _last_checkpoint(out / "checkpoints") is not None


def test_torn_checkpoint_is_skipped(tmp_path):
    ckpts = tmp_path / "checkpoints"
    for step, complete in ((4, True), (8, True), (12, False)):
        d = ckpts / f"checkpoint-{step}"
        d.mkdir(parents=True)
        if complete:
            (d / "trainer_state.json").write_text("{}")
    assert _last_checkpoint(ckpts) == str(ckpts / "checkpoint-8")
    (ckpts / "checkpoint-8" / "checkpoint-is-incomplete.txt").write_text("in progress")
    assert _last_checkpoint(ckpts) == str(ckpts / "checkpoint-4")
    assert _last_checkpoint(tmp_path / "none") is None


# ---- run directories that cannot be used say why -------------------------------------------------------

def _run_dir(reference: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(reference, tmp_path / "copy"))


def test_incomplete_run_directory(reference, tmp_path):
    run = _run_dir(reference, tmp_path)
    (run / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="incomplete run directory, model.safetensors is missing"):
        diploml.load(run)


def test_newer_format_version_is_refused(reference, tmp_path):
    run = _run_dir(reference, tmp_path)
    manifest = json.loads((run / "diploml.json").read_text())
    assert manifest["format_version"] == rundir.FORMAT_VERSION
    manifest.update(format_version=99, diploml_version="9.0")
    (run / "diploml.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="format 99 by diploml 9.0.*upgrade diploml"):
        diploml.load(run)
    manifest["format_version"] = "one"
    (run / "diploml.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="corrupt manifest"):
        diploml.load(run)


def test_manifest_without_version_is_format_1(reference, tmp_path):
    run = _run_dir(reference, tmp_path)
    manifest = json.loads((run / "diploml.json").read_text())
    del manifest["format_version"]
    (run / "diploml.json").write_text(json.dumps(manifest))
    assert diploml.load(run).tasks


def test_predict_script_reports_broken_run_directory(reference, tmp_path):
    run = _run_dir(reference, tmp_path)
    (run / "diploml.json").write_bytes(b"\xff{not json")
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "Hà Nội"}\n', "utf-8")
    proc = subprocess.run([sys.executable, "scripts/predict.py", "--model", str(run), str(src), "-o",
                           str(tmp_path / "out.jsonl")], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "corrupt manifest" in proc.stderr and "Traceback" not in proc.stderr
