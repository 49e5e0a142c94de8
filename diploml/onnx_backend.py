"""Predict with an exported ONNX graph (fp32 or int8) through onnxruntime; same interface as DiploClassifier.

    model = diploml.load("runs/tiny", backend="onnx")       # RUN/onnx/model.onnx
    model = diploml.load("runs/tiny", backend="onnx-int8")  # RUN/onnx/model.int8.onnx
    model.predict(["...article..."])

Text preparation and windowing are DiploClassifier's own (same config, same tokenizer), so the
ONNX model sees exactly the token windows the PyTorch model would; only the forward pass changes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from diploml.base import BaseClassifier
from diploml.export import FP32, INPUTS, INT8, ONNX_DIR, weights_digest

BACKENDS = {"onnx": FP32, "onnx-int8": INT8}


class OnnxClassifier(BaseClassifier):
    model_type = "transformer"

    def __init__(self, session, prep, tasks, thresholds, config, *, backend: str = "onnx"):
        self.session = session
        self.prep = prep  # a DiploClassifier without weights: prepare() and _windows() only
        self.tasks = tasks
        self.thresholds = thresholds
        self.config = config
        self.backend = backend
        self.output_names = [o.name for o in session.get_outputs()]

    @classmethod
    def load(cls, path: str | Path, *, backend: str = "onnx", threads: int | None = None,
             onnx_dir: str | Path | None = None) -> OnnxClassifier:
        """Load ``RUN_DIR/onnx/model[.int8].onnx`` with the run's tokenizer, config, tasks and thresholds.

        ``onnx_dir``: where the graphs are, if ``export_onnx`` wrote them elsewhere than ``RUN_DIR/onnx``.
        """
        import onnxruntime as ort
        import yaml
        from transformers import AutoTokenizer

        from diploml.classifier import WEIGHTS, DiploClassifier
        from diploml.config import config_from_dict
        from diploml.tasks import Task

        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; known: torch, {', '.join(BACKENDS)}")
        path = Path(path)
        graph = Path(onnx_dir or path / ONNX_DIR) / BACKENDS[backend]
        if not graph.is_file():
            flag = " --int8" if backend == "onnx-int8" else ""
            raise FileNotFoundError(f"{graph} not found: run 'diploml export --model {path} --format onnx{flag}'")
        for required in ("config.yaml", "label_maps.json", "tokenizer"):
            if not (path / required).exists():
                raise FileNotFoundError(f"{path}: incomplete run directory, {required} is missing")
        info_file = graph.parent / "export.json"
        info = json.loads(info_file.read_text("utf-8")) if info_file.is_file() else {}
        if info.get("weights_sha256") and (path / WEIGHTS).is_file() and info["weights_sha256"] != weights_digest(path):
            raise ValueError(f"{graph} is stale: {path / WEIGHTS} changed since the export "
                             f"(retrained?); run 'diploml export --model {path} --format onnx' again")
        cfg = config_from_dict(yaml.safe_load((path / "config.yaml").read_text("utf-8")), str(path / "config.yaml"))
        maps = json.loads((path / "label_maps.json").read_text("utf-8"))
        tasks = [Task(m["name"], m["kind"], tuple(m["labels"])) for m in maps.values()]
        thr_file = path / "thresholds.json"
        thr = json.loads(thr_file.read_text("utf-8")) if thr_file.exists() else {}
        thresholds = {k: np.asarray(v, dtype=np.float32) for k, v in thr.items()}
        prep = DiploClassifier(cfg)
        prep.tasks = tasks
        prep.tokenizer = AutoTokenizer.from_pretrained(path / "tokenizer")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or int(os.environ.get("OMP_NUM_THREADS", 0) or 0)
        session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
        outputs = [o.name for o in session.get_outputs()]
        if sorted(outputs) != sorted(t.name for t in tasks):
            raise ValueError(f"{graph}: outputs {outputs} do not match the run's tasks; export again")
        return cls(session, prep, tasks, thresholds, cfg, backend=backend)

    def predict_proba(self, texts: Iterable[str], *, batch_size: int | None = None,
                      progress: bool = False) -> dict[str, np.ndarray]:
        """Per-task probabilities (softmax rows or independent sigmoids), as DiploClassifier returns them."""
        from diploml.features import WindowCollator

        texts = list(texts)
        batch_size = batch_size or self.config.evaluation.batch_size
        collate = WindowCollator(self.prep.tokenizer.pad_token_id)
        out = {name: [] for name in self.output_names}
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), unit="article", desc="predict")
        for start in range(0, len(texts), batch_size):
            chunk = texts[start:start + batch_size]
            batch = collate([{"input_ids": self.prep._windows(t)} for t in chunk])
            feed = {"input_ids": batch["input_ids"].numpy(), "attention_mask": batch["attention_mask"].numpy(),
                    "window_mask": batch["window_mask"].numpy()}
            for name, p in zip(self.output_names, self.session.run(self.output_names, feed), strict=True):
                out[name].append(p)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        return {t.name: (np.concatenate(out[t.name]) if out[t.name] else np.zeros((0, len(t.labels)), np.float32))
                for t in self.tasks}


__all__ = ["OnnxClassifier", "BACKENDS", "INPUTS"]
