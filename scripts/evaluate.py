"""Evaluate a saved model on a split of its training data, the seeds, or a labelled file.

    python scripts/evaluate.py --model RUN_DIR --data test [--output DIR]
    python scripts/evaluate.py --model RUN_DIR --data seeds
    python scripts/evaluate.py --model RUN_DIR --data my_articles.jsonl

Writes metrics.json, report.md and PNG plots to DIR (default RUN_DIR/eval-<data>).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import diploml
from diploml.data import DataError
from diploml.pipeline import evaluate_model, resolve_eval_data
from diploml.reporting import summary_table, write_report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="saved model directory")
    parser.add_argument("--data", default="test", help="train, dev, test, seeds, or a JSONL/CSV/folder path")
    parser.add_argument("--output", help="report directory (default: MODEL/eval-DATA)")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        model = diploml.load(args.model)
        name, articles = resolve_eval_data(args.data, model, model.tasks)
        metrics, _ = evaluate_model(model, articles, batch_size=args.batch_size)
    except (DataError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.output or Path(args.model) / f"eval-{name}")
    write_report(metrics, out, f"{Path(args.model).name} on {name}")
    print(summary_table([(Path(args.model).name, name, metrics)]))
    print(f"\nreport: {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
