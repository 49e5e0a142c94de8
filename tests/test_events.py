"""Event groups and event-grouped splits: retellings share a split; a group crossing splits is an error."""

from __future__ import annotations

import random
from collections import Counter

from diploml.data.events import assign_splits, crossing_groups, event_groups, group_members, same_event
from diploml.data.validate import validate_records
from diploml.partners.regions import regions_of


def _rec(rid, topic="visit", date="2024-05-10", partners=("LA",), event=None, split=None, text=None):
    words = " ".join(f"từ{rid}_{k}" for k in range(30))
    rec = {"id": rid, "title": f"Tin {rid}", "text": text or f"Nội dung riêng {rid} {words}", "date": date,
           "topic": topic, "partners": list(partners), "regions": regions_of(list(partners)), "sectors": []}
    if event:
        rec["event"] = event
    if split:
        rec["split"] = split
    return rec


def test_same_topic_close_dates_and_a_shared_partner_link():
    a = _rec("a", date="2024-05-10", partners=["LA", "KH"])
    assert same_event(a, _rec("b", date="2024-05-13", partners=["KH"]))
    assert not same_event(a, _rec("c", date="2024-05-14", partners=["KH"]))       # 4 days apart
    assert not same_event(a, _rec("d", topic="meeting", date="2024-05-10"))       # other topic
    assert not same_event(a, _rec("e", date="2024-05-10", partners=["TH"]))       # no shared partner
    assert not same_event(a, _rec("f", date=""))                                  # no date


def test_event_keys_decide_between_keyed_records():
    assert same_event(_rec("a", event="k1"), _rec("b", topic="meeting", partners=["FR"], event="k1"))
    assert not same_event(_rec("a", event="k1"), _rec("b", event="k2"))           # heuristic would link
    assert same_event(_rec("a", event="k1"), _rec("b"))                           # one unkeyed: heuristic


def test_groups_are_transitive_and_ids_do_not_depend_on_order():
    recs = [_rec("x3", date="2024-05-16"), _rec("x1", date="2024-05-10"), _rec("x2", date="2024-05-13"),
            _rec("y1", date="2024-05-10", partners=["TH"]), _rec("k1", event="ev-b", partners=["FR"]),
            _rec("k2", event="ev-b", topic="meeting", partners=["DE"]), _rec("k3", event="ev-a", date="2024-05-17")]
    groups = event_groups(recs)
    # x1-x2 (3 days), x2-x3 (3 days) chain into one group with x1 though x1-x3 are 6 days apart;
    # k3 (keyed) links to unkeyed x3 by the heuristic
    assert groups["x1"] == groups["x2"] == groups["x3"] == groups["k3"] == "event:ev-a"
    assert groups["k1"] == groups["k2"] == "event:ev-b"
    assert groups["y1"] == "id:y1"
    shuffled = recs[:]
    random.Random(1).shuffle(shuffled)
    assert event_groups(shuffled) == groups


def test_crossing_group_is_reported_by_the_validator():
    recs = [_rec("a", split="train"), _rec("b", date="2024-05-12", split="test"),
            _rec("c", partners=["TH"], split="dev")]
    assert crossing_groups(recs) == {"id:a": {"test": ["b"], "train": ["a"]}}
    errors = validate_records(recs).errors
    assert any("crosses splits" in e and "'id:a'" in e for e in errors), errors
    recs[1]["split"] = "train"
    assert not any("crosses splits" in e for e in validate_records(recs).errors)


def test_event_key_is_an_allowed_field():
    assert validate_records([_rec("a", event="2024-05-10-la-visit")]).ok


def test_assign_splits_keeps_groups_whole_and_is_stratified():
    recs = []
    for t, topic in enumerate(("visit", "meeting", "message")):
        for i in range(60):
            # every third event is told by two or three articles
            n = 1 + (i % 3 == 0) + (i % 9 == 0)
            for j in range(n):
                recs.append(_rec(f"{topic}-{i}-{j}", topic=topic, date=f"20{10 + t}-01-{1 + i % 28:02d}",
                                 event=f"{topic}-{i}"))
    split = assign_splits(recs)
    assert set(split) == {r["id"] for r in recs}
    for members in group_members(event_groups(recs)).values():
        assert len({split[m] for m in members}) == 1
    for topic in ("visit", "meeting", "message"):
        c = Counter(split[r["id"]] for r in recs if r["topic"] == topic)
        total = sum(c.values())
        assert abs(c["test"] / total - 0.17) < 0.05 and abs(c["dev"] / total - 0.12) < 0.05, c
    assert assign_splits(list(reversed(recs))) == split


def test_assign_splits_with_fixed_splits_never_moves_an_old_article():
    old = [_rec(f"o{i}", topic="visit", date=f"2015-{1 + i % 12:02d}-01", event=f"o{i}") for i in range(40)]
    fixed = assign_splits(old)
    new = [_rec(f"n{i}", topic="visit", date=f"2019-{1 + i % 12:02d}-01", event=f"n{i}") for i in range(40)]
    joins = _rec("n-join", topic="visit", date="2015-01-01", event="o0")  # retells an old event
    split = assign_splits(old + new + [joins], fixed=fixed)
    assert all(split[r["id"]] == fixed[r["id"]] for r in old)
    assert split["n-join"] == fixed["o0"]
    c = Counter(split[r["id"]] for r in new)  # the new events are split by the usual rule among themselves
    assert c["test"] == round(40 * 0.17) and c["dev"] == round(40 * 0.12), c
    # without fixed splits the same records are reassigned from scratch: some old ones move
    assert any(assign_splits(old + new)[r["id"]] != fixed[r["id"]] for r in old)


def test_build_corpus_reads_part_and_v2_sources(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "build_corpus.py"
    spec = importlib.util.spec_from_file_location("build_corpus", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name in ("part_b.jsonl", "part_a.jsonl", "v2_g.jsonl", "notes.jsonl"):
        (tmp_path / name).write_text("", "utf-8")
    assert [p.name for p in mod.source_files(tmp_path)] == ["part_a.jsonl", "part_b.jsonl", "v2_g.jsonl"]
    assert "event" in mod.FIELDS
