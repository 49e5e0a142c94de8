"""Regenerate the statistics of the corpus data card (docs/data_card.md) from the bundled corpus.

    python scripts/data_card.py

Replaces the text between the STATS markers; everything else in the card is hand-written.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from diploml.data.validate import read_jsonl
from diploml.tasks import load_task_schema

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "diploml" / "resources" / "corpus" / "diplomatic_news.jsonl"
CARD = ROOT / "docs" / "data_card.md"
BEGIN, END = "<!-- STATS:BEGIN -->", "<!-- STATS:END -->"
SPLITS = ("train", "dev", "test")


def stats(records: list[dict]) -> str:
    tasks = load_task_schema("diplomatic_news")
    n = len(records)
    out = [f"Articles: **{n}** (train {sum(r['split'] == 'train' for r in records)}, "
           f"dev {sum(r['split'] == 'dev' for r in records)}, test {sum(r['split'] == 'test' for r in records)})."]
    for t in tasks:
        out += ["", f"### {t.name}", "", "| label | all | train | dev | test |", "| --- | --- | --- | --- | --- |"]
        for lab in t.labels:
            tagged = [r for r in records if (lab in r[t.name] if t.multi_label else r[t.name] == lab)]
            row = [len(tagged)] + [sum(r["split"] == s for r in tagged) for s in SPLITS]
            out.append(f"| {lab} | " + " | ".join(map(str, row)) + " |")
    words = [len((r["title"] + " " + r["text"]).split()) for r in records]
    countries = Counter(p for r in records for p in r["partners"] if not p.startswith("ORG:"))
    orgs = Counter(p for r in records for p in r["partners"] if p.startswith("ORG:"))
    long_ones = sum(w > 500 for w in words)
    multi_region = sum(len({x for x in r["regions"]}) > 1 for r in records)
    traits = Counter(t for r in records for t in r.get("traits", []))
    years = Counter(r.get("date", "?")[:4] for r in records)
    out += ["", "### Shape", "",
            "| measure | value |", "| --- | --- |",
            f"| words per article (mean / median / max) | {sum(words) / n:.0f} / {sorted(words)[n // 2]} "
            f"/ {max(words)} |",
            f"| articles longer than 500 words | {long_ones} ({long_ones / n:.0%}) |",
            f"| distinct partner countries / organisations | {len(countries)} / {len(orgs)} |",
            f"| articles with partners in several regions | {multi_region} ({multi_region / n:.0%}) |",
            f"| years covered | {min(y for y in years if y != '?')}–{max(y for y in years if y != '?')} |",
            f"| sectors per article (mean) | {sum(len(r['sectors']) for r in records) / n:.1f} |"]
    out += ["", "### Difficulty traits (tagged by the writers)", "",
            "| trait | articles | share |", "| --- | --- | --- |"]
    for k, v in sorted(traits.items()):
        out.append(f"| {k} | {v} | {v / n:.0%} |")
    top = ", ".join(f"{code} {k}" for code, k in countries.most_common(12))
    out += ["", f"Most frequent partners: {top}."]
    return "\n".join(out)


def main(argv=None) -> int:
    records = read_jsonl(CORPUS)
    card = CARD.read_text("utf-8")
    if BEGIN not in card or END not in card:
        print(f"{CARD}: markers {BEGIN} / {END} missing", file=sys.stderr)
        return 1
    head, rest = card.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    CARD.write_text(f"{head}{BEGIN}\n{stats(records)}\n{END}{tail}", "utf-8")
    print(f"updated {CARD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
