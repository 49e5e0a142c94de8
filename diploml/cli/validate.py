"""Check a labelled JSONL corpus (schema, labels, regions = M49(partners), duplicates) and print its counts.

    diploml validate FILE [FILE ...] [--seeds DIR] [--require-split]
"""

from __future__ import annotations


def register(sub, prog: str | None = None) -> None:
    from diploml.cli import Formatter

    p = sub.add_parser("validate", help="check a labelled corpus", description=__doc__, formatter_class=Formatter,
                       **({"prog": prog} if prog else {}))
    p.add_argument("files", nargs="+", help="corpus JSONL files")
    p.add_argument("--seeds", help="folder of seed .txt files that no article may overlap")
    p.add_argument("--require-split", action="store_true", help="every record must carry a split")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys
    from pathlib import Path

    from diploml.data.validate import format_counts, read_jsonl, validate_records

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
