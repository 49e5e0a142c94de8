"""Quality benchmark: rules, TF-IDF, the default transformer and the same transformer from random weights.

    python benchmarks/quality.py --default-run runs/default [--random-run DIR | --no-random] [--quick]

All models are scored on the same articles: the test split of the bundled corpus and the seed
articles, reported separately. Models not given as run directories are trained here (into
runs/bench/). ``--quick`` uses configs/tiny.yaml (a random 2-layer BERT) as the transformer and
skips the random-weights variant (tiny is random already). Writes benchmarks/results/quality.json,
the comparison tables and charts under benchmarks/results/quality/ and per-model error files.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    DEFAULT_TRANSFORMER,
    QUICK_TRANSFORMER,
    RESULTS,
    ROOT,
    Timer,
    command_line,
    load_corpus,
    train_model,
    write_result,
)

TINY_OVERRIDES = ["data.path=bundled:diplomatic_news", "training.epochs=5"]


def get_model(name: str, run: str | None, config: str, overrides: list[str], work: Path) -> tuple[object, dict]:
    """Load ``run`` if given, else train ``config`` into ``work/name``; returns the model and where it came from."""
    import diploml

    if run:
        info = {"run_dir": str(run), "trained_here": False}
        return diploml.load(run), info
    out, seconds = train_model(config, overrides, work / name)
    info = {"run_dir": str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out), "trained_here": True,
            "config": config, "overrides": overrides, "train_seconds": round(seconds, 1)}
    return diploml.load(out), info


def verdict(summary: dict, candidate: str, others: list[str]) -> list[dict]:
    """Per task: does ``candidate``'s macro F1 beat every model in ``others``?"""
    out = []
    for task in summary["tasks"]:
        mine = summary["models"][candidate]["tasks"][task]["macro_f1"]
        theirs = {o: summary["models"][o]["tasks"][task]["macro_f1"] for o in others}
        out.append({"task": task, "candidate": candidate, "macro_f1": mine, "others": theirs,
                    "beats_all": all(mine > v for v in theirs.values())})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny transformer, no random-weights variant")
    parser.add_argument("--default-run", help="trained default transformer run directory (else trained here)")
    parser.add_argument("--random-run", help="trained random-weights run directory (else trained here)")
    parser.add_argument("--tfidf-run", help="trained TF-IDF run directory (else trained here, < 1 minute)")
    parser.add_argument("--no-random", action="store_true", help="skip the random-weights variant")
    parser.add_argument("--work-dir", default="runs/bench", help="where models trained here go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from diploml.evaluation.evaluate import evaluate, write_comparison, write_errors
    from diploml.models.rules import RuleClassifier

    work = ROOT / args.work_dir
    splits = load_corpus()
    models, sources = {}, {}
    models["rules"], sources["rules"] = RuleClassifier(), {"run_dir": None, "trained_here": False,
                                                            "note": "bundled lexicons, nothing trained"}
    models["tfidf"], sources["tfidf"] = get_model("tfidf", args.tfidf_run, "configs/tfidf.yaml", [], work)
    if args.quick and not args.default_run:
        models["tiny"], sources["tiny"] = get_model("tiny", None, QUICK_TRANSFORMER, TINY_OVERRIDES, work)
    else:
        models["default"], sources["default"] = get_model("default", args.default_run, DEFAULT_TRANSFORMER, [], work)
    if args.random_run or not (args.quick or args.no_random):
        models["default-random-init"], sources["default-random-init"] = get_model(
            "default-random-init", args.random_run, DEFAULT_TRANSFORMER, ["model.random_init=true"], work)

    out_dir = RESULTS / "quality"
    summaries, seconds, verdicts = {}, {}, {}
    transformer = "tiny" if "tiny" in models else "default"
    for data in ("test", "seeds"):
        evals = []
        for name, model in models.items():
            with Timer() as t:
                ev = evaluate(model, splits[data], name=name, batch_size=32)
            seconds.setdefault(name, {})[data] = round(t.seconds, 1)
            write_errors(ev, out_dir / name / f"errors-{data}.jsonl")
            evals.append(ev)
        summaries[data] = write_comparison(evals, data, out_dir)
        verdicts[data] = verdict(summaries[data], transformer, ["rules", "tfidf"])
        print(f"{data}: " + ", ".join(f"{n} {s['mean_macro_f1']:.3f}" for n, s in summaries[data]["models"].items()))
    write_result("quality", {"quick": args.quick, "models": sources, "eval_seconds": seconds,
                             "n_articles": {d: len([a for a in splits[d] if a.labels]) for d in ("test", "seeds")},
                             "transformer": transformer, "summaries": summaries,
                             "transformer_beats_baselines": verdicts}, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
