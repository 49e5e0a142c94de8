"""``diploml label --rules INPUT -o silver.jsonl``: silver labels for human review."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from diploml.text import preprocess


def read_articles(path: str | Path) -> list[dict]:
    """Articles (id, title, text) from a JSONL file or a folder of .txt files.

    A .txt file (a saved page) gives id = file name without extension and the whole page as
    text with an empty title: the title is taken after cleaning (see ``silver_records``).
    """
    path = Path(path)
    if path.is_dir():
        articles = []
        for f in sorted(path.glob("*.txt")):
            articles.append({"id": f.stem, "title": "", "text": f.read_text("utf-8")})
        if not articles:
            raise ValueError(f"{path}: no .txt files found")
        return articles
    if not path.is_file():
        raise FileNotFoundError(f"input not found: {path}")
    articles = []
    for lineno, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{lineno}: invalid JSON: {e.msg}") from None
        if not isinstance(rec, dict) or "text" not in rec:
            raise ValueError(f"{path}:{lineno}: expected an object with at least a 'text' field")
        articles.append({"id": str(rec.get("id", f"{path.stem}-{lineno}")), "title": rec.get("title", ""),
                         "text": rec["text"]})
    return articles


def silver_records(articles: list[dict], model=None) -> list[dict]:
    """Corpus-format records (plus ``"silver": true``) labelled by the rule baseline."""
    from diploml.baselines.rules import RuleClassifier

    model = model or RuleClassifier()
    records = []
    for art in articles:
        title = preprocess(art.get("title") or "").replace("\n", " ")
        text = preprocess(art["text"])
        if not title:  # a page without a separate title: its first clean line is the headline
            title, _, text = text.partition("\n")
        a = model.analyse(f"{title}\n{text}" if title else text)
        records.append({
            "id": art["id"], "title": title, "text": text, "topic": a["topic"], "partners": a["partners"],
            "regions": a["regions"], "sectors": a["sectors"], "silver": True,
        })
    return records


def _run(args) -> int:
    if not args.rules:
        print("diploml label: only --rules is supported for now", file=sys.stderr)
        return 2
    from diploml.baselines.rules import RuleClassifier

    model = RuleClassifier.load(args.rules_dir) if args.rules_dir else RuleClassifier()
    try:
        records = silver_records(read_articles(args.input), model)
    except (OSError, ValueError) as e:
        print(f"diploml label: {e}", file=sys.stderr)
        return 1
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} silver records to {out} (review them before use)")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "label", help="pre-label articles with the rule baseline (silver labels for review)",
        description="Write silver labels in the corpus format for human review.",
    )
    p.add_argument("input", help="JSONL with id, title, text; or a folder of .txt files")
    p.add_argument("-o", "--output", required=True, help="output JSONL (corpus format, with \"silver\": true)")
    p.add_argument("--rules", action="store_true", help="label with the rule baseline")
    p.add_argument("--rules-dir", help="a saved rules model directory with edited lexicons (default: bundled)")
    p.set_defaults(func=_run)
