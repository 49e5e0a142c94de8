"""The bundled corpus passes the validator and meets the issue's minimums; the validator catches errors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from diploml.cli import main as cli_main
from diploml.data.validate import read_jsonl, validate_records
from diploml.partners.regions import regions_of


def validate_main(argv):
    return cli_main(argv)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "diploml" / "resources" / "corpus" / "diplomatic_news.jsonl"


@pytest.fixture(scope="module")
def records():
    return read_jsonl(CORPUS)


def test_validator_passes_on_the_corpus(capsys):
    assert validate_main(["validate", str(CORPUS), "--seeds", str(ROOT / "seeds"), "--require-split"]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_corpus_meets_minimums(records):
    n = len(records)
    assert n >= 900
    c = {k: Counter() for k in ("topic", "regions", "sectors", "split")}
    for r in records:
        c["topic"][r["topic"]] += 1
        c["regions"].update(r["regions"])
        c["sectors"].update(r["sectors"])
        c["split"][r["split"]] += 1
    assert len(c["topic"]) == 8 and min(c["topic"].values()) >= 70
    assert len(c["regions"]) == 11 and min(c["regions"].values()) >= 45
    assert len(c["sectors"]) == 16 and min(c["sectors"].values()) >= 45
    assert c["split"]["dev"] >= 100 and c["split"]["test"] >= 150
    countries = {p for r in records for p in r["partners"] if not p.startswith("ORG:")}
    assert len(countries) >= 100
    assert sum(len(r["regions"]) > 1 for r in records) >= 0.15 * n
    assert sum(len((r["title"] + " " + r["text"]).split()) > 500 for r in records) >= 0.10 * n
    traits = Counter(t for r in records for t in r.get("traits", []))
    for t in ("indirect_partner", "non_partner_mention", "implicit_sector", "page_noise"):
        assert traits[t] >= 0.15 * n, t
    for t in ("sideline_meeting", "talks_during_visit", "call_with_congratulations",
              "consular_without_officials", "interview_before_visit", "roundup"):
        assert traits[f"hard:{t}"] >= 10, t


def test_every_split_has_every_topic(records):
    for split in ("train", "dev", "test"):
        assert len({r["topic"] for r in records if r["split"] == split}) == 8


def test_seed_labels_follow_the_m49_mapping():
    for line in (ROOT / "seeds" / "labels.jsonl").read_text("utf-8").splitlines():
        rec = json.loads(line)
        assert sorted(rec["regions"]) == regions_of(rec["partners"])
        assert (ROOT / "seeds" / rec["file"]).is_file(), rec["file"]  # every labelled seed is in the folder


def test_seed_labels_match_the_guide_table():
    """seeds/labels.jsonl says what the guide's table of the five seeds says (the guide ships in docs/)."""
    guide = (ROOT / "docs" / "annotation-guide.md").read_text("utf-8")
    rows = {}
    for line in guide.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and cells[0].endswith(".txt"):
            rows[cells[0]] = {"topic": cells[1], "partners": sorted(cells[2].split(", ")),
                              "regions": sorted(cells[3].split(", ")), "sectors": sorted(cells[4].split(", "))}
    assert len(rows) == 5
    for line in (ROOT / "seeds" / "labels.jsonl").read_text("utf-8").splitlines():
        rec = json.loads(line)
        got = {k: (rec[k] if k == "topic" else sorted(rec[k])) for k in ("topic", "partners", "regions", "sectors")}
        assert got == rows[rec["file"]], rec["file"]


def test_seed_files_are_byte_copies_of_shared():
    shared = ROOT.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("shared/seeds not beside the checkout")
    for f in sorted(shared.glob("*.txt")):
        assert (ROOT / "seeds" / f.name).read_bytes() == f.read_bytes(), f.name


def _good(i, **kw):
    words = " ".join(f"từ{i}_{k}" for k in range(30))
    rec = {"id": f"x{i}", "title": f"Tin {i}", "text": f"Nội dung riêng số {i} {words}",
           "topic": "visit", "partners": ["FR"], "regions": ["europe"], "sectors": ["education"]}
    rec.update(kw)
    return rec


def test_validator_catches_each_kind_of_error():
    bad = [
        _good(1),
        _good(2, regions=["africa"]),                       # partners -> regions mismatch
        _good(3, topic="visits"),                           # unknown label
        _good(4, partners=["XX"], regions=[]),              # unknown code
        _good(1, text="khác hẳn " * 20),                    # duplicate id
        _good(6, text=_good(1)["text"]),                    # near-duplicate text
        _good(7, colour="red"),                             # unknown field
        {k: v for k, v in _good(8).items() if k != "sectors"},  # missing field
        _good(9, split="validation"),                       # bad split
    ]
    errors = "\n".join(validate_records(bad).errors)
    for expected in ("regions ['africa'] != M49 mapping", "unknown topic label 'visits'", "unknown partner code 'XX'",
                     "duplicate id", "near-duplicate articles", "unknown field 'colour'", "missing field 'sectors'",
                     "split must be one of"):
        assert expected in errors, expected
    assert validate_records([_good(1), _good(2)]).ok
