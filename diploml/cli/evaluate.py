"""Evaluate saved models on a split of their training data, the seeds, or a labelled file; compare them.

    diploml evaluate --model RUN_DIR --data test [--output DIR]
    diploml evaluate --model RUN_DIR --data seeds
    diploml evaluate --model RUN_DIR --data my_articles.jsonl
    diploml evaluate --model RUN_DIR --data real_dev --texts ~/real_dev_texts
    diploml evaluate --model runs/rules runs/tfidf runs/default --data test seeds [--output DIR]

One model, one dataset: metrics.json, report.md, PNG plots and errors-DATA.jsonl (misclassified
articles with gold vs predicted labels, probabilities and evidence) in DIR (default RUN_DIR/eval-DATA).

Several models or datasets: in DIR (default runs/comparison), per dataset comparison-DATA.md,
.json and .png (accuracy, micro/macro F1 per task, per-label F1), and per model NAME/eval-DATA/
(the single-model report) and NAME/errors-DATA.jsonl. A split name (train/dev/test) means each
model's own split of its training data; the report warns when the models saw different articles.
"""

from __future__ import annotations

import logging


def register(sub, prog: str | None = None) -> None:
    from diploml.cli import Formatter

    p = sub.add_parser("evaluate", help="evaluate and compare saved models", description=__doc__,
                       formatter_class=Formatter, **({"prog": prog} if prog else {}))
    p.add_argument("--model", required=True, nargs="+", help="saved run directories")
    p.add_argument("--data", default=["test"], nargs="+",
                   help="train, dev, test, seeds, real_dev, or JSONL/CSV/folder paths (each reported separately)")
    p.add_argument("--texts", metavar="DIR_OR_JSONL",
                   help="real_dev: your copies of the articles (<id>.txt files or JSONL of id, text); "
                   "data/real_dev keeps labels and URLs only")
    p.add_argument("--output", help="report directory (default: MODEL/eval-DATA, or runs/comparison)")
    p.add_argument("--batch-size", type=int, default=16, help="articles per forward pass")
    p.add_argument("--backend", default="torch", choices=["torch", "onnx", "onnx-int8"],
                   help="transformer runs: PyTorch, or the ONNX graph written by 'diploml export'")
    p.add_argument("--no-windows", action="store_true", help="skip the transformer's top-window evidence")
    p.set_defaults(func=run)


def run(args) -> int:
    from diploml.cli import error
    from diploml.data import DataError
    from diploml.evaluation.evaluate import evaluate_runs

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        table, where = evaluate_runs(args.model, args.data, output=args.output, batch_size=args.batch_size,
                                     windows=not args.no_windows, backend=args.backend, progress=True,
                                     texts=args.texts)
    except (DataError, FileNotFoundError, ValueError) as e:
        return error(e)
    print(table)
    print(f"\nreports: {where}")
    return 0
