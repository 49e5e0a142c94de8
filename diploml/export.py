"""Export a transformer run directory to ONNX (fp32) and, optionally, dynamic int8.

    export_onnx("runs/tiny")              # -> runs/tiny/onnx/model.onnx
    export_onnx("runs/tiny", int8=True)   # -> also runs/tiny/onnx/model.int8.onnx

The graph takes the model's own inputs -- ``input_ids`` and ``attention_mask`` (windows x tokens)
and ``window_mask`` (articles x windows) -- and returns one probability matrix per task
(articles x labels), so any number of articles, windows and tokens goes through one graph.
We use the TorchScript exporter (``dynamo=False``): it needs no extra package (the dynamo
exporter needs ``onnxscript``) and traces transformers 5 BERT/XLM-R encoders cleanly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

ONNX_DIR = "onnx"
FP32 = "model.onnx"
INT8 = "model.int8.onnx"
OPSET = 17
INPUTS = ["input_ids", "attention_mask", "window_mask"]


class _ProbabilityGraph(nn.Module):
    """The classifier with softmax/sigmoid applied, outputs as a tuple in task order (what ONNX needs)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, window_mask):
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask, window_mask=window_mask)
        return tuple(self.model.probabilities(logits[name], kind) for name, kind, _ in self.model.tasks)


def _example_inputs(clf) -> tuple[torch.Tensor, ...]:
    """Two articles, three windows of unequal length: no axis is 1, so none gets baked in as a constant."""
    from diploml.features import WindowCollator

    pad = clf.tokenizer.pad_token_id
    items = [{"input_ids": clf._windows("Hà Nội hợp tác thương mại. " * 30)[:2]},
             {"input_ids": clf._windows("Bộ trưởng điện đàm.")}]
    batch = WindowCollator(pad)(items)
    return tuple(batch[k] for k in INPUTS)


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
    import diploml
    from diploml.classifier import DiploClassifier

    run_dir = Path(run_dir)
    clf = diploml.load(run_dir)
    if not isinstance(clf, DiploClassifier):
        raise ValueError(f"{run_dir}: ONNX export needs a transformer model, not {clf.model_type!r}")
    out_dir = Path(out_dir) if out_dir else run_dir / ONNX_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    clf.model.eval()
    # Eager attention traces to plain MatMul/Softmax, which onnxruntime fuses and quantises well.
    clf.model.encoder.config._attn_implementation = "eager"
    graph = _ProbabilityGraph(clf.model).eval()
    names = [t.name for t in clf.tasks]
    dynamic = {"input_ids": {0: "windows", 1: "tokens"}, "attention_mask": {0: "windows", 1: "tokens"},
               "window_mask": {0: "articles", 1: "windows"}}
    dynamic.update({n: {0: "articles"} for n in names})
    fp32 = out_dir / FP32
    tmp = _atomic_target(fp32)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # tracer chatter about shape checks in transformers' mask code: dynamic axes cover them
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, _example_inputs(clf), str(tmp), input_names=INPUTS, output_names=names,
                              dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True, dynamo=False)
        os.replace(tmp, fp32)
    finally:
        tmp.unlink(missing_ok=True)
    written = {"fp32": fp32}
    if int8:
        written["int8"] = quantize_int8(fp32, out_dir / INT8)
    info = {"tasks": names, "inputs": INPUTS, "opset": OPSET, "files": {k: v.name for k, v in written.items()},
            "weights_sha256": weights_digest(run_dir)}
    (out_dir / "export.json").write_text(json.dumps(info, indent=2), "utf-8")
    return written


def weights_digest(run_dir: Path) -> str:
    """SHA-256 of the run's weights: ties an export to the model it came from (retraining makes it stale)."""
    from diploml.classifier import WEIGHTS

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
