"""One tiny transformer run (configs/tiny.yaml, a few epochs, exported to ONNX fp32 + int8) shared by the
serving, Ray and review-page tests; built once per test session by whichever test asks first.

Built through the ``diploml`` command (train, export): the stable interface while modules move.
"""

from __future__ import annotations

import json
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


def write_articles(path: Path, n: int) -> Path:
    """``n`` articles (the bundled corpus's texts, cycled, with unique ids) as JSONL."""
    from importlib import resources

    corpus = Path(str(resources.files("diploml").joinpath("resources/corpus/diplomatic_news.jsonl")))
    base = [json.loads(line) for line in corpus.read_text("utf-8").splitlines() if line.strip()]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            a = base[i % len(base)]
            f.write(json.dumps({"id": f"art{i:05d}", "title": a.get("title") or "", "text": a["text"]},
                               ensure_ascii=False) + "\n")
    return path
