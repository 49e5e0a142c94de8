"""The prediction service: FastAPI app with micro-batched ``POST /predict`` and the review page at ``/``.

    from diploml.serve.app import create_app
    app = create_app("runs/default")             # or create_app(model) with a loaded model
    # uvicorn: diploml serve --model runs/default --port 8000

Endpoints:

- ``POST /predict``: JSON in. One article (``{"text": ..., "title": ..., "id": ...}``) gives one record;
  an array of articles (objects, or plain strings) gives an array of records. Records have the schema of
  ``diploml predict``: ``{"id": ..., "topic": ..., "regions": ..., "sectors": ..., "probabilities": ...,
  "partners": [...]}``. Bad input is a 4xx with a JSON ``detail``: 400 (not JSON), 413 (body or article
  count over the limits), 422 (wrong shape, missing/empty text, article over ``max_chars``).
- ``POST /predict/upload``: multipart file(s) (``.jsonl``, ``.csv`` or ``.txt``), read like ``diploml
  predict`` reads files: an array of records, bad rows as ``{"id": ..., "error": ...}``;
  ``?include_input=1`` adds each article's ``input`` (title, text), which the review page shows.
- ``GET /health``, ``GET /model`` (model card, tasks and labels, versions, backend).
- ``GET /``: the review page (static HTML + JS).

Concurrent requests are micro-batched: articles wait up to ``max_wait_ms`` for others and go through
the model together, up to ``max_batch`` at a time, on one worker thread.
"""


import asyncio
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from diploml.predict import DEFAULT_MAX_CHARS, iter_inputs

STATIC = Path(__file__).resolve().parent / "static"
UPLOAD_SUFFIXES = {".jsonl", ".json", ".ndjson", ".csv", ".txt"}


class BadRequest(Exception):
    def __init__(self, status: int, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class MicroBatcher:
    """Collects articles from concurrent requests into model batches (one model call at a time)."""

    def __init__(self, predict, *, max_batch: int = 32, max_wait_ms: float = 10.0):
        self.predict = predict
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="diploml-model")
        self.queue: asyncio.Queue | None = None
        self.task: asyncio.Task | None = None
        self.loop = None
        self.batches = 0
        self.articles = 0
        self.largest_batch = 0

    def _ensure_worker(self):
        loop = asyncio.get_running_loop()
        if self.loop is not loop or self.task is None or self.task.done():
            self.loop = loop
            self.queue = asyncio.Queue()
            self.task = loop.create_task(self._worker())

    async def submit(self, texts: list[str]) -> list[dict]:
        self._ensure_worker()
        futures = []
        for text in texts:
            fut = self.loop.create_future()
            self.queue.put_nowait((text, fut))
            futures.append(fut)
        return list(await asyncio.gather(*futures))

    def _predict_safe(self, texts: list[str]) -> list[dict]:
        try:
            return self.predict(texts)
        except Exception as e:  # one bad article must not fail its batch-mates
            if len(texts) == 1:
                return [{"error": f"prediction failed: {type(e).__name__}: {e}"}]
            return [r for t in texts for r in self._predict_safe([t])]

    async def _worker(self):
        loop = asyncio.get_running_loop()
        while True:
            items = [await self.queue.get()]
            deadline = loop.time() + self.max_wait
            while len(items) < self.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    items.append(await asyncio.wait_for(self.queue.get(), timeout))
                except asyncio.TimeoutError:
                    break
            items = [(t, f) for t, f in items if not f.done()]  # a client that went away
            if not items:
                continue
            try:
                results = await loop.run_in_executor(self.executor, self._predict_safe, [t for t, _ in items])
            except Exception as e:  # pragma: no cover - _predict_safe already catches model errors
                results = [{"error": f"prediction failed: {type(e).__name__}: {e}"}] * len(items)
            self.batches += 1
            self.articles += len(items)
            self.largest_batch = max(self.largest_batch, len(items))
            for (_, fut), res in zip(items, results, strict=True):
                if not fut.done():
                    fut.set_result(res)

    def stats(self) -> dict:
        return {"batches": self.batches, "articles": self.articles, "largest_batch": self.largest_batch,
                "max_batch": self.max_batch, "max_wait_ms": self.max_wait * 1000,
                "queued": self.queue.qsize() if self.queue else 0}

    def close(self):
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)


def resolve_backend(model_dir: Path, backend: str) -> str:
    from diploml.ray import resolve_backend as _resolve  # pure function: no Ray needed

    return _resolve(model_dir, backend)


def _load(model_dir: Path, backend: str):
    import diploml

    return diploml.load(model_dir) if backend == "torch" else diploml.load(model_dir, backend=backend)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def model_info(model, model_dir: Path | None, backend: str) -> dict:
    import diploml

    info = {
        "model_type": getattr(model, "model_type", None) or type(model).__name__,
        "backend": backend,
        "path": str(model_dir) if model_dir else None,
        "diploml_version": diploml.__version__,
        "tasks": [{"name": t.name, "kind": t.kind, "labels": list(t.labels)} for t in model.tasks],
    }
    if model_dir:
        card = model_dir / "README.md"
        info["card"] = card.read_text("utf-8") if card.is_file() else None
        info["versions"] = _read_json(model_dir / "versions.json")
        info["manifest"] = _read_json(model_dir / "diploml.json")
        info["metrics_dev"] = _read_json(model_dir / "metrics_dev.json")
    return info


def parse_articles(payload, *, max_articles: int, max_chars: int) -> tuple[list[dict], bool]:
    """Articles from a request body; the bool says whether one article (not an array) was sent."""
    single = isinstance(payload, dict)
    items = [payload] if single else payload
    if not isinstance(items, list):
        raise BadRequest(422, "expected an article object ({\"text\": ..., \"title\": ..., \"id\": ...}) "
                              "or an array of articles")
    if not items:
        raise BadRequest(422, "empty array: send at least one article")
    if len(items) > max_articles:
        raise BadRequest(413, f"{len(items)} articles in one request; the limit is {max_articles}")
    articles, problems = [], []
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            problems.append({"index": i, "error": "expected an object with a 'text' field or a string"})
            continue
        rid = item.get("id")
        rid = str(i) if rid is None or str(rid) == "" else str(rid)
        text, title = item.get("text"), item.get("title") or ""
        if not isinstance(text, str):
            problems.append({"index": i, "id": rid, "error": "missing field 'text' (a string)"})
            continue
        if not isinstance(title, str):
            problems.append({"index": i, "id": rid, "error": "'title' must be a string"})
            continue
        full = f"{title}\n\n{text}" if title else text
        if not text.strip():
            problems.append({"index": i, "id": rid, "error": "empty text"})
        elif len(full) > max_chars:
            problems.append({"index": i, "id": rid,
                             "error": f"article too long: {len(full)} characters > max_chars={max_chars}"})
        else:
            articles.append({"id": rid, "text": full})
    if problems:
        raise BadRequest(422, problems)
    return articles, single


def create_app(model, *, backend: str = "auto", max_batch: int = 32, max_wait_ms: float = 10.0,
               max_request_bytes: int = 5_000_000, max_articles: int = 256, max_chars: int = DEFAULT_MAX_CHARS):
    """The FastAPI app around a model directory (loaded with ``backend``) or an already loaded model.

    ``backend``: ``auto`` (int8 ONNX when exported, else PyTorch), ``torch``, ``onnx``, ``onnx-int8``.
    """
    from fastapi import FastAPI, Request
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles
    from starlette.datastructures import UploadFile

    import diploml

    if isinstance(model, (str, Path)):
        model_dir = Path(model).resolve()
        backend = resolve_backend(model_dir, backend)
        model = _load(model_dir, backend)
    else:
        model_dir = None
        backend = getattr(model, "backend", None) or "torch"
    info = model_info(model, model_dir, backend)
    batcher = MicroBatcher(model.predict, max_batch=max_batch, max_wait_ms=max_wait_ms)
    limits = {"max_request_bytes": max_request_bytes, "max_articles": max_articles, "max_chars": max_chars,
              "max_batch": max_batch}
    started = time.time()

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        yield
        batcher.close()

    app = FastAPI(title="diploml", version=diploml.__version__, lifespan=lifespan,
                  description="Labels Vietnamese diplomatic news: topic, partners, regions, sectors.")
    app.state.model = model
    app.state.batcher = batcher
    app.state.info = info

    @app.exception_handler(BadRequest)
    async def _bad_request(request, exc: BadRequest):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_request_bytes:
            raise BadRequest(413, f"request body of {declared} bytes; the limit is {max_request_bytes}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_request_bytes:
                raise BadRequest(413, f"request body over the limit of {max_request_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def label(articles: list[dict]) -> list[dict]:
        results = await batcher.submit([a["text"] for a in articles])
        return [{"id": a["id"], **r} for a, r in zip(articles, results, strict=True)]

    @app.post("/predict")
    async def predict(request: Request):
        body = await read_body(request)
        if not body.strip():
            raise BadRequest(400, "empty request body: send a JSON article or an array of articles")
        try:
            payload = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise BadRequest(400, f"request body is not UTF-8 (byte {e.start})") from None
        except json.JSONDecodeError as e:
            raise BadRequest(400, f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
        articles, single = parse_articles(payload, max_articles=max_articles, max_chars=max_chars)
        records = await label(articles)
        return records[0] if single else records

    @app.post("/predict/upload")
    async def predict_upload(request: Request, include_input: bool = False):
        """Files read like ``diploml predict`` reads them; ``include_input`` adds each article's title and text."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_request_bytes:
            raise BadRequest(413, f"upload of {declared} bytes; the limit is {max_request_bytes}")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise BadRequest(415, "expected multipart/form-data with one or more 'file' fields")
        try:
            form = await request.form(max_files=64)
        except Exception as e:  # not multipart, or a broken one
            raise BadRequest(400, f"expected multipart form data with 'file' fields ({type(e).__name__})") from None
        files = [v for v in form.getlist("file") + form.getlist("files") if isinstance(v, UploadFile)]
        if not files:
            raise BadRequest(422, "no file: send multipart form data with one or more 'file' fields")
        inputs: list[tuple[str, str, str, str | None]] = []  # id, title, text, error
        total = 0
        for f in files:
            data = await f.read()
            total += len(data)
            if total > max_request_bytes:
                raise BadRequest(413, f"upload over the limit of {max_request_bytes} bytes")
            name = Path(f.filename or "upload.jsonl").name
            suffix = Path(name).suffix.lower()
            if suffix not in UPLOAD_SUFFIXES:
                raise BadRequest(422, f"{name}: unsupported file type; send .jsonl, .csv or .txt")
            if suffix == ".txt":
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as e:
                    inputs.append((Path(name).stem, "", "", f"invalid UTF-8 at byte {e.start}"))
                    continue
                try:
                    parse_articles([{"text": text}], max_articles=1, max_chars=max_chars)
                    inputs.append((Path(name).stem, "", text, None))
                except BadRequest as e:
                    inputs.append((Path(name).stem, "", text, e.detail[0]["error"]))
                continue
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / name
                path.write_bytes(data)
                for rec in iter_inputs(path, max_chars):
                    rid = rec.id.replace(str(path), name, 1)
                    inputs.append((rid, rec.title, rec.text, rec.error))
            if len(inputs) > max_articles:
                raise BadRequest(413, f"over {max_articles} articles in one upload; the limit is {max_articles}")
        ok = [i for i, (_, _, _, err) in enumerate(inputs) if not err]
        labelled = await label([{"id": inputs[i][0], "text": f"{inputs[i][1]}\n\n{inputs[i][2]}" if inputs[i][1]
                                 else inputs[i][2]} for i in ok]) if ok else []
        records = [{"id": rid, "error": err} if err else None for rid, _, _, err in inputs]
        for i, rec in zip(ok, labelled, strict=True):
            records[i] = rec
        if include_input:
            for rec, (_, title, text, _) in zip(records, inputs, strict=True):
                rec["input"] = {"title": title, "text": text}
        return records

    @app.get("/health")
    async def health():
        return {"status": "ok", "model_loaded": True, "backend": backend, "uptime_s": round(time.time() - started, 1),
                "batching": batcher.stats(), "limits": limits}

    @app.get("/model")
    async def model_card():
        return {**info, "limits": limits}

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


__all__ = ["create_app", "MicroBatcher", "parse_articles", "model_info"]
