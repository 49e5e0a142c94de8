"""Check one corpus-v2 source file while it is being written.

    python scripts/check_v2_part.py data_src/v2_g.jsonl [--min-words 550] [--max-words 1100]

Reports, per article: JSON/field/label errors, regions that do not follow M49(partners), word counts
outside the range (default 550-1100; a batch of short news items sets its own), and headlines that
name the activity with a cue word (title shortcut). Prints a summary: count, topics, median words,
share over 800 words, share of cue-free headlines. Exit 1 on errors.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

from diploml.data.headline_cues import CUES
from diploml.partners.regions import regions_of
from diploml.tasks import load_task_schema

FIELDS = {"id", "title", "text", "date", "topic", "partners", "regions", "sectors", "event", "traits", "note"}
REQUIRED = FIELDS - {"traits", "note"}



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="check one corpus-v2 source file")
    parser.add_argument("path", type=Path)
    parser.add_argument("--min-words", type=int, default=550)
    parser.add_argument("--max-words", type=int, default=1100)
    args = parser.parse_args(argv)
    path, lo, hi = args.path, args.min_words, args.max_words
    tasks = {t.name: t for t in load_task_schema("diplomatic_news")}
    errors, words, topics, cue_titles, ids = [], [], Counter(), 0, set()
    for lineno, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: invalid JSON ({e.msg})")
            continue
        missing = REQUIRED - set(r)
        unknown = set(r) - FIELDS
        if missing or unknown:
            errors.append(f"{where}: missing {sorted(missing)} unknown {sorted(unknown)}")
            continue
        if r["id"] in ids:
            errors.append(f"{where}: duplicate id {r['id']}")
        ids.add(r["id"])
        if r["topic"] not in tasks["topic"].labels:
            errors.append(f"{where}: unknown topic {r['topic']!r}")
        for name in ("regions", "sectors"):
            bad = [v for v in r[name] if v not in tasks[name].labels]
            if bad:
                errors.append(f"{where}: unknown {name} {bad}")
        try:
            if sorted(r["regions"]) != regions_of(r["partners"]):
                errors.append(f"{where}: regions {sorted(r['regions'])} != M49(partners) {regions_of(r['partners'])}")
        except KeyError as e:
            errors.append(f"{where}: {e.args[0]}")
        n = len(r["text"].split())
        words.append(n)
        if not lo <= n <= hi:
            errors.append(f"{where} ({r['id']}): {n} words (want {lo}-{hi})")
        if any(c in r["title"].lower() for c in CUES):
            cue_titles += 1
        topics[r["topic"]] += 1
    for e in errors:
        print(e)
    if words:
        print(f"\n{len(words)} articles; topics {dict(topics)}")
        print(f"median words {statistics.median(words):.0f}; over 800: {sum(w > 800 for w in words) / len(words):.0%};"
              f" headlines without an activity cue: {1 - cue_titles / len(words):.0%}")
    print(f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
