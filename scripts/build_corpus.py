"""Merge the corpus sources (``data_src/part_*.jsonl`` and ``data_src/v2_*.jsonl``) into the bundled corpus.

    python scripts/build_corpus.py [--out DIR] [--reassign]

Writes ``diploml/resources/corpus/diplomatic_news.jsonl`` (every article, with a deterministic ``split``) and
``tiny_sample.jsonl`` (a small subset for configs/tiny.yaml), then validates the result. Splits are assigned
to whole event groups (``diploml.data.events``: the ``event`` key of v2 records, else same topic, dates within
3 days and a shared partner), stratified by topic, about 71/12/17: no event is told in two splits. Articles
already in the bundled corpus keep their split (``--reassign``: all anew), so a batch added later never moves
an old article between splits. ``--out`` writes elsewhere (a dry run that leaves the bundled corpus alone).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from diploml.data.events import assign_splits, event_groups, group_members
from diploml.data.validate import format_counts, read_jsonl, validate_records

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "diploml" / "resources" / "corpus"
FIELDS = ("id", "title", "text", "date", "topic", "partners", "regions", "sectors", "event", "split", "traits",
          "note")
SOURCES = ("part_*.jsonl", "v2_*.jsonl")  # data_src/unmerged/ holds what is left out (data card)
# Corpus v2 keeps at least this many articles; the shortest corpus-v1 articles (part_*.jsonl: short,
# templated, title cues) beyond it are retired, so the corpus is shaped like published articles.
# 1,500 + the 112 short-news articles, which were added; the 104 list-batch articles replaced v1 ones.
TARGET = 1612


def source_files(src: Path = ROOT / "data_src") -> list[Path]:
    return [p for pattern in SOURCES for p in sorted(src.glob(pattern))]


def retire_short_v1(records: list[dict], target: int) -> tuple[list[dict], list[str]]:
    """Drop the shortest corpus-v1 articles (those without an ``event`` key) while more than ``target`` remain.

    Deterministic: by word count, then id. Corpus-v2 articles (with ``event``) are never dropped.
    """
    v1 = sorted((r for r in records if not r.get("event")), key=lambda r: (len(r["text"].split()), r["id"]))
    drop = {r["id"] for r in v1[:max(0, min(len(v1), len(records) - target))]}
    return [r for r in records if r["id"] not in drop], sorted(drop)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="merge data_src/ into the bundled corpus, with event-grouped splits")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    parser.add_argument("--target", type=int, default=TARGET,
                        help="keep at least this many articles, retiring the shortest corpus-v1 ones beyond it")
    parser.add_argument("--reassign", action="store_true",
                        help="assign every split from scratch (default: articles of the bundled corpus keep theirs)")
    args = parser.parse_args(argv)
    records = []
    for part in source_files():
        records.extend(read_jsonl(part))
    records, retired = retire_short_v1(records, args.target)
    print(f"retired {len(retired)} of the shortest corpus-v1 articles (kept {len(records)}, target {args.target})")
    groups = event_groups(records)
    fixed = {}
    if not args.reassign and (OUT / "diplomatic_news.jsonl").is_file():
        # the published splits stay: articles added later never move an old one between splits
        fixed = {str(r["id"]): r["split"] for r in read_jsonl(OUT / "diplomatic_news.jsonl") if r.get("split")}
    split_of = assign_splits(records, dev_fraction=0.12, test_fraction=0.17, seed=2026, groups=groups, fixed=fixed)
    print(f"{sum(str(r['id']) in fixed for r in records)} articles keep their published split; "
          f"{sum(str(r['id']) not in fixed for r in records)} new ones assigned")
    for r in records:
        r["split"] = split_of[str(r["id"])]
    members = group_members(groups)
    print(f"{len(records)} articles from {len(source_files())} files; {len(members)} events, "
          f"{sum(len(m) > 1 for m in members.values())} told by more than one article")
    seeds = {p.name: p.read_text("utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))}
    rep = validate_records(records, seeds=seeds, require_split=True)
    print(format_counts(rep))
    if not rep.ok:
        for e in rep.errors:
            print("ERROR", e, file=sys.stderr)
        return 1
    for r in records:
        r.pop("_where", None)
    records.sort(key=lambda r: r["id"])
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "diplomatic_news.jsonl", records)
    # tiny sample: per topic a few train articles, and two each for dev and test
    tiny, per = [], {}
    for r in records:
        quota = {"train": 12, "dev": 2, "test": 2}[r["split"]]
        key = (r["topic"], r["split"])
        if per.get(key, 0) < quota and len(r["text"].split()) < 400:
            per[key] = per.get(key, 0) + 1
            tiny.append(r)
    _write(out / "tiny_sample.jsonl", tiny)
    print(f"wrote {len(records)} articles and a tiny sample of {len(tiny)}")
    return 0


def _write(path: Path, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({k: r[k] for k in FIELDS if k in r}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
