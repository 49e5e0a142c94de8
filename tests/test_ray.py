"""Distributed labelling on Ray Data (a local 2-CPU Ray start): the same labels as the single-process path
on the seeds and on a 2,000-article file, error records kept, one output row per input row."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("ray.data", reason="the Ray engine needs Ray Data: pip install 'diploml[ray]'")
pytest.importorskip("pyarrow", reason="the Ray engine needs pyarrow: pip install 'diploml[ray]'")

import diploml  # noqa: E402
from diploml.data.io import write_corpus_sample  # noqa: E402
from diploml.predict import predict_file  # noqa: E402
from diploml.ray import init_ray, label_dataset, predict_with_ray, read_records, resolve_backend  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .tiny_run import assert_same_record, mention_list, tiny_run  # noqa: E402


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory)


@pytest.fixture(scope="module")
def ray_local():
    import ray

    init_ray(num_cpus=2)
    yield ray
    ray.shutdown()


def _single(run, source, out, backend="onnx"):
    predict_file(diploml.load(run, backend=backend), source, out, batch_size=64, progress=False)
    return {r["id"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}


def _same(ray_recs: dict, single: dict):
    assert sorted(ray_recs) == sorted(single)
    for rid, ref in single.items():
        assert_same_record(ray_recs[rid], ref)


def test_seeds_through_the_command_line_match_the_single_process(run, ray_local, tmp_path, capsys):
    from diploml.serve.cli import main

    out = tmp_path / "seeds_out"
    assert main(["predict", "--model", str(run), str(ROOT / "seeds"), "-o", str(out), "--backend", "onnx",
                 "--shard-format", "jsonl", "--num-actors", "2"]) == 0
    assert "5 predicted, 0 errors" in capsys.readouterr().err
    assert all(f.suffix == ".jsonl" for f in out.iterdir())
    _same({r["id"]: r for r in read_records(out)}, _single(run, ROOT / "seeds", tmp_path / "single.jsonl"))
    # a second run into the same folder is refused, not mixed in
    assert main(["predict", "--model", str(run), str(ROOT / "seeds"), "-o", str(out), "--backend", "onnx"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_2000_articles_with_bad_records_match_the_single_process(run, ray_local, tmp_path):
    src = write_corpus_sample(tmp_path / "in.jsonl", 2000)
    with open(src, "ab") as f:
        f.write(b"{broken json\n")
        f.write(b'{"id": "bad-utf8", "text": "\xff\xfe"}\n')
        f.write(json.dumps({"id": "empty", "text": "  "}).encode() + b"\n")
        f.write(json.dumps({"id": "no-text", "title": "x"}).encode() + b"\n")
        f.write(json.dumps({"id": "huge", "text": "x" * 250_000}).encode() + b"\n")
    n_input = sum(1 for line in src.read_bytes().splitlines() if line.strip())
    summary = predict_with_ray(run, src, tmp_path / "out", num_actors=2, backend="onnx", fmt="parquet")
    assert summary["rows"] == n_input == 2005
    assert summary["error"] == 5 and summary["ok"] == 2000 and summary["backend"] == "onnx"
    assert len(summary["files"]) >= 2 and all(f.endswith(".parquet") for f in summary["files"])
    recs = read_records(tmp_path / "out")
    assert len(recs) == n_input
    by_id = {r["id"]: r for r in recs}
    assert by_id["empty"] == {"id": "empty", "error": "empty text"}
    assert by_id[f"{src}:2001"]["error"].startswith("invalid JSON")
    _same(by_id, _single(run, src, tmp_path / "single.jsonl"))


def test_default_backend_is_int8_when_exported(run, tmp_path):
    assert resolve_backend(run) == "onnx-int8"
    assert resolve_backend(run, gpu=True) == "torch"
    bare = tmp_path / "bare"
    import shutil

    shutil.copytree(run, bare, ignore=shutil.ignore_patterns("onnx"))
    assert resolve_backend(bare) == "torch"


def test_label_dataset_and_parquet_input(run, ray_local, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": "p1", "title": "Tin", "text": "Thủ tướng hội đàm với Tổng thống Pháp."},
            {"id": "p2", "title": None, "text": "Bộ trưởng điện đàm với Nhật Bản."},
            {"id": "p3", "title": None, "text": None}]
    # label_dataset on any Ray Dataset (here from memory), default backend: int8
    ds = label_dataset(ray_local.data.from_items(rows), run, num_actors=1, fmt="jsonl")
    recs = {r["id"]: r for r in (json.loads(row["record"]) for row in ds.take_all())}
    assert recs["p3"] == {"id": "p3", "error": "missing field 'text'"}
    assert "topic" in recs["p1"] and "topic" in recs["p2"]
    # a Parquet file read through Ray Data, written as Parquet shards
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    summary = predict_with_ray(run, tmp_path / "in.parquet", tmp_path / "out", num_actors=1)
    assert summary["backend"] == "onnx-int8" and (summary["rows"], summary["error"]) == (3, 1)
    got = {r["id"]: r for r in read_records(tmp_path / "out")}
    assert got["p3"] == recs["p3"]
    ref = diploml.load(run, backend="onnx-int8").predict(["Tin\n\nThủ tướng hội đàm với Tổng thống Pháp."])[0]
    assert got["p1"]["topic"]["label"] == ref["topic"]["label"]
    assert mention_list(got["p1"]) == mention_list(ref)
