"""Label articles with a saved model, streaming (memory stays flat whatever the input size).

    python scripts/predict.py --model RUN_DIR INPUT -o OUT.jsonl [--resume] [--batch-size 16] [--backend onnx-int8]

INPUT: a JSONL or CSV file (id, title, text), a folder of .txt files (like seeds/), or - for stdin.
OUT: .jsonl (full results: labels, probabilities, partner mentions) or .csv (labels only).
Same options as ``diploml predict`` (both are defined in diploml/predict_cli.py).
"""

from __future__ import annotations

import argparse
import sys

from diploml.predict_cli import predict_cmd, register


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="predict.py")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["predict", *(sys.argv[1:] if argv is None else argv)])
    return predict_cmd(args)


if __name__ == "__main__":
    sys.exit(main())
