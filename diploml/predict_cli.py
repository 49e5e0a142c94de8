"""``diploml predict``: label articles with a saved model, streaming (same options as scripts/predict.py).

    diploml predict --model RUN_DIR INPUT -o OUT.jsonl [--resume] [--batch-size 16] [--backend onnx-int8]

INPUT: a JSONL or CSV file (id, title, text), a folder of .txt files, or - for stdin.
OUT: .jsonl (full results) or .csv (labels only). Bad records become error records; the job goes on.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    from diploml.predict import DEFAULT_MAX_CHARS

    p = subparsers.add_parser("predict", help="label a file of articles with a saved model", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="saved model directory")
    p.add_argument("input", help="JSONL/CSV file, folder of .txt files, or - for stdin")
    p.add_argument("-o", "--output", required=True, help="output .jsonl or .csv")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--resume", action="store_true", help="skip ids already in the output and append")
    p.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="longer articles get an error record")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--backend", default="torch", choices=["torch", "onnx", "onnx-int8"],
                   help="transformer runs: PyTorch, or the ONNX graph written by 'diploml export'")
    p.set_defaults(func=predict_cmd)


def predict_cmd(args) -> int:
    import diploml
    from diploml.predict import predict_file

    try:
        kwargs = {"backend": args.backend} if args.backend != "torch" else {}
        model = diploml.load(args.model, **kwargs)
        counts = predict_file(model, args.input, args.output, batch_size=args.batch_size, resume=args.resume,
                              max_chars=args.max_chars, progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{counts['ok']} predicted, {counts['error']} errors, {counts['skipped']} skipped (already in output)"
          f" -> {args.output}", file=sys.stderr)
    return 0
