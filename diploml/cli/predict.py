"""Label articles with a saved model, streaming (memory stays flat whatever the input size).

    diploml predict --model RUN_DIR INPUT -o OUT.jsonl [--resume | --overwrite] [--backend onnx-int8]
    diploml predict --engine ray --model RUN_DIR INPUT -o OUT_DIR [--num-actors 2]   (pip install 'diploml[ray]')

INPUT: a JSONL or CSV file (id, title, text), a folder of .txt files (like seeds/), or - for stdin.
OUT: .jsonl (full results: labels, probabilities, partner mentions) or .csv (labels only).
Bad records become error records and the job goes on; the exit status is 1 when every record failed.
"""

from __future__ import annotations


def register(sub, prog: str | None = None) -> None:
    from diploml.cli import Formatter

    p = sub.add_parser("predict", help="label a file of articles with a saved model", description=__doc__,
                       formatter_class=Formatter, **({"prog": prog} if prog else {}))
    p.add_argument("--model", required=True, metavar="RUN_DIR", help="saved run directory")
    p.add_argument("input", help="JSONL/CSV file, folder of .txt files, or - for stdin")
    p.add_argument("-o", "--output", required=True, help="output .jsonl or .csv")
    p.add_argument("--batch-size", type=int, default=16, help="articles per forward pass")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="skip ids already in the output and append")
    group.add_argument("--overwrite", action="store_true", help="replace an output that already holds results")
    p.add_argument("--max-chars", type=int, default=200_000, help="longer articles get an error record")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--backend", default="torch", choices=["torch", "onnx", "onnx-int8"],
                   help="transformer runs: PyTorch, or the ONNX graph written by 'diploml export'")
    from diploml.serve.cli import add_ray_arguments

    add_ray_arguments(p)  # --engine ray and its options (Ray Data, one model copy per actor)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.engine == "ray":
        from diploml.serve.cli import run_ray_predict

        return run_ray_predict(args)
    import sys
    from pathlib import Path

    from diploml.cli import error
    from diploml.data import DataError
    from diploml.predict import check_paths, predict_file
    from diploml.registry import load

    backend = str(args.backend)
    if backend == "auto":  # the int8 graph when the run has one, else PyTorch
        backend = "onnx-int8" if (Path(args.model) / "onnx" / "model.int8.onnx").is_file() else "torch"
    try:
        check_paths(args.input, Path(args.output))  # before the (slow) model load
        model = load(args.model, backend=backend)
        counts = predict_file(model, args.input, args.output, batch_size=args.batch_size, resume=args.resume,
                              overwrite=args.overwrite, max_chars=args.max_chars, progress=not args.no_progress)
    except (DataError, FileNotFoundError, ValueError) as e:
        return error(e)
    print(f"{counts['ok']} predicted, {counts['error']} errors, {counts['skipped']} skipped (already in output)"
          f" -> {args.output}", file=sys.stderr)
    if counts["error"] and not counts["ok"] and not counts["skipped"]:
        print("error: every record failed (see the error lines in the output)", file=sys.stderr)
        return 1
    return 0
