"""``python -m diploml.data validate FILE [FILE ...] [--seeds DIR] [--require-split]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diploml.data.validate import format_counts, read_jsonl, validate_records


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m diploml.data")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check a labelled JSONL corpus and print its counts")
    v.add_argument("files", nargs="+")
    v.add_argument("--seeds", help="folder of seed .txt files that no article may overlap")
    v.add_argument("--require-split", action="store_true", help="every record must carry a split")
    args = parser.parse_args(argv)
    records = []
    try:
        for f in args.files:
            records.extend(read_jsonl(f))
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    seeds = None
    if args.seeds:
        seeds = {p.name: p.read_text("utf-8") for p in sorted(Path(args.seeds).glob("*.txt"))}
    rep = validate_records(records, seeds=seeds, require_split=args.require_split)
    print(format_counts(rep))
    for e in rep.errors:
        print(f"ERROR {e}", file=sys.stderr)
    print(f"\n{len(rep.errors)} error(s)", file=sys.stderr if rep.errors else sys.stdout)
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main())
