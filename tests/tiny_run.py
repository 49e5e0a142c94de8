"""One tiny transformer run (configs/tiny.yaml, a few epochs, exported to ONNX fp32 + int8) shared by the
serving, Ray and review-page tests; built once per test session by whichever test asks first.

Built through the ``diploml`` command (train, export): the stable interface while modules move.
"""

from __future__ import annotations

from pathlib import Path

_RUN: dict[str, Path] = {}


def tiny_run(tmp_path_factory) -> Path:
    if "run" not in _RUN:
        from diploml.cli import main as cli

        run = tmp_path_factory.mktemp("tiny_serving") / "run"
        assert cli(["train", "--config", "configs/tiny.yaml", "--output-dir", str(run), "training.epochs=3",
                    "training.eval_strategy=no", "training.logging_steps=1000"]) == 0
        assert cli(["export", "--model", str(run), "--format", "onnx", "--int8"]) == 0
        _RUN["run"] = run
    return _RUN["run"]


def assert_same_record(got: dict, ref: dict, atol: float = 1e-4) -> None:
    """Same keys in the same order, same labels, probabilities within ``atol``, same mentions and warnings."""
    import numpy as np

    assert list(got) == list(ref), (list(got), list(ref))
    for key, want in ref.items():
        have = got[key]
        if key == "probabilities":
            assert have.keys() == want.keys()
            for task, probs in want.items():
                assert have[task].keys() == probs.keys(), task
                np.testing.assert_allclose([have[task][k] for k in probs], list(probs.values()), atol=atol)
        elif isinstance(want, dict) and "label" in want:
            assert have["label"] == want["label"], (ref.get("id"), key)
            assert abs(have["probability"] - want["probability"]) <= atol
        elif isinstance(want, list) and want and isinstance(want[0], dict) and "label" in want[0]:
            assert [d["label"] for d in have] == [d["label"] for d in want], (ref.get("id"), key)
        else:
            assert have == want, (ref.get("id"), key)


def mention_list(rec: dict) -> list[dict]:
    """Gazetteer mentions with their spans: ``mentions``, or ``partners`` in records of older models."""
    return rec.get("mentions", rec.get("partners", []))
