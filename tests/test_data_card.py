"""Data-card statistics (scripts/data_card.py) on small in-memory corpora."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from diploml.data.headline_cues import CUES, has_activity_cue

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def card():
    return _script("data_card")


def _rec(rid, split, topic="visit", title="Tin", text="Đoạn một.\n\nĐoạn hai.", partners=("LA",), date="2024-01-01"):
    return {"id": rid, "split": split, "topic": topic, "title": title, "text": text, "partners": list(partners),
            "regions": [], "sectors": [], "date": date}


def test_headline_cues_are_shared_with_the_writers_check():
    assert _script("check_v2_part").CUES is CUES
    assert has_activity_cue("Thủ tướng ĐIỆN ĐÀM với Thủ tướng Lào")
    assert not has_activity_cue("Đưa quan hệ Việt Nam - Lào lên tầm cao mới")


def test_split_stats_count_articles_events_length_and_cues(card):
    long_text = "\n\n".join(" ".join(["từ"] * 300) for _ in range(3))  # 900 words, 3 paragraphs
    recs = [_rec("a", "train", title="Hội đàm Việt Nam - Lào", text=long_text),
            _rec("b", "train", date="2024-01-02"),                 # same event as a
            _rec("c", "test", partners=["TH"], title="Mở ra chương mới")]
    lines = "\n".join(card.split_stats(recs))
    assert "| train | 2 | 1 | 452 | 2 | 50% | 50% |" in lines
    assert "| test | 1 | 1 | 4 | 2 | 0% | 0% |" in lines
    assert "another article also tells: 2 (67%); event groups crossing splits: 0." in lines
    recs[1]["split"] = "test"
    assert "event groups crossing splits: 1." in "\n".join(card.split_stats(recs))


def test_multi_partner_stats(card):
    recs = [_rec("m1", "train", topic="multilateral", partners=["ORG:UN", "FR"]),
            _rec("m2", "train", topic="multilateral", partners=["ORG:UN"]),
            _rec("g1", "test", topic="meeting", partners=["FR", "DE", "IT"]),
            _rec("g2", "test", topic="meeting", partners=["FR"])]
    lines = "\n".join(card.multi_partner_stats(recs))
    assert "| multilateral articles with more than one partner | 1 of 2 (50%) |" in lines
    assert "| most partners in one meeting article | 3 (`g1`) |" in lines
    assert "| articles with 4 or more partners | 0 |" in lines
    assert "| articles naming 4 or more countries/organisations that are not partners | 0 |" in lines


def test_list_stats_count_named_non_partners_and_partner_lists(card):
    listed = "Các thành viên gồm Pháp, Đức, Italy, Nhật Bản và Canada đã dự hội nghị Liên hợp quốc."
    recs = [_rec("a", "train", topic="multilateral", partners=["ORG:UN"], text=listed),
            _rec("b", "train", topic="message", partners=["FR", "DE", "IT", "JP", "CA"], text=listed)]
    lines = "\n".join(card.multi_partner_stats(recs))
    assert "| articles naming 4 or more countries/organisations that are not partners | 1 |" in lines
    assert "| articles with 4 or more partners | 1 |" in lines


def test_shortcut_report_finds_a_title_shortcut(card):
    # titles name the activity, bodies are shared filler: title-only must be perfect, the lead useless
    recs = []
    for i in range(40):
        topic, title = ("phone_call", "Điện đàm với đối tác") if i % 2 else ("message", "Điện mừng gửi đối tác")
        split = "test" if i % 5 == 0 else "train"
        recs.append(_rec(f"r{i}", split, topic=topic, title=f"{title} số {i}",
                         text="Hai bên trao đổi về quan hệ hợp tác. " * 5, date=f"20{10 + i % 15}-0{1 + i % 9}-01"))
    acc = card.shortcut_accuracies(recs)
    assert acc["title only"] == 1.0
    assert acc["first 15 words of the body"] <= 0.75
    lines = "\n".join(card.shortcut_report(recs))
    assert "**not met** (1.000)" in lines


def test_real_dev_stats_compare_sector_counts_and_find_told_events(card):
    recs = [dict(_rec("a", "train", partners=["LA"], date="2024-01-08"), sectors=["transport", "education"]),
            dict(_rec("b", "test", partners=["TH"], date="2024-01-08"), sectors=[]),
            dict(_rec("c", "dev", topic="message", partners=["LA"], date="2024-01-08"), sectors=["health"])]
    real = [{"id": "rd-1", "topic": "visit", "partners": ["LA"], "date": "2024-01-06", "sectors": []},  # told by a
            {"id": "rd-2", "topic": "visit", "partners": ["LA"], "date": "2024-02-20", "sectors": ["energy"]},
            {"id": "rd-3", "topic": "visit", "partners": ["TH"], "date": "2024-01-09", "sectors": []}]  # only test
    lines = "\n".join(card.real_dev_stats(recs, real))
    assert "| corpus | 3 | 33% | 33% | 33% | 0% | 0% | 1.0 |" in lines
    assert "| real-text set (labels of data/real_dev) | 3 | 67% | 33% | 0% | 0% | 0% | 0.3 |" in lines
    # b (test split) tells rd-3 too, but only train and dev articles make a real-text article seen
    assert "tell an event of the real-text set: 2 (a, b); real-text articles whose event no train or dev " \
           "article tells: 2 of 3" in lines


def test_events_told_reads_the_label_files(tmp_path):
    import json

    from diploml.data.real_dev import events_told, read_labels

    rows = [{"id": "rd-1", "topic": "visit", "partners": ["LA"], "date": "2024-01-06"},
            {"id": "rd-2", "topic": "message", "partners": ["LA"], "date": "2024-01-06"}]
    (tmp_path / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    corpus = [_rec("a", "train", partners=["LA", "KH"], date="2024-01-09")]
    assert events_told(corpus, read_labels(tmp_path)) == {"rd-1"}
    assert events_told([], read_labels(tmp_path)) == set()
