"""The review page in a real browser (Playwright driving Debian's chromium) against a real uvicorn server:
paste and upload articles, see labels and highlighted partner and sector cue spans, correct them, download corpus JSONL.

Needs ``pip install playwright`` and a chromium binary (``apt-get install chromium``; .ci/run tries it);
skips, saying which is missing, otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the review page is served by FastAPI: pip install 'diploml[serve]'")
pytest.importorskip("uvicorn", reason="the review page is served by uvicorn: pip install 'diploml[serve]'")
pytest.importorskip("playwright.sync_api", reason="the browser test needs Playwright: pip install playwright")

from .tiny_run import mention_list, tiny_run  # noqa: E402

CORPUS_KEYS = {"id", "title", "text", "topic", "partners", "regions", "sectors"}


def _chromium() -> str:
    for candidate in (os.environ.get("DIPLOML_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.path.isfile(candidate):
            return candidate
    pytest.skip("no chromium binary (apt-get install chromium, or set DIPLOML_CHROMIUM): browser test not run")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from diploml.serve.app import create_app

    run = tiny_run(tmp_path_factory)
    app = create_app(run, backend="onnx-int8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started:
        assert time.time() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import Error, sync_playwright

    executable = _chromium()
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable)
        except Error as e:
            pytest.skip(f"chromium at {executable} does not start under Playwright: {str(e)[:300]}")
        context = browser.new_context(accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        yield pg
        browser.close()


def _download(page, tmp_path, name) -> list[dict]:
    with page.expect_download() as info:
        page.click("#download")
    target = tmp_path / name
    info.value.save_as(target)
    assert info.value.suggested_filename == "diploml-corrections.jsonl"
    return [json.loads(line) for line in target.read_text("utf-8").splitlines() if line.strip()]


def test_paste_review_correct_and_download(server, page, tmp_path):
    base, app = server
    model = app.state.model
    tasks = {t.name: t for t in model.tasks}
    page.goto(base + "/")
    page.wait_for_function("document.querySelector('#model-info').textContent.includes('tasks:')")
    assert "onnx-int8" in page.inner_text("#model-info")

    title, text = "Thủ tướng thăm Pháp", "Thủ tướng hội đàm với Tổng thống Pháp tại Paris về thương mại và đầu tư."
    page.fill("#title", title)
    page.fill("#text", text)
    page.click("#label-btn")
    card = page.locator("article.article").first
    card.wait_for()
    ref = model.predict([f"{title}\n\n{text}"])[0]

    # partner spans highlighted in the text, as the API reports them
    marks = card.locator("mark.partner")
    assert marks.count() == len(mention_list(ref)) >= 2
    assert {(m.get_attribute("data-code"), m.inner_text()) for m in marks.all()} == \
        {(m["code"], m["form"]) for m in mention_list(ref)}
    # and the cue phrases of the predicted sectors (the tiny run scores sectors from cues)
    cues = card.locator("mark.cue")
    assert cues.count() == len(ref["sector_cues"]) >= 1
    assert {(m.get_attribute("data-sector"), m.inner_text()) for m in cues.all()} == \
        {(c["label"], c["form"]) for c in ref["sector_cues"]}
    # predicted labels pre-selected, with probabilities shown
    assert card.locator("select.topic").input_value() == ref["topic"]["label"]
    assert f"{ref['topic']['probability']:.2f}" in card.locator("select.topic").inner_text()
    checked = card.locator("input[data-task=regions]:checked")
    assert sorted(checked.evaluate_all("els => els.map(e => e.value)")) == sorted(d["label"] for d in ref["regions"])
    assert "corrected" not in (card.get_attribute("class") or "")

    # correct: another topic, one more sector, one region less or more, edited partner codes
    new_topic = next(lab for lab in tasks["topic"].labels if lab != ref["topic"]["label"])
    card.locator("select.topic").select_option(new_topic)
    predicted_sectors = {d["label"] for d in ref["sectors"]}
    extra_sector = next(lab for lab in tasks["sectors"].labels if lab not in predicted_sectors)
    card.locator(f"input[data-task=sectors][value={extra_sector}]").check()
    region = tasks["regions"].labels[0]
    box = card.locator(f"input[data-task=regions][value={region}]")
    box.set_checked(not box.is_checked())
    card.locator("input.partners").fill("FR, ORG:EU")
    assert "corrected" in card.get_attribute("class")
    assert "1 corrected" in page.inner_text("#counts")

    [rec] = _download(page, tmp_path, "corrections.jsonl")
    assert set(rec) == CORPUS_KEYS
    assert (rec["title"], rec["text"], rec["topic"], rec["partners"]) == (title, text, new_topic, ["FR", "ORG:EU"])
    assert extra_sector in rec["sectors"] and set(rec["sectors"]) >= predicted_sectors
    assert (region in rec["regions"]) != (region in {d["label"] for d in ref["regions"]})
    assert all(lab in tasks["regions"].labels for lab in rec["regions"])


def test_upload_shows_errors_and_downloads_only_corrected(server, page, tmp_path):
    src = tmp_path / "batch.jsonl"
    lines = [json.dumps({"id": "up-1", "title": "Hội đàm", "text": "Bộ trưởng điện đàm với người đồng cấp Nhật Bản."},
                        ensure_ascii=False),
             json.dumps({"id": "up-2", "text": "Việt Nam và Lào ký hiệp định thương mại."}, ensure_ascii=False),
             json.dumps({"id": "up-3", "text": "   "})]
    src.write_text("\n".join(lines) + "\n", "utf-8")
    before = page.locator("article.article").count()
    page.set_input_files("#file", str(src))
    page.locator("article.article[data-id='up-3']").wait_for()
    assert page.locator("article.article").count() == before + 3
    assert "empty text" in page.locator("article.article[data-id='up-3'] .error").inner_text()
    japan = page.locator("article.article[data-id='up-1'] mark.partner[data-code=JP]")
    assert japan.inner_text() == "Nhật Bản"
    # all labelled articles (the pasted one too), then only the corrected one
    everything = _download(page, tmp_path, "all.jsonl")
    assert {r["id"] for r in everything} >= {"up-1", "up-2"} and "up-3" not in {r["id"] for r in everything}
    up1 = next(r for r in everything if r["id"] == "up-1")
    assert (up1["title"], up1["text"]) == ("Hội đàm", "Bộ trưởng điện đàm với người đồng cấp Nhật Bản.")
    page.check("#only-corrected")
    corrected = _download(page, tmp_path, "corrected.jsonl")
    assert [r["id"] for r in corrected] == ["pasted-1"]


def test_bad_paste_says_what_is_wrong(server, page):
    page.fill("#text", '{"id": "x", "text": "ok"}\n{broken')
    page.click("#label-btn")
    page.wait_for_function("document.querySelector('#status').classList.contains('error')")
    assert "not valid JSON" in page.inner_text("#status")
    page.fill("#text", "")
    page.click("#label-btn")
    assert "paste an article first" in page.inner_text("#status")
