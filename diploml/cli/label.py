"""Pre-label articles with the rule baseline: silver labels in the corpus format, for human review.

    diploml label INPUT -o silver.jsonl [--rules-dir RUN_OR_LEXICON_DIR]
"""

from __future__ import annotations


def register(sub, prog: str | None = None) -> None:
    from diploml.cli import Formatter

    p = sub.add_parser("label", help="pre-label articles with the rules (silver labels for review)",
                       description=__doc__, formatter_class=Formatter, **({"prog": prog} if prog else {}))
    p.add_argument("input", help="JSONL/CSV with id, title, text; or a folder of .txt files")
    p.add_argument("-o", "--output", required=True, help="output JSONL (corpus format, with \"silver\": true)")
    p.add_argument("--rules-dir", help="a folder with edited topic/sectors/partners.yaml (default: bundled)")
    p.set_defaults(func=run)


def run(args) -> int:
    import json
    from pathlib import Path

    from diploml.cli import error
    from diploml.config import RunConfig
    from diploml.data import DataError, read_records
    from diploml.models.rules import RuleClassifier, silver_records

    try:
        model = RuleClassifier(RunConfig(model={"type": "rules", "rules_dir": args.rules_dir}))
        articles = []
        for rec in read_records(args.input):
            if not isinstance(rec.data.get("text"), str):
                raise DataError(f"{rec.where}: expected a 'text' string")
            articles.append({"id": str(rec.data.get("id") or rec.where), "title": rec.data.get("title") or "",
                             "text": rec.data["text"]})
        records = silver_records(articles, model)
    except (DataError, OSError, ValueError) as e:
        return error(e)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} silver records to {out} (review them before use)")
    return 0
