"""Write an ONNX graph (and an int8 copy) of a transformer run directory.

    diploml export --model RUN_DIR --format onnx [--int8] [--out DIR]

Files go to RUN_DIR/onnx/ (model.onnx, model.int8.onnx); load them with
``diploml.load(RUN_DIR, backend="onnx")`` or ``backend="onnx-int8"``.
"""

from __future__ import annotations


def register(sub, prog: str | None = None) -> None:
    from diploml.cli import Formatter

    p = sub.add_parser("export", help="export a trained model to ONNX (optionally int8)", description=__doc__,
                       formatter_class=Formatter, **({"prog": prog} if prog else {}))
    p.add_argument("--model", required=True, metavar="RUN_DIR", help="transformer run directory")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="export format")
    p.add_argument("--int8", action="store_true", help="also write a dynamically quantised int8 graph")
    p.add_argument("--out", metavar="DIR", help="output folder (default: RUN_DIR/onnx)")
    p.set_defaults(func=run)


def run(args) -> int:
    from diploml.cli import error
    from diploml.models.transformer.onnx import export_onnx

    try:
        written = export_onnx(args.model, args.out, int8=args.int8)
    except (FileNotFoundError, ValueError) as e:
        return error(e)
    for kind, path in written.items():
        print(f"{kind}: {path}")
    return 0
