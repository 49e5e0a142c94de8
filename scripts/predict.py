"""Label articles with a saved model, streaming (memory stays flat whatever the input size).

    python scripts/predict.py --model RUN_DIR INPUT -o OUT.jsonl [--resume] [--batch-size 16]

INPUT: a JSONL or CSV file (id, title, text), a folder of .txt files (like seeds/), or - for stdin.
OUT: .jsonl (full results: labels, probabilities, partner mentions) or .csv (labels only).
"""

from __future__ import annotations

import argparse
import sys

import diploml
from diploml.predict import DEFAULT_MAX_CHARS, predict_file


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="saved model directory")
    parser.add_argument("input", help="JSONL/CSV file, folder of .txt files, or - for stdin")
    parser.add_argument("-o", "--output", required=True, help="output .jsonl or .csv")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--resume", action="store_true", help="skip ids already in the output and append")
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="longer articles get an error record")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        model = diploml.load(args.model)
        counts = predict_file(model, args.input, args.output, batch_size=args.batch_size, resume=args.resume,
                              max_chars=args.max_chars, progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{counts['ok']} predicted, {counts['error']} errors, {counts['skipped']} skipped (already in output)"
          f" -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
