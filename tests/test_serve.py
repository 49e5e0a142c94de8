"""The prediction service: one/many articles, the predict record schema, 4xx for bad input, micro-batching,
/health and /model, uploads, and one real uvicorn start through the command line."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("fastapi", reason="the service needs FastAPI: pip install 'diploml[serve]'")
pytest.importorskip("httpx", reason="FastAPI's test client needs httpx: pip install 'diploml[serve]'")

import diploml  # noqa: E402
from diploml.serve.app import create_app  # noqa: E402

from .tiny_run import assert_same_record, mention_list, tiny_run  # noqa: E402

ARTICLES = [
    {"id": "vn-fr", "title": "Thủ tướng thăm Pháp",
     "text": "Thủ tướng hội đàm với Tổng thống Pháp tại Paris về thương mại."},
    {"id": "vn-jp", "text": "Bộ trưởng điện đàm với người đồng cấp Nhật Bản về đầu tư và lao động."},
    {"id": "vn-un", "text": "Việt Nam phát biểu tại Đại hội đồng Liên hợp quốc về khí hậu."},
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory)


@pytest.fixture(scope="module")
def model(run):
    return diploml.load(run)


@pytest.fixture(scope="module")
def client(run):
    from fastapi.testclient import TestClient

    app = create_app(run, backend="torch", max_request_bytes=20_000, max_articles=5, max_chars=2_000)
    with TestClient(app) as c:
        yield c


def _full(a):
    return f"{a['title']}\n\n{a['text']}" if a.get("title") else a["text"]


def _same_result(got: dict, ref: dict):
    assert_same_record(got, ref, atol=1e-5)


def test_one_article_and_many_give_the_predict_records(client, model):
    refs = model.predict([_full(a) for a in ARTICLES])
    one = client.post("/predict", json=ARTICLES[0])
    assert one.status_code == 200
    body = one.json()
    assert body["id"] == "vn-fr"
    _same_result({k: v for k, v in body.items() if k != "id"}, refs[0])
    assert any(m["code"] == "FR" for m in mention_list(body))  # the gazetteer mention, with its span
    m = next(m for m in mention_list(body) if m["code"] == "FR")
    assert _full(ARTICLES[0])[m["start"]:m["end"]] == m["form"]

    many = client.post("/predict", json=ARTICLES)
    assert many.status_code == 200
    got = many.json()
    assert [r["id"] for r in got] == [a["id"] for a in ARTICLES]
    for rec, ref in zip(got, refs, strict=True):
        _same_result({k: v for k, v in rec.items() if k != "id"}, ref)
    # plain strings are articles too; missing ids become their index
    plain = client.post("/predict", json=["Hà Nội và Lào ký hiệp định.", "Seoul"]).json()
    assert [r["id"] for r in plain] == ["0", "1"]


@pytest.mark.parametrize("body, status, message", [
    (b"{not json", 400, "invalid JSON"),
    (b"", 400, "empty request body"),
    (b"\xff\xfe", 400, "not UTF-8"),
    (b"42", 422, "expected an article object"),
    (b"[]", 422, "empty array"),
    (b'{"title": "no text"}', 422, "missing field 'text'"),
    (b'{"text": "   "}', 422, "empty text"),
    (b'{"text": "x", "title": 3}', 422, "'title' must be a string"),
    (b'[{"text": "ok"}, 5]', 422, "expected an object"),
    (json.dumps({"text": "x" * 2_500}).encode(), 422, "article too long"),
    (json.dumps([{"text": "a"}] * 6).encode(), 413, "limit is 5"),
    (json.dumps({"text": "x" * 30_000}).encode(), 413, "limit is 20000"),
])
def test_bad_input_is_a_clear_4xx(client, body, status, message):
    resp = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == status, resp.text
    assert message in json.dumps(resp.json()["detail"])


def test_bad_article_in_a_batch_is_named(client):
    resp = client.post("/predict", json=[{"id": "good", "text": "Hà Nội"}, {"id": "bad", "text": ""}])
    assert resp.status_code == 422
    assert resp.json()["detail"] == [{"index": 1, "id": "bad", "error": "empty text"}]


def test_health_and_model(client, model):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["backend"] == "torch"
    assert health["limits"]["max_articles"] == 5
    info = client.get("/model").json()
    assert info["model_type"] == "transformer"
    assert [(t["name"], t["kind"], t["labels"]) for t in info["tasks"]] == \
        [(t.name, t.kind, list(t.labels)) for t in model.tasks]
    assert info["card"].startswith("# ") and info["versions"]["python"]
    assert info["diploml_version"] == diploml.__version__


def test_upload_reads_files_like_predict(client):
    jsonl = "\n".join([json.dumps({"id": "u1", "text": "Thủ tướng thăm Lào."}, ensure_ascii=False), "{broken",
                       json.dumps({"id": "u2", "text": ""})]).encode()
    csv_body = "id,title,text\nc1,Tin,Bộ trưởng gặp Đại sứ Nhật Bản.\n".encode()
    files = [("file", ("a.jsonl", jsonl, "application/json")), ("file", ("b.csv", csv_body, "text/csv")),
             ("file", ("note.txt", "Hà Nội tiếp Tổng thống Pháp.".encode(), "text/plain"))]
    resp = client.post("/predict/upload?include_input=1", files=files)
    assert resp.status_code == 200, resp.text
    recs = {r["id"]: r for r in resp.json()}
    assert set(recs) == {"u1", "a.jsonl:2", "u2", "c1", "note"}
    assert recs["a.jsonl:2"]["error"].startswith("invalid JSON")
    assert recs["u2"]["error"] == "empty text"
    assert "topic" in recs["c1"] and recs["c1"]["input"] == {"title": "Tin", "text": "Bộ trưởng gặp Đại sứ Nhật Bản."}
    assert "topic" in recs["note"]
    bad = client.post("/predict/upload", files=[("file", ("x.pdf", b"%PDF", "application/pdf"))])
    assert bad.status_code == 422 and "unsupported file type" in bad.json()["detail"]
    assert client.post("/predict/upload", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415


def test_concurrent_requests_are_micro_batched(model):
    import httpx

    app = create_app(model, max_batch=8, max_wait_ms=300)
    texts = [f"Bộ trưởng Ngoại giao hội đàm với người đồng cấp Lào lần thứ {i}." for i in range(12)]

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(*(c.post("/predict", json={"id": str(i), "text": t})
                                          for i, t in enumerate(texts)))

    responses = asyncio.run(go())
    assert all(r.status_code == 200 for r in responses)
    stats = app.state.batcher.stats()
    assert stats["articles"] == 12
    assert stats["batches"] < 12 and 1 < stats["largest_batch"] <= 8, stats
    refs = model.predict(texts)
    for r, ref in zip(responses, refs, strict=True):
        assert r.json()["topic"]["label"] == ref["topic"]["label"]
    app.state.batcher.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_uvicorn_start_through_the_command_line(run):
    pytest.importorskip("uvicorn", reason="the service runs on uvicorn: pip install 'diploml[serve]'")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "diploml.serve.cli", "serve", "--model", str(run), "--port",
                             str(port), "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    health = json.load(r)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError(f"server did not start: {proc.stdout.read().decode()[-2000:]}") from None
                time.sleep(0.3)
        assert health["status"] == "ok" and health["backend"] == "onnx-int8"  # auto: the run has the int8 export
        req = urllib.request.Request(f"{base}/predict", data=json.dumps(ARTICLES[:2]).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            recs = json.load(r)
        assert [r["id"] for r in recs] == ["vn-fr", "vn-jp"] and all("topic" in r for r in recs)
        with urllib.request.urlopen(f"{base}/", timeout=10) as r:
            assert b"diploml review" in r.read()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_command_errors_are_clear(tmp_path, capsys):
    from diploml.serve.cli import main

    assert main(["serve", "--model", str(tmp_path / "missing")]) == 2
    assert "error:" in capsys.readouterr().err
