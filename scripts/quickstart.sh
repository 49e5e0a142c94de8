#!/usr/bin/env bash
# One command for a new user: install, train the default config on the bundled corpus,
# evaluate on the test split and on the five real seed articles, print a results table.
#
#   bash scripts/quickstart.sh                      # configs/default.yaml (~20 min on 2 CPU cores)
#   bash scripts/quickstart.sh configs/tiny.yaml    # the 1-minute smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/default.yaml}
NAME=$(basename "$CONFIG" .yaml)
RUN=runs/quickstart-$NAME
python -m pip install --quiet torch==2.13.0   # CPU wheel; keeps an existing torch if it satisfies
python -m pip install --quiet -e ".[dev]"   # the package plus its test tools (pytest) and ONNX
python scripts/train.py --config "$CONFIG" --output-dir "$RUN"
python scripts/evaluate.py --model "$RUN" --data test --output "$RUN/eval-test"
python scripts/evaluate.py --model "$RUN" --data seeds --output "$RUN/eval-seeds"
python scripts/predict.py --model "$RUN" seeds -o "$RUN/seeds-predictions.jsonl" --no-progress
echo
echo "Run directory: $RUN  (model card: $RUN/README.md, reports: $RUN/eval-*/report.md)"
