"""Corpus validator: schema, labels, partners -> regions, duplicates, events across splits, counts.

Run as ``python -m diploml.data validate FILE [FILE ...]``; exits 1 on any violation.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from diploml.data.events import crossing_groups, event_groups
from diploml.partners.regions import regions_of
from diploml.tasks import DEFAULT_SCHEMA, Task, load_task_schema

REQUIRED = {"id": str, "title": str, "text": str, "topic": str, "partners": list, "regions": list, "sectors": list}
OPTIONAL = {"split": str, "note": str, "traits": list, "date": str, "silver": bool, "event": str}
SPLITS = ("train", "dev", "test")
# Tags a corpus writer may attach, counted in the data card (see docs/annotation traits).
TRAITS = (
    "indirect_partner", "non_partner_mention", "implicit_sector", "background_sector", "page_noise",
    "hard:sideline_meeting", "hard:talks_during_visit", "hard:call_with_congratulations",
    "hard:consular_without_officials", "hard:interview_before_visit", "hard:roundup",
)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, Counter] = field(default_factory=dict)
    n: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def read_jsonl(path: str | Path) -> list[dict]:
    """Records of a JSONL file, each with its ``_where`` (file:line); bad JSON raises DataError naming the line."""
    from diploml.data.io import read_records

    records = []
    for rec in read_records(path):
        rec.data.setdefault("_where", rec.where)
        records.append(rec.data)
    return records


def shingles(text: str, n: int = 5) -> set[int]:
    words = _WORD.findall(unicodedata.normalize("NFC", text).lower())
    return {hash(" ".join(words[i:i + n])) for i in range(max(1, len(words) - n + 1))}


def near_duplicates(texts: dict[str, str], threshold: float = 0.5, against: dict[str, str] | None = None):
    """Pairs (id_a, id_b, jaccard) whose 5-word-shingle Jaccard similarity is >= threshold."""
    sh = {k: shingles(v) for k, v in texts.items()}
    other = {k: shingles(v) for k, v in (against or {}).items()}
    index: dict[int, list[str]] = {}
    for k, s in sh.items():
        for h in s:
            index.setdefault(h, []).append(k)
    pairs = []
    if against is None:
        for a, s in sh.items():
            common = Counter(b for h in s for b in index[h] if b > a)
            for b, c in common.items():
                jac = c / len(s | sh[b])
                if jac >= threshold:
                    pairs.append((a, b, round(jac, 3)))
    else:
        for a, s in other.items():
            common = Counter(b for h in s if h in index for b in index[h])
            for b, c in common.items():
                jac = c / len(s | sh[b])
                if jac >= threshold:
                    pairs.append((b, a, round(jac, 3)))
    return pairs


def validate_records(records: list[dict], tasks: list[Task] | None = None, *, seeds: dict[str, str] | None = None,
                     require_split: bool = False, near_dup_threshold: float = 0.5) -> Report:
    tasks = tasks or load_task_schema(DEFAULT_SCHEMA)
    by_name = {t.name: t for t in tasks}
    rep = Report(n=len(records))
    counts = {name: Counter() for name in ("topic", "regions", "sectors", "split", "partners", "traits")}
    seen_ids: dict[str, str] = {}
    texts: dict[str, str] = {}
    for rec in records:
        where = rec.get("_where", "?")
        rid = rec.get("id")
        label = f"{where} (id {rid!r})"
        for key, typ in REQUIRED.items():
            if key not in rec:
                rep.errors.append(f"{label}: missing field {key!r}")
            elif not isinstance(rec[key], typ):
                rep.errors.append(f"{label}: field {key!r} must be {typ.__name__}")
        for key in rec:
            if key not in REQUIRED and key not in OPTIONAL and key != "_where":
                rep.errors.append(f"{label}: unknown field {key!r}")
        if any(e.startswith(label) for e in rep.errors[-5:]):
            continue
        if rid in seen_ids:
            rep.errors.append(f"{label}: duplicate id, first at {seen_ids[rid]}")
        seen_ids[rid] = where
        if not rec["text"].strip():
            rep.errors.append(f"{label}: empty text")
        texts.setdefault(rid, rec["title"] + "\n" + rec["text"])
        for name in ("topic", "regions", "sectors"):
            task = by_name.get(name)
            values = [rec[name]] if name == "topic" else rec[name]
            if task is None:
                continue
            for v in values:
                if v not in task.labels:
                    rep.errors.append(f"{label}: unknown {name} label {v!r}")
            if name != "topic" and len(set(values)) != len(values):
                rep.errors.append(f"{label}: repeated {name} label")
            counts[name].update(values)
        if not rec["partners"]:
            rep.errors.append(f"{label}: no partners")
        try:
            expected = regions_of(rec["partners"])
            if sorted(rec["regions"]) != expected:
                rep.errors.append(f"{label}: regions {sorted(rec['regions'])} != M49 mapping of partners {expected}")
        except KeyError as e:
            rep.errors.append(f"{label}: {e.args[0]}")
        counts["partners"].update(rec["partners"])
        split = rec.get("split")
        if split is not None and split not in SPLITS:
            rep.errors.append(f"{label}: split must be one of {SPLITS}, got {split!r}")
        elif split is None and require_split:
            rep.errors.append(f"{label}: missing split")
        counts["split"][split or "-"] += 1
        for t in rec.get("traits", []):
            if t not in TRAITS:
                rep.errors.append(f"{label}: unknown trait {t!r} (known: {', '.join(TRAITS)})")
        counts["traits"].update(rec.get("traits", []))
    _check_event_splits(records, rep)
    for a, b, j in near_duplicates(texts, near_dup_threshold):
        rep.errors.append(f"near-duplicate articles {a!r} and {b!r} (5-gram Jaccard {j})")
    if seeds:
        for a, b, j in near_duplicates(texts, 0.2, against=seeds):
            rep.errors.append(f"article {a!r} overlaps seed {b!r} (5-gram Jaccard {j})")
    rep.counts = counts
    return rep


def _check_event_splits(records: list[dict], rep: Report) -> None:
    """Error for every event group (``diploml.data.events``) whose articles sit in more than one split."""
    usable = [r for r in records if isinstance(r.get("id"), str) and isinstance(r.get("partners"), list)]
    if not any(r.get("split") for r in usable):
        return
    for gid, by_split in crossing_groups(usable, event_groups(usable)).items():
        where = "; ".join(f"{s}: {', '.join(ids)}" for s, ids in sorted(by_split.items()))
        rep.errors.append(f"event group {gid!r} crosses splits ({where})")


def format_counts(rep: Report, tasks: list[Task] | None = None) -> str:
    tasks = tasks or load_task_schema(DEFAULT_SCHEMA)
    lines = [f"articles: {rep.n}"]
    for t in tasks:
        lines.append(f"\n{t.name}:")
        for lab in t.labels:
            lines.append(f"  {lab:<22}{rep.counts[t.name][lab]:>6}")
    lines.append("\nsplit: " + ", ".join(f"{k}={v}" for k, v in sorted(rep.counts["split"].items())))
    countries = [p for p in rep.counts["partners"] if not p.startswith("ORG:")]
    lines.append(f"distinct partner countries: {len(countries)}; organisations: "
                 f"{len(rep.counts['partners']) - len(countries)}")
    if rep.counts["traits"]:
        lines.append("traits: " + ", ".join(f"{k}={v}" for k, v in sorted(rep.counts["traits"].items())))
    return "\n".join(lines)
