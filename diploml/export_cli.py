"""``diploml export``: write an ONNX graph (and an int8 copy) of a transformer run directory.

    diploml export --model RUN_DIR --format onnx [--int8] [--out DIR]

Files go to RUN_DIR/onnx/ (model.onnx, model.int8.onnx); load them with
``diploml.load(RUN_DIR, backend="onnx")`` or ``backend="onnx-int8"``.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a trained model to ONNX (optionally int8)", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, metavar="RUN_DIR", help="transformer run directory")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="export format (only onnx for now)")
    p.add_argument("--int8", action="store_true", help="also write a dynamically quantised int8 graph")
    p.add_argument("--out", metavar="DIR", help="output folder (default: RUN_DIR/onnx)")
    p.set_defaults(func=export_cmd)


def export_cmd(args) -> int:
    from diploml.export import export_onnx

    try:
        written = export_onnx(args.model, args.out, int8=args.int8)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for kind, path in written.items():
        print(f"{kind}: {path}")
    return 0
