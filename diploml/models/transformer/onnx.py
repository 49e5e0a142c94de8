"""ONNX for transformer runs: export (fp32, dynamic int8) and ``OnnxClassifier``, which predicts with the graph.

    export_onnx("runs/tiny", int8=True)                     # -> runs/tiny/onnx/model.onnx, model.int8.onnx
    model = diploml.load("runs/tiny", backend="onnx-int8")  # same interface as DiploClassifier
    model.predict(["...article..."])

The graph takes the model's own inputs -- ``input_ids`` and ``attention_mask`` (windows x tokens)
and ``window_mask`` (articles x windows) -- and returns one probability matrix per task
(articles x labels), so any number of articles, windows and tokens goes through one graph.
We use the TorchScript exporter (``dynamo=False``): it needs no extra package (the dynamo
exporter needs ``onnxscript``) and traces transformers 5 BERT/XLM-R encoders cleanly.
Text preparation and windowing are ``WindowedClassifier``'s (windowed.py), shared with the PyTorch model, so the
ONNX model sees exactly the token windows the PyTorch model would; only the forward pass changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from diploml.models.transformer.inputs import WindowCollator, keep_windows
from diploml.models.transformer.windowed import WEIGHTS, WindowedClassifier
from diploml.rundir import RunDirError, read_run

log = logging.getLogger(__name__)

ONNX_DIR = "onnx"
FP32 = "model.onnx"
INT8 = "model.int8.onnx"
OPSET = 17
INPUTS = ["input_ids", "attention_mask", "window_mask"]
MENTION_INPUTS = ["mention_index", "mention_mask", "candidate_article"]
CUE_INPUTS = ["cue_index", "cue_mask", "cue_article", "cue_label"]


def graph_inputs(model) -> list[str]:
    """The graph's inputs: windows and their article mask, plus the candidates when there is a mentions task
    and the cues when a task is cue-scored."""
    return (INPUTS + (MENTION_INPUTS if any(kind == "mentions" for _, kind, _ in model.tasks) else [])
            + (CUE_INPUTS if model.cue_task else []))


class _ProbabilityGraph(nn.Module):
    """The classifier with softmax/sigmoid applied, outputs as a tuple in task order (what ONNX needs)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, window_mask, mention_index=None, mention_mask=None,
                candidate_article=None, cue_index=None, cue_mask=None, cue_article=None, cue_label=None):
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask, window_mask=window_mask,
                            mention_index=mention_index, mention_mask=mention_mask,
                            candidate_article=candidate_article, cue_index=cue_index, cue_mask=cue_mask,
                            cue_article=cue_article, cue_label=cue_label)
        return tuple(self.model.probabilities(logits[name], kind) for name, kind, _ in self.model.tasks)


def _example_inputs(clf) -> tuple[torch.Tensor, ...]:
    """Two articles, three windows of unequal length, candidates with 2-3 token positions: no axis is 1, so
    none gets baked in as a constant."""
    pad = clf.tokenizer.pad_token_id
    text = "Hà Nội và Nhật Bản, Lào, Pháp hợp tác thương mại, du lịch với Nhật Bản. " * 30
    long = keep_windows(clf.encode(text), 2)
    items = [long, clf.encode("Bộ trưởng Hàn Quốc điện đàm với Australia về giáo dục và đầu tư.")]
    batch = WindowCollator(pad)(items)
    return tuple(batch[k] for k in graph_inputs(clf.model))


def _atomic_target(path: Path):
    # Write next to the target, then rename: a killed export never leaves a half-written model.onnx.
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the run dir's other files are world-readable
    return Path(tmp)


def export_onnx(run_dir: str | Path, out_dir: str | Path | None = None, int8: bool = False) -> dict[str, Path]:
    """Write ``model.onnx`` (and ``model.int8.onnx`` if ``int8``) for a transformer run directory.

    ``out_dir`` defaults to ``RUN_DIR/onnx``. Returns ``{"fp32": path, "int8": path}``.
    """
    from diploml.registry import load

    run_dir = Path(run_dir)
    clf = load(run_dir)
    if getattr(clf, "model", None) is None:  # not a PyTorch transformer run
        raise ValueError(f"{run_dir}: ONNX export needs a transformer model, not {clf.model_type!r}")
    out_dir = Path(out_dir) if out_dir else run_dir / ONNX_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    clf.model.eval()
    # Eager attention traces to plain MatMul/Softmax, which onnxruntime fuses and quantises well.
    clf.model.encoder.config._attn_implementation = "eager"
    graph = _ProbabilityGraph(clf.model).eval()
    names = [name for name, _, _ in clf.model.tasks]
    inputs = graph_inputs(clf.model)
    dynamic = {"input_ids": {0: "windows", 1: "tokens"}, "attention_mask": {0: "windows", 1: "tokens"},
               "window_mask": {0: "articles", 1: "windows"}, "mention_index": {0: "candidates", 1: "positions"},
               "mention_mask": {0: "candidates", 1: "positions"}, "candidate_article": {0: "candidates"},
               "cue_index": {0: "cues", 1: "cue_positions"}, "cue_mask": {0: "cues", 1: "cue_positions"},
               "cue_article": {0: "cues"}, "cue_label": {0: "cues"}}
    dynamic = {k: v for k, v in dynamic.items() if k in inputs}
    dynamic.update({name: {0: "candidates" if kind == "mentions" else "articles"}
                    for name, kind, _ in clf.model.tasks})
    fp32 = out_dir / FP32
    tmp = _atomic_target(fp32)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # tracer chatter about shape checks in transformers' mask code: dynamic axes cover them
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, _example_inputs(clf), str(tmp), input_names=inputs, output_names=names,
                              dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True, dynamo=False)
        os.replace(tmp, fp32)
    finally:
        tmp.unlink(missing_ok=True)
    written = {"fp32": fp32}
    if int8:
        written["int8"] = quantize_int8(fp32, out_dir / INT8)
    info = {"tasks": names, "inputs": inputs, "opset": OPSET, "files": {k: v.name for k, v in written.items()},
            "weights_sha256": weights_digest(run_dir)}
    (out_dir / "export.json").write_text(json.dumps(info, indent=2), "utf-8")
    return written


def weights_digest(run_dir: Path) -> str:
    """SHA-256 of the run's weights: ties an export to the model it came from (retraining makes it stale)."""
    h = hashlib.sha256()
    with open(Path(run_dir) / WEIGHTS, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def quantize_int8(src: Path, dst: Path) -> Path:
    """Dynamic int8 quantisation (weights int8, activations quantised on the fly) of the linear layers."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = _atomic_target(dst)
    tmp = _atomic_target(dst)
    try:
        # Pre-processing (shape inference, graph optimisation) lets the quantiser see every MatMul.
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        quantize_dynamic(str(pre), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
        os.replace(tmp, dst)
    finally:
        pre.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return dst


BACKENDS = {"onnx": FP32, "onnx-int8": INT8}


class OnnxClassifier(WindowedClassifier):
    """A transformer run predicting through onnxruntime (``backend`` onnx or onnx-int8); it cannot be trained."""

    def __init__(self, config=None, *, random_state: int | None = None):
        super().__init__(config, random_state=random_state)
        self.session = None
        self.backend = "onnx"

    def _fit(self, train, dev, *, workdir, resume) -> None:
        raise TypeError("an ONNX model cannot be trained: train a DiploClassifier, then export it")

    def save(self, path):
        raise TypeError("an ONNX model is saved inside its run directory by 'diploml export'")

    def _check_fitted(self):
        if self.session is None:
            raise RuntimeError("this OnnxClassifier has no graph: use diploml.load(run_dir, backend='onnx')")

    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
        feed = {k: batch[k].numpy() for k in self.input_names}
        names = [t.name for t in self.model_tasks]
        return dict(zip(names, self.session.run(names, feed), strict=True))

    @classmethod
    def load(cls, path: str | Path, *, backend: str = "onnx", threads: int | None = None,
             onnx_dir: str | Path | None = None) -> OnnxClassifier:
        """Load ``RUN_DIR/onnx/model[.int8].onnx`` with the run's tokenizer, config, tasks and thresholds.

        ``onnx_dir``: where the graphs are, if ``export_onnx`` wrote them elsewhere than ``RUN_DIR/onnx``.
        """
        import onnxruntime as ort
        from transformers import AutoTokenizer

        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; known: torch, {', '.join(BACKENDS)}")
        path = Path(path)
        run = read_run(path)
        graph = Path(onnx_dir or path / ONNX_DIR) / BACKENDS[backend]
        if not graph.is_file():
            flag = " --int8" if backend == "onnx-int8" else ""
            raise FileNotFoundError(f"{graph} not found: run 'diploml export --model {path} --format onnx{flag}'")
        if not (path / "tokenizer").exists():
            raise RunDirError(f"{path}: incomplete run directory, tokenizer is missing")
        info_file = graph.parent / "export.json"
        info = json.loads(info_file.read_text("utf-8")) if info_file.is_file() else {}
        if info.get("weights_sha256") and (path / WEIGHTS).is_file() and info["weights_sha256"] != weights_digest(path):
            raise RunDirError(f"{graph} is stale: {path / WEIGHTS} changed since the export "
                              f"(retrained?); run 'diploml export --model {path} --format onnx' again")
        self = cls._from_run(run)
        self.backend = backend
        self.tokenizer = AutoTokenizer.from_pretrained(path / "tokenizer")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or int(os.environ.get("OMP_NUM_THREADS", 0) or 0)
        try:
            self.session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for damaged graphs
            raise RunDirError(f"{graph}: unreadable ONNX graph ({str(e)[:200]}); export again") from None
        outputs = [o.name for o in self.session.get_outputs()]
        self.input_names = [i.name for i in self.session.get_inputs()]
        if sorted(outputs) != sorted(t.name for t in self.model_tasks):
            raise RunDirError(f"{graph}: outputs {outputs} do not match the run's tasks; export again")
        return self


__all__ = ["OnnxClassifier", "BACKENDS", "INPUTS", "MENTION_INPUTS", "CUE_INPUTS", "export_onnx", "quantize_int8",
           "weights_digest"]
