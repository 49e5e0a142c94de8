"""Merge the corpus sources (``data_src/part_*.jsonl``) into the bundled corpus, with splits.

    python scripts/build_corpus.py

Writes ``diploml/resources/corpus/diplomatic_news.jsonl`` (every article, with a stratified,
deterministic ``split``) and ``tiny_sample.jsonl`` (a small subset for configs/tiny.yaml), then
validates the result. Splits hash each id within its topic, so adding articles later moves none
of the existing ones between splits unless the per-topic counts change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from diploml.data import Article, split_articles
from diploml.data.validate import format_counts, read_jsonl, validate_records

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "diploml" / "resources" / "corpus"
FIELDS = ("id", "title", "text", "date", "topic", "partners", "regions", "sectors", "split", "traits", "note")


def main(argv=None) -> int:
    records = []
    for part in sorted((ROOT / "data_src").glob("part_*.jsonl")):
        records.extend(read_jsonl(part))
    arts = [Article(id=r["id"], text=r["text"], title=r["title"], labels={"topic": r["topic"]}) for r in records]
    splits = split_articles(arts, dev_fraction=0.12, test_fraction=0.17, seed=2026)
    split_of = {a.id: name for name, group in splits.items() for a in group}
    for r in records:
        r["split"] = split_of[r["id"]]
        r.pop("_where", None)
    records.sort(key=lambda r: r["id"])
    seeds = {p.name: p.read_text("utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))}
    rep = validate_records(records, seeds=seeds, require_split=True)
    print(format_counts(rep))
    if not rep.ok:
        for e in rep.errors:
            print("ERROR", e, file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    _write(OUT / "diplomatic_news.jsonl", records)
    # tiny sample: per topic a few train articles, and two each for dev and test
    tiny, per = [], {}
    for r in records:
        quota = {"train": 12, "dev": 2, "test": 2}[r["split"]]
        key = (r["topic"], r["split"])
        if per.get(key, 0) < quota and len(r["text"].split()) < 400:
            per[key] = per.get(key, 0) + 1
            tiny.append(r)
    _write(OUT / "tiny_sample.jsonl", tiny)
    print(f"wrote {len(records)} articles and a tiny sample of {len(tiny)}")
    return 0


def _write(path: Path, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({k: r[k] for k in FIELDS if k in r}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
