"""Scaling: streaming prediction time and peak memory for 100, 1,000 and 10,000 articles.

    python benchmarks/scaling.py [--quick] [--sizes 100 1000 10000]

The input is the fixed set of long articles of benchmarks/speed.py repeated (with new ids) to the
wanted size, written as JSONL and labelled with ``diploml.predict.predict_file`` (the streaming
path of scripts/predict.py, partner evidence included), each size in a fresh process. Linear
time means a constant seconds-per-article column; flat memory means a peak that does not grow
with the size. Models: TF-IDF and the tiny transformer (configs/tiny.yaml: same code path as the
default one, far cheaper per window; the default transformer would need hours for 10,000).
``--quick`` stops at 1,000 articles. Writes benchmarks/results/scaling.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import QUICK_TRANSFORMER, ROOT, command_line, ensure_run, isolated, peak_rss_mb, rss_mb, write_result  # noqa: E402
from speed import TINY_OVERRIDES, fixed_articles  # noqa: E402


def predict_stream(run_dir: str, source: str, batch_size: int = 32) -> dict:
    """Runs in a fresh process: load the model, label ``source`` into a temporary JSONL, measure."""
    import diploml
    from diploml.predict import predict_file

    model = diploml.load(run_dir)
    model.predict(["Thủ tướng hội đàm với Tổng thống Pháp."])  # warm-up outside the timing
    loaded = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        counts = predict_file(model, source, Path(tmp) / "out.jsonl", batch_size=batch_size, progress=False)
        seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "ok": counts["ok"], "errors": counts["error"],
            "rss_after_load_mb": round(loaded), "peak_rss_mb": round(peak_rss_mb())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="sizes 100 and 1,000 only")
    parser.add_argument("--sizes", type=int, nargs="+", help="numbers of articles (default 100 1000 10000)")
    parser.add_argument("--tfidf-run", default="runs/bench/tfidf")
    parser.add_argument("--transformer-run", default="runs/bench/tiny", help="a transformer run (tiny by default)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    sizes = args.sizes or ([100, 1000] if args.quick else [100, 1000, 10000])
    models = {"tfidf": ensure_run(args.tfidf_run, "configs/tfidf.yaml", []),
              "transformer": ensure_run(args.transformer_run, QUICK_TRANSFORMER, TINY_OVERRIDES)}
    texts, tokens = fixed_articles()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            source = Path(tmp) / f"articles-{n}.jsonl"
            with source.open("w", encoding="utf-8") as fh:
                for i in range(n):
                    fh.write(json.dumps({"id": f"s{i}", "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n")
            for name, run in models.items():
                r = isolated(predict_stream, str(ROOT / run), str(source), args.batch_size)
                r["ms_per_article"] = round(1000 * r["seconds"] / n, 2)
                results.setdefault(name, {})[str(n)] = r
                print(f"{name} n={n}: {r['seconds']} s ({r['ms_per_article']} ms/article), peak {r['peak_rss_mb']} MB")
    write_result("scaling", {"quick": args.quick, "sizes": sizes, "batch_size": args.batch_size,
                             "distinct_articles": len(texts), "mean_tokens": round(sum(tokens) / len(tokens)),
                             "models": {n: {"run_dir": models[n], "by_size": results[n]} for n in models}},
                 command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
