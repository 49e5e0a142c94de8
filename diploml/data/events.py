"""Event groups: articles that report the same event, so that splits can keep them together.

Two articles report the same event when

- both carry an ``event`` key (corpus v2 records): the keys are equal; different keys are different
  events, whatever else the two articles share;
- otherwise (at least one lacks a key): same ``topic``, dates at most ``max_days`` apart (3) and at
  least one shared partner.

Groups are the connected components of these links (union-find), so a chain of retellings forms one
group. A group's id is ``event:<smallest key>`` when a member carries a key, else ``id:<smallest id>``:
it does not depend on record order. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date

MAX_DAYS = 3


def _date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


class _UnionFind:
    def __init__(self, items: Iterable[str]):
        self.parent = {x: x for x in items}

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def same_event(a: dict, b: dict, max_days: int = MAX_DAYS) -> bool:
    """Whether two records report the same event (the link rule of the module doc)."""
    ka, kb = a.get("event"), b.get("event")
    if ka and kb:
        return ka == kb
    if a.get("topic") != b.get("topic") or not set(a.get("partners") or []) & set(b.get("partners") or []):
        return False
    da, db = _date(a.get("date")), _date(b.get("date"))
    return da is not None and db is not None and abs((da - db).days) <= max_days


def event_groups(records: list[dict], max_days: int = MAX_DAYS) -> dict[str, str]:
    """Map each record id to its event group id (see the module doc)."""
    ids = [str(r["id"]) for r in records]
    uf = _UnionFind(ids)
    by_key: dict[str, list[str]] = defaultdict(list)
    for rid, r in zip(ids, records, strict=True):
        if r.get("event"):
            by_key[str(r["event"])].append(rid)
    for members in by_key.values():
        for other in members[1:]:
            uf.union(members[0], other)
    # heuristic links: within a topic, records sorted by date; compare only within the date window
    by_topic: dict[str, list[tuple[date, str, dict]]] = defaultdict(list)
    for rid, r in zip(ids, records, strict=True):
        d = _date(r.get("date"))
        if d is not None:
            by_topic[str(r.get("topic"))].append((d, rid, r))
    for items in by_topic.values():
        items.sort(key=lambda t: (t[0], t[1]))
        for i, (da, ida, ra) in enumerate(items):
            for db, idb, rb in items[i + 1:]:
                if (db - da).days > max_days:
                    break
                if ra.get("event") and rb.get("event"):
                    continue  # both keyed: the keys decide
                if set(ra.get("partners") or []) & set(rb.get("partners") or []):
                    uf.union(ida, idb)
    members: dict[str, list[str]] = defaultdict(list)
    for rid in ids:
        members[uf.find(rid)].append(rid)
    key_of = {rid: str(r["event"]) for rid, r in zip(ids, records, strict=True) if r.get("event")}
    out = {}
    for group in members.values():
        keys = sorted(key_of[m] for m in group if m in key_of)
        gid = f"event:{keys[0]}" if keys else f"id:{min(group)}"
        for m in group:
            out[m] = gid
    return out


def group_members(groups: dict[str, str]) -> dict[str, list[str]]:
    """Group id -> sorted member ids."""
    out: dict[str, list[str]] = defaultdict(list)
    for rid, gid in groups.items():
        out[gid].append(rid)
    return {g: sorted(m) for g, m in out.items()}


def crossing_groups(records: list[dict], groups: dict[str, str] | None = None) -> dict[str, dict[str, list[str]]]:
    """Event groups whose members sit in more than one split: group id -> {split: member ids}.

    Records without a ``split`` are ignored.
    """
    groups = groups if groups is not None else event_groups(records)
    splits: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.get("split"):
            splits[groups[str(r["id"])]][r["split"]].append(str(r["id"]))
    return {g: {s: sorted(ids) for s, ids in by.items()} for g, by in sorted(splits.items()) if len(by) > 1}


def assign_splits(records: list[dict], *, dev_fraction: float = 0.12, test_fraction: float = 0.17, seed: int = 2026,
                  groups: dict[str, str] | None = None, fixed: dict[str, str] | None = None) -> dict[str, str]:
    """Record id -> split, with every event group in one split.

    Groups are stratified by their majority topic; within a topic they are ordered by a hash of
    ``seed`` and the group id, and whole groups fill test, then dev, up to the fractions of that topic's
    articles; the rest is train. Deterministic and independent of record order.

    ``fixed`` (record id -> split, e.g. the splits of the corpus already published): a group holding such
    records keeps their split (the most common one, if a new record joins groups of two splits), so that
    adding articles never moves an old one; only the other groups are assigned, by the rule above.
    """
    groups = groups if groups is not None else event_groups(records)
    members = group_members(groups)
    topic_of = {str(r["id"]): str(r.get("topic", "")) for r in records}
    out: dict[str, str] = {}
    for gid, ids in list(members.items()):
        known = Counter(fixed[i] for i in ids if i in fixed) if fixed else Counter()
        if known:
            split = min(known, key=lambda s: (-known[s], s))
            out.update({rid: split for rid in ids})
            del members[gid]
    strata: dict[str, list[str]] = defaultdict(list)
    for gid, ids in members.items():
        counts = Counter(topic_of[i] for i in ids)
        topic = min(counts, key=lambda t: (-counts[t], t))
        strata[topic].append(gid)
    for topic in sorted(strata):
        gids = sorted(strata[topic], key=lambda g: hashlib.sha1(f"{seed}:{g}".encode()).hexdigest())
        total = sum(len(members[g]) for g in gids)
        want_test, want_dev = round(total * test_fraction), round(total * dev_fraction)
        n_test = n_dev = 0
        for g in gids:
            size = len(members[g])
            if n_test < want_test and n_test + size <= want_test + max(1, size // 2):
                split, n_test = "test", n_test + size
            elif n_dev < want_dev and n_dev + size <= want_dev + max(1, size // 2):
                split, n_dev = "dev", n_dev + size
            else:
                split = "train"
            for rid in members[g]:
                out[rid] = split
    return out
