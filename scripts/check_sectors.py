"""Report sectors that corpus records likely omit, from the annotation guide's cue phrases.

    python scripts/check_sectors.py data_src/part_*.jsonl [--sector industry] [--strict]

For each record, prints every sector whose cue phrase (``diploml.data.sector_cues.CUES``) occurs in a
sentence that reads as cooperation while the record's ``sectors`` lack it, with the cue and a snippet of
the sentence. Then a summary per sector: flagged records, records whose text has a cue, records tagged.
A flag is a hint for a reviewer: tag the sector only where the guide asks for it (cooperation between
Vietnam and the partner, also one item of a list), not for background. ``--strict`` exits 1 on any flag.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from diploml.data.sector_cues import CUES, cue_sectors, likely_omissions
from diploml.data.validate import read_jsonl


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="JSONL files of labelled records")
    parser.add_argument("--sector", action="append", choices=list(CUES), help="only these sectors (repeatable)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when anything is flagged")
    args = parser.parse_args(argv)
    sectors = args.sector or list(CUES)
    records = [r for f in args.files for r in read_jsonl(f)]
    flagged, with_cue, tagged = Counter(), Counter(), Counter()
    for rec in records:
        found = cue_sectors(f"{rec.get('title', '')}\n{rec.get('text', '')}")
        for sector in sectors:
            tagged[sector] += sector in rec.get("sectors", [])
            with_cue[sector] += sector in found
        for sector, cue, snippet in likely_omissions(rec):
            if sector in sectors:
                flagged[sector] += 1
                print(f"{rec.get('_where', '?')} {rec['id']} {sector} [{cue}] {snippet}")
    n_flagged = sum(flagged.values())
    print(f"\n{len(records)} records; {n_flagged} likely omission(s)")
    print(f"{'sector':<22}{'flagged':>8}{'with cue':>10}{'tagged':>8}")
    for sector in sectors:
        print(f"{sector:<22}{flagged[sector]:>8}{with_cue[sector]:>10}{tagged[sector]:>8}")
    return 1 if args.strict and n_flagged else 0


if __name__ == "__main__":
    sys.exit(main())
