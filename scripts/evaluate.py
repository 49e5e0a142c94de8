"""Evaluate saved models on a split of their training data, the seeds, or a labelled file; compare them.

    python scripts/evaluate.py --model RUN_DIR --data test [--output DIR]
    python scripts/evaluate.py --model RUN_DIR --data seeds
    python scripts/evaluate.py --model RUN_DIR --data my_articles.jsonl
    python scripts/evaluate.py --model runs/rules runs/tfidf runs/default --data test seeds [--output DIR]

One model, one dataset: metrics.json, report.md, PNG plots and errors-DATA.jsonl (misclassified
articles with gold vs predicted labels, probabilities and evidence) in DIR (default RUN_DIR/eval-DATA).

Several models or datasets: in DIR (default runs/comparison), per dataset comparison-DATA.md,
.json and .png (accuracy, micro/macro F1 per task, per-label F1), and per model NAME/eval-DATA/
(the single-model report) and NAME/errors-DATA.jsonl. A split name (train/dev/test) means each
model's own split of its training data; the report warns when the models saw different articles.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import diploml
from diploml.comparison import evaluate, unique_names, write_comparison, write_errors
from diploml.data import DataError
from diploml.pipeline import resolve_eval_data
from diploml.reporting import summary_table, write_report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, nargs="+", help="saved model directories")
    parser.add_argument("--data", default=["test"], nargs="+",
                        help="train, dev, test, seeds, or JSONL/CSV/folder paths (each reported separately)")
    parser.add_argument("--output", help="report directory (default: MODEL/eval-DATA, or runs/comparison)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--no-windows", action="store_true", help="skip the transformer's top-window evidence")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    names = unique_names(args.model)
    single = len(args.model) == 1 and len(args.data) == 1
    out_root = Path(args.output or "runs/comparison")
    rows = []
    try:
        models = {n: diploml.load(p) for n, p in zip(names, args.model, strict=True)}
        for spec in args.data:
            evals = []
            for n, model in models.items():
                data_name, articles = resolve_eval_data(spec, model, model.tasks)
                ev = evaluate(model, articles, name=n, batch_size=args.batch_size)
                if single:
                    out = Path(args.output or Path(args.model[0]) / f"eval-{data_name}")
                else:
                    out = out_root / n / f"eval-{data_name}"
                write_report(ev.metrics, out, f"{n} on {data_name}")
                errors = out / f"errors-{data_name}.jsonl" if single else out_root / n / f"errors-{data_name}.jsonl"
                write_errors(ev, errors, windows=not args.no_windows)
                rows.append((n, data_name, ev.metrics))
                evals.append(ev)
            if not single:
                write_comparison(evals, data_name, out_root)
    except (DataError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(summary_table(rows))
    if single:
        print(f"\nreport: {out / 'report.md'}")
    else:
        print(f"\ncomparison: {out_root}/comparison-*.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
