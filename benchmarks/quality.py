"""Quality benchmark: rules, TF-IDF, embeddings + logistic regression, the default transformer (and the same
transformer from random weights), on the test split, the seeds and the real-text dev set.

    python benchmarks/quality.py --default-run runs/default [--embed-run runs/embed_lr] [--texts DIR] \
        [--random-run DIR | --no-random] [--quick]

All models are scored on the same articles: the test split of the bundled corpus (event-grouped), the seed
articles and, with ``--texts`` (your copies of the real articles), ``data/real_dev``, reported separately, and
again restricted to its articles whose event no train or dev article tells (``real_dev_unseen``, see the data
card). Two decision variants are measured without retraining: multi-label thresholds shrunk toward the task's
threshold (``evaluation.threshold_shrinkage=5``, re-calibrated on dev) and, for TF-IDF, a regions head of its
own (``tasks.regions_from=head``) instead of regions from the predicted partners. Models not given as run
directories are trained here (into runs/bench/). ``--quick`` uses configs/tiny.yaml (a random 2-layer BERT) as
the transformer and skips the random-weights variant (tiny is random already). Writes
benchmarks/results/quality.json, the comparison tables and charts under benchmarks/results/quality/ and
per-model error files.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    DEFAULT_TRANSFORMER,
    GOAL_METRICS,
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


def unseen_events(real: list) -> list:
    """The real-text articles whose event no train or dev article of the bundled corpus tells: the blind part."""
    from diploml.data.io import bundled_path
    from diploml.data.real_dev import events_told, read_labels
    from diploml.data.validate import read_jsonl

    seen = [r for r in read_jsonl(bundled_path("diplomatic_news")) if r["split"] in ("train", "dev")]
    told = events_told(seen, read_labels(ROOT / "data" / "real_dev"))
    return [a for a in real if a.id not in told]


def verdict(summary: dict, candidate: str, others: list[str]) -> list[dict]:
    """Per goal metric: does ``candidate`` beat every model in ``others``?"""
    out = []
    for task, metric in GOAL_METRICS:
        if task not in summary["models"][candidate]["tasks"]:
            continue
        mine = summary["models"][candidate]["tasks"][task][metric]
        theirs = {o: summary["models"][o]["tasks"][task][metric] for o in others
                  if task in summary["models"][o]["tasks"]}
        out.append({"task": task, "metric": metric, "candidate": candidate, "value": mine, "others": theirs,
                    "beats_all": all(mine > v for v in theirs.values())})
    return out


def cached(model):
    """Memoise ``model``'s own probabilities per text, so that re-calibrated copies (which share the
    instance attributes) evaluate without another forward pass."""
    import numpy as np

    cache: dict[str, dict] = {}
    inner = model._predict_proba

    def _predict_proba(texts, *, batch_size=None, progress=False):
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            p = inner(missing, batch_size=batch_size, progress=progress)
            for i, t in enumerate(missing):
                cache[t] = {k: v[i] for k, v in p.items()}
        if not texts:
            return inner([], batch_size=batch_size, progress=progress)
        rows = [cache[t] for t in texts]
        return {k: ([r[k] for r in rows] if isinstance(rows[0][k], dict) else np.stack([r[k] for r in rows]))
                for k in rows[0]}

    model._predict_proba = _predict_proba
    return model


def recalibrated(model, dev, **evaluation):
    """A copy of ``model`` re-calibrated on ``dev`` with other ``evaluation`` settings (no retraining)."""
    import copy

    other = copy.copy(model)
    other.config = model.config.model_copy(deep=True)
    for key, value in evaluation.items():
        setattr(other.config.evaluation, key, value)
    other.thresholds = {}
    return other.calibrate(dev)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny transformer, no random-weights variant")
    parser.add_argument("--default-run", help="trained default transformer run directory (else trained here)")
    parser.add_argument("--embed-run", help="trained embed_lr run directory (else trained here, a few minutes)")
    parser.add_argument("--random-run", help="trained random-weights run directory (else trained here)")
    parser.add_argument("--tfidf-run", help="trained TF-IDF run directory (else trained here, < 1 minute)")
    parser.add_argument("--no-random", action="store_true", help="skip the random-weights variant")
    parser.add_argument("--no-embed", action="store_true", help="skip the embed_lr baseline")
    parser.add_argument("--texts", help="your copies of the data/real_dev articles (<id>.txt folder or JSONL)")
    parser.add_argument("--work-dir", default="runs/bench", help="where models trained here go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from diploml.evaluation.evaluate import evaluate, write_comparison, write_errors
    from diploml.models.rules import RuleClassifier

    work = ROOT / args.work_dir
    splits = load_corpus()
    missing = {}
    if args.texts:
        from diploml.data.real_dev import load_real_dev

        splits["real_dev"], missing = load_real_dev(ROOT / "data" / "real_dev", texts=args.texts,
                                                    tasks=RuleClassifier().tasks)
        splits["real_dev_unseen"] = unseen_events(splits["real_dev"])
    models, sources = {}, {}
    models["rules"], sources["rules"] = RuleClassifier(), {"run_dir": None, "trained_here": False,
                                                            "note": "bundled lexicons, nothing trained"}
    models["tfidf"], sources["tfidf"] = get_model("tfidf", args.tfidf_run, "configs/tfidf.yaml", [], work)
    models["tfidf-regions-head"], sources["tfidf-regions-head"] = get_model(
        "tfidf-regions-head", None, "configs/tfidf.yaml", ["tasks.regions_from=head"], work)
    if not (args.quick or args.no_embed):
        models["embed_lr"], sources["embed_lr"] = get_model("embed_lr", args.embed_run, "configs/embed_lr.yaml", [],
                                                            work)
    if args.quick and not args.default_run:
        models["tiny"], sources["tiny"] = get_model("tiny", None, QUICK_TRANSFORMER, TINY_OVERRIDES, work)
    else:
        models["default"], sources["default"] = get_model("default", args.default_run, DEFAULT_TRANSFORMER, [], work)
    transformer = "tiny" if "tiny" in models else "default"
    cached(models[transformer])
    cached(models["tfidf"])
    models[f"{transformer}-shrunk"] = recalibrated(models[transformer], splits["dev"], threshold_shrinkage=5.0)
    sources[f"{transformer}-shrunk"] = {"note": f"{transformer} with thresholds re-tuned on dev, shrinkage 5"}
    flip = not models[transformer].config.evaluation.rule_prior
    variant = f"{transformer}{'+rule-prior' if flip else '-no-rule-prior'}"
    models[variant] = recalibrated(models[transformer], splits["dev"], rule_prior=flip)
    sources[variant] = {"note": f"{transformer} re-calibrated on dev with evaluation.rule_prior={str(flip).lower()}"}
    models["tfidf-shrunk"] = recalibrated(models["tfidf"], splits["dev"], threshold_shrinkage=5.0)
    sources["tfidf-shrunk"] = {"note": "tfidf with thresholds re-tuned on dev, shrinkage 5"}
    if args.random_run or not (args.quick or args.no_random):
        models["default-random-init"], sources["default-random-init"] = get_model(
            "default-random-init", args.random_run, DEFAULT_TRANSFORMER, ["model.random_init=true"], work)

    out_dir = RESULTS / "quality"
    summaries, seconds, verdicts = {}, {}, {}
    baselines = [m for m in ("rules", "tfidf", "embed_lr") if m in models]
    for data in [d for d in ("test", "seeds", "real_dev", "real_dev_unseen") if d in splits]:
        evals = []
        for name, model in models.items():
            with Timer() as t:
                ev = evaluate(model, splits[data], name=name, batch_size=32)
            seconds.setdefault(name, {})[data] = round(t.seconds, 1)
            write_errors(ev, out_dir / name / f"errors-{data}.jsonl")
            evals.append(ev)
        summaries[data] = write_comparison(evals, data, out_dir)
        verdicts[data] = verdict(summaries[data], transformer, baselines)
        print(f"{data}: " + ", ".join(f"{n} {s['mean_macro_f1']:.3f}" for n, s in summaries[data]["models"].items()))
    write_result("quality", {"quick": args.quick, "models": sources, "eval_seconds": seconds,
                             "n_articles": {d: len([a for a in splits[d] if a.labels]) for d in summaries},
                             "real_dev_missing": missing, "transformer": transformer, "summaries": summaries,
                             "transformer_beats_baselines": verdicts}, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
