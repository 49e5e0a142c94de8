"""Data loading: formats, label checks naming id and label, duplicates, deterministic splits."""

from __future__ import annotations

import json

import pytest

from diploml.data import Article, DataError, load_articles, split_articles
from diploml.tasks import load_task_schema

TASKS = load_task_schema("diplomatic_news")


def _rec(i, **kw):
    rec = {"id": f"n{i}", "title": f"Tiêu đề {i}", "text": f"Nội dung bài số {i} về hợp tác.", "topic": "visit",
           "partners": ["LA"], "regions": ["southeast_asia"], "sectors": ["transport"]}
    rec.update(kw)
    return rec


def _write_jsonl(path, recs):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")
    return path


def test_jsonl_csv_and_folder(tmp_path):
    arts = load_articles(_write_jsonl(tmp_path / "a.jsonl", [_rec(1), _rec(2, topic="meeting")]), TASKS)
    assert [a.labels["topic"] for a in arts] == ["visit", "meeting"]
    assert arts[0].full_text.startswith("Tiêu đề 1\n\n")
    csv = tmp_path / "a.csv"
    csv.write_text("id,title,text,topic,regions,sectors\nc1,T,Văn bản,phone_call,europe;africa,health\n", "utf-8")
    (a,) = load_articles(csv, TASKS)
    assert a.labels == {"topic": "phone_call", "regions": ["europe", "africa"], "sectors": ["health"]}
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "x.txt").write_text("Bài viết", "utf-8")
    (a,) = load_articles(folder, TASKS)
    assert (a.id, a.text, a.labels) == ("x", "Bài viết", {})


def test_seeds_folder_has_gold_labels():
    arts = load_articles("seeds", TASKS)
    assert len(arts) == 5
    assert all(set(a.labels) == {"topic", "regions", "sectors", "partners"} for a in arts)
    assert arts[0].labels["partners"] == ["AZ", "KZ", "TR"]
    assert arts[4].labels["regions"] == ["latin_america"]


def test_unknown_label_names_article_and_label(tmp_path):
    p = _write_jsonl(tmp_path / "a.jsonl", [_rec(1), _rec(2, sectors=["trade"])])
    with pytest.raises(DataError, match=r"a.jsonl:2 \(id 'n2'\): unknown sectors label 'trade'"):
        load_articles(p, TASKS)


def test_bad_json_and_duplicate_ids(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps(_rec(1)) + "\n{oops\n", "utf-8")
    with pytest.raises(DataError, match=r"a.jsonl:2: invalid JSON"):
        load_articles(p, TASKS)
    p = _write_jsonl(tmp_path / "b.jsonl", [_rec(1), _rec(1)])
    with pytest.raises(DataError, match=r"duplicate id 'n1'"):
        load_articles(p, TASKS)


def test_whitespace_only_text_is_named(tmp_path):
    p = _write_jsonl(tmp_path / "a.jsonl", [_rec(1), _rec(2, text="  \n ")])
    with pytest.raises(DataError, match=r"a.jsonl:2 \(id 'n2'\): empty text"):
        load_articles(p, TASKS)


def test_non_utf8_and_empty(tmp_path):
    p = tmp_path / "latin.jsonl"
    p.write_bytes(b'{"id": "x", "text": "caf\xe9"}\n')
    with pytest.raises(DataError, match="not UTF-8"):
        load_articles(p, TASKS)
    e = tmp_path / "empty.jsonl"
    e.write_text("")
    with pytest.raises(DataError, match="no articles"):
        load_articles(e, TASKS)


def test_splits_are_deterministic_and_stratified():
    arts = [Article(id=f"a{i}", text=f"văn bản {i}", labels={"topic": ["visit", "meeting"][i % 2]})
            for i in range(200)]
    s1 = split_articles(arts, dev_fraction=0.1, test_fraction=0.2, seed=3)
    s2 = split_articles(list(reversed(arts)), dev_fraction=0.1, test_fraction=0.2, seed=3)
    assert {k: sorted(a.id for a in v) for k, v in s1.items()} == {k: sorted(a.id for a in v) for k, v in s2.items()}
    assert len(s1["test"]) == 40 and len(s1["dev"]) == 20
    assert sum(a.labels["topic"] == "visit" for a in s1["test"]) == 20


def test_same_text_in_two_splits_is_reported():
    arts = [Article(id="a", text="giống nhau", split="train"), Article(id="b", text="Giống  nhau", split="test")]
    with pytest.raises(DataError, match="'b' \\(test\\) has the same text as 'a' \\(train\\)"):
        split_articles(arts)
