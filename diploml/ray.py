"""Distributed batch labelling on Ray Data: read, label in an actor pool, write shards.

    from diploml.ray import label_dataset, predict_with_ray
    predict_with_ray("runs/default", "archive.jsonl", "labels/", num_actors=4)   # Parquet shards
    ds = label_dataset(ray.data.read_parquet("s3://bucket/articles/"), "runs/default")

    diploml predict --engine ray archive.jsonl -o labels/ --model runs/default [--num-actors 4] [--format jsonl]

Inputs (JSONL, CSV, a folder of .txt files, Parquet) are read by Ray Data: JSONL/CSV/.txt through a
file datasource that parses each file with ``diploml.predict.iter_inputs`` (so bad lines become the
same error records as ``diploml predict``), Parquet with ``ray.data.read_parquet``. The model runs
in ``map_batches`` with a callable class: each actor loads the run directory once. The backend is
``onnx-int8`` on CPU when the run has the export (``diploml export --model RUN --format onnx --int8``),
otherwise ``torch``; with GPUs in the cluster, actors take one GPU each and use PyTorch.

Output: Parquet (default) or JSONL shards in ``OUT_DIR``. JSONL lines are exactly the records of
``diploml predict`` (``{"id": ..., **result}`` or ``{"id": ..., "error": ...}``); Parquet has one
column per record key with a schema built from the model's tasks (``output_schema``; ``error`` is
null on labelled rows, the label columns are null on error rows, keys it does not know go to an
``extra`` JSON column); ``read_records(OUT_DIR)`` gives the records back as dicts for either format.

A local Ray instance is started unless one is running or ``RAY_ADDRESS`` names a cluster; on a
cluster the input, the run directory and OUT_DIR must be paths every node can read (or URIs such as
``s3://`` for input and output), and every node needs ``pip install diploml[ray]``.

Differences from the single-process path: rows come out in shard order, not input order; a
duplicate id is labelled each time it occurs (one process can see all ids; a cluster cannot cheaply);
a record without an id is named by the file's absolute path and line (``diploml predict`` uses the
path as given).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from diploml.predict import DEFAULT_MAX_CHARS, iter_inputs

log = logging.getLogger(__name__)

FORMATS = ("parquet", "jsonl")
BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
TEXT_SUFFIXES = {".jsonl", ".json", ".ndjson", ".csv"}
INPUT_COLUMNS = ("id", "title", "text", "error")
ROWS_PER_BLOCK = 256  # rows per read block: small enough that every actor gets work on modest inputs
# Reading and writing are light next to the model; at 0 logical CPUs they never wait behind actors that
# hold every CPU of a small machine (with 1 CPU each, 2 actors on 2 cores would otherwise starve the reader).
IO_TASK = {"num_cpus": 0}


def _require_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        raise ImportError("the Ray engine needs Ray Data: pip install 'diploml[ray]'") from e
    return ray


# ---------------------------------------------------------------------------------------------- backend


def resolve_backend(model_dir: str | Path, backend: str = "auto", *, gpu: bool = False) -> str:
    """``auto``: PyTorch on GPU actors; on CPU the int8 ONNX graph if exported, else PyTorch."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if gpu:
        return "torch"
    manifest = Path(model_dir) / "diploml.json"
    try:
        kind = json.loads(manifest.read_text("utf-8")).get("model_type")
    except (OSError, ValueError):
        kind = None
    if kind == "transformer" and (Path(model_dir) / "onnx" / "model.int8.onnx").is_file():
        return "onnx-int8"
    return "torch"


def load_model(model_dir: str | Path, backend: str, *, threads: int | None = None, device: str | None = None):
    """``diploml.load`` with the actor's thread count and device."""
    import diploml

    if backend == "torch":
        if threads:
            import torch

            torch.set_num_threads(threads)
        return diploml.load(model_dir, device=device) if device else diploml.load(model_dir)
    return diploml.load(model_dir, backend=backend, threads=threads)


# ---------------------------------------------------------------------------------------------- schemas


def input_schema():
    import pyarrow as pa

    return pa.schema([(c, pa.string()) for c in INPUT_COLUMNS])


_MENTION_FIELDS = [("code", "string"), ("form", "string"), ("start", "int64"), ("end", "int64"),
                   ("region", "string"), ("kind", "string"), ("supports_predicted_region", "bool_"),
                   ("predicted_partner", "bool_")]
# record keys with a column of their own besides id and the tasks; anything else goes to ``extra`` as JSON
_KNOWN = ("probabilities", "mentions", "warning", "error")


def _kind(task) -> str:
    return "multi_label" if task.kind == "multi_label" else "mentions" if task.kind == "mentions" else "single_label"


def output_schema(tasks):
    """Parquet schema of a labelled record, from the model's tasks.

    id; one column per task (single-label: struct label/probability; multi-label: list of them;
    mentions, e.g. partners: list of label/probability/region); probabilities (per task: a struct of
    label -> probability, or a map code -> probability for a mentions task); mentions (gazetteer spans);
    warning; error (null on labelled rows); extra (JSON of any other record key, so nothing is lost).
    """
    import pyarrow as pa

    scored = pa.struct([("label", pa.string()), ("probability", pa.float64())])
    candidate = pa.struct([("label", pa.string()), ("probability", pa.float64()), ("region", pa.string())])
    mention = pa.struct([(name, getattr(pa, typ)()) for name, typ in _MENTION_FIELDS])
    fields = [pa.field("id", pa.string())]
    probs = []
    for t in tasks:
        kind = _kind(t)
        fields.append(pa.field(t.name, {"single_label": scored, "multi_label": pa.list_(scored),
                                        "mentions": pa.list_(candidate)}[kind]))
        probs.append(pa.field(t.name, pa.map_(pa.string(), pa.float64()) if kind == "mentions"
                              else pa.struct([pa.field(lab, pa.float64()) for lab in t.labels])))
    fields += [pa.field("probabilities", pa.struct(probs)), pa.field("mentions", pa.list_(mention)),
               pa.field("warning", pa.string()), pa.field("error", pa.string()), pa.field("extra", pa.string())]
    return pa.schema(fields)


def to_row(rec: dict, schema) -> dict:
    """A predict record as a row of ``output_schema``: keys without a column go to ``extra`` (JSON)."""
    names = set(schema.names)
    row = {k: v for k, v in rec.items() if k in names}
    extra = {k: v for k, v in rec.items() if k not in names}
    if extra:
        row["extra"] = json.dumps(extra, ensure_ascii=False)
    return row


def from_row(row: dict, task_names: Sequence[str]) -> dict:
    """A Parquet row back as the record ``diploml predict`` writes (key order: id, tasks, probabilities, ...)."""
    if row.get("error") is not None:
        return {"id": row["id"], "error": row["error"]}
    rec = {"id": row["id"]}
    for name in task_names:
        if row.get(name) is not None:
            rec[name] = row[name]
    if row.get("probabilities") is not None:
        rec["probabilities"] = {k: dict(v) if isinstance(v, list) else v for k, v in row["probabilities"].items()
                                if v is not None}
    if row.get("mentions") is not None:
        rec["mentions"] = [{k: v for k, v in m.items() if not (k == "predicted_partner" and v is None)}
                           for m in row["mentions"]]
    if row.get("warning") is not None:
        rec["warning"] = row["warning"]
    if row.get("extra"):
        rec.update(json.loads(row["extra"]))
    return rec


def _checked(rid: str, text: str | None, title: str, max_chars: int) -> dict:
    """The input checks of ``diploml predict`` (missing/empty text, too long) for rows not read by iter_inputs."""
    row = {"id": rid, "title": title or "", "text": text or "", "error": None}
    full = f"{title}\n\n{text}" if title else (text or "")
    if not isinstance(text, str):
        row["error"] = "missing field 'text'"
    elif not text.strip():
        row["error"] = "empty text"
    elif len(full) > max_chars:
        row["error"] = f"article too long: {len(full)} characters > max_chars={max_chars}"
    return row


# ---------------------------------------------------------------------------------------------- reading


def _article_datasource(paths, *, max_chars: int, rows_per_block: int, file_extensions: list[str]):
    from ray.data.datasource import FileBasedDatasource

    class ArticleFiles(FileBasedDatasource):
        """Each file parsed by diploml's own reader; a ``.txt`` file is one article (id = file stem)."""

        def _read_stream(self, f, path: str):
            import pyarrow as pa

            schema = input_schema()
            rows: list[dict] = []
            for row in _rows_of_file(f, path, max_chars):
                rows.append(row)
                if len(rows) >= rows_per_block:
                    yield pa.Table.from_pylist(rows, schema=schema)
                    rows = []
            if rows:
                yield pa.Table.from_pylist(rows, schema=schema)

    return ArticleFiles(paths, file_extensions=file_extensions)


def _rows_of_file(f, path: str, max_chars: int) -> Iterator[dict]:
    suffix = Path(path).suffix.lower()
    if suffix == ".txt":
        data = f.readall()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            yield {"id": Path(path).stem, "title": "", "text": "", "error": f"invalid UTF-8 at byte {e.start}"}
            return
        yield _checked(Path(path).stem, text, "", max_chars)
        return
    if os.path.isfile(path):  # local or shared file system: read it in place
        source, tmp = path, None
    else:  # object store: spool to a local temporary file for the line reader
        fd, tmp = tempfile.mkstemp(suffix=suffix)
        with os.fdopen(fd, "wb") as out:
            out.write(f.readall())
        source = tmp
    try:
        for rec in iter_inputs(source, max_chars):
            rid = rec.id.replace(tmp, path, 1) if tmp and rec.id.startswith(tmp) else rec.id
            yield {"id": rid, "title": rec.title, "text": rec.text, "error": rec.error}
    finally:
        if tmp:
            os.unlink(tmp)


def _parquet_rows(batch, max_chars: int):
    """Parquet rows (id, title, text columns) to input rows with the same checks as the text readers."""
    import pyarrow as pa

    cols = {c: batch.column(c).to_pylist() if c in batch.column_names else [None] * batch.num_rows
            for c in ("id", "title", "text")}
    rows = []
    for i in range(batch.num_rows):
        text = cols["text"][i]
        rid = cols["id"][i]
        if rid is None or str(rid) == "":
            import hashlib

            rid = "row-" + hashlib.sha1(str(text).encode("utf-8")).hexdigest()[:12]
        rows.append(_checked(str(rid), text, str(cols["title"][i] or ""), max_chars))
    return pa.Table.from_pylist(rows, schema=input_schema())


def read_articles(inputs: str | Path | Sequence[str | Path], *, max_chars: int = DEFAULT_MAX_CHARS,
                  rows_per_block: int = ROWS_PER_BLOCK):
    """A Ray Dataset of input rows (id, title, text, error) from JSONL/CSV files, a .txt folder or Parquet."""
    _require_ray()
    import ray.data

    items = [str(p) for p in ([inputs] if isinstance(inputs, (str, Path)) else inputs)]
    if not items:
        raise ValueError("no input given")
    local = [Path(p) for p in items if "://" not in p]
    for p in local:
        if not p.exists():
            raise FileNotFoundError(f"input not found: {p}")
    suffixes = set()
    for p in items:
        path = Path(p)
        if "://" not in p and path.is_dir():
            kinds = {q.suffix.lower() for q in path.iterdir() if q.is_file()}
            if ".txt" in kinds:
                suffixes.add(".txt")
            elif ".parquet" in kinds:
                suffixes.add(".parquet")
            elif kinds & TEXT_SUFFIXES:
                suffixes |= kinds & TEXT_SUFFIXES
            else:
                raise FileNotFoundError(f"{path}: folder holds no .txt, .jsonl, .csv or .parquet files")
        else:
            suffixes.add(path.suffix.lower())
    if suffixes == {".parquet"}:
        ds = ray.data.read_parquet(items, **IO_TASK)
        return ds.map_batches(_parquet_rows, fn_kwargs={"max_chars": max_chars}, batch_format="pyarrow",
                              batch_size=rows_per_block, **IO_TASK)
    if ".parquet" in suffixes:
        raise ValueError("mixing Parquet with other input formats in one job is not supported")
    unknown = suffixes - TEXT_SUFFIXES - {".txt"}
    if unknown:
        raise ValueError(f"unsupported input format {sorted(unknown)}: use .jsonl, .csv, .parquet or a .txt folder")
    exts = ["txt"] if suffixes == {".txt"} else sorted(s.lstrip(".") for s in suffixes if s != ".txt")
    source = _article_datasource(items, max_chars=max_chars, rows_per_block=rows_per_block, file_extensions=exts)
    return ray.data.read_datasource(source, **IO_TASK)


# ---------------------------------------------------------------------------------------------- labelling


class Labeller:
    """The callable class of ``map_batches``: loads the run directory once per actor, labels pyarrow batches.

    Rows with an ``error`` pass through as error records; a batch the model fails on is retried one
    article at a time, so a failure costs one error record, as in ``diploml predict``.
    """

    def __init__(self, model_dir: str, backend: str, fmt: str = "parquet", threads: int | None = None,
                 device: str | None = None, model_batch_size: int = 16):
        self.model = load_model(model_dir, backend, threads=threads, device=device)
        self.fmt = fmt
        self.model_batch_size = model_batch_size
        self.schema = output_schema(self.model.tasks)

    def _predict(self, texts: list[str]) -> list[dict]:
        try:
            return self.model.predict(texts)
        except Exception as e:
            if len(texts) == 1:
                return [{"error": f"prediction failed: {type(e).__name__}: {e}"}]
            return [r for t in texts for r in self._predict([t])]

    def records(self, rows: list[dict]) -> list[dict]:
        todo = [i for i, r in enumerate(rows) if not r.get("error")]
        out: list[dict] = [{"id": r["id"], "error": r["error"]} if r.get("error") else {} for r in rows]
        for start in range(0, len(todo), self.model_batch_size):
            chunk = todo[start:start + self.model_batch_size]
            texts = [f"{rows[i]['title']}\n\n{rows[i]['text']}" if rows[i].get("title") else rows[i]["text"]
                     for i in chunk]
            for i, res in zip(chunk, self._predict(texts), strict=True):
                out[i] = {"id": rows[i]["id"], **res}
        return out

    def __call__(self, batch):
        import pyarrow as pa

        recs = self.records(batch.to_pylist())
        if self.fmt == "jsonl":
            return pa.table({"record": pa.array([json.dumps(r, ensure_ascii=False) for r in recs], pa.string())})
        return pa.Table.from_pylist([to_row(r, self.schema) for r in recs], schema=self.schema)


def _cluster_gpus() -> int:
    import ray

    return int(ray.cluster_resources().get("GPU", 0))


def label_dataset(ds, model_dir: str | Path, *, num_actors: int = 2, backend: str = "auto", batch_size: int = 64,
                  fmt: str = "parquet", cpus_per_actor: float = 1, use_gpu: bool | None = None,
                  model_batch_size: int = 16):
    """Label a Ray Dataset of articles (columns ``text`` and optionally ``id``, ``title``, ``error``).

    ``batch_size``: rows per actor call; ``model_batch_size``: articles per forward pass.
    Returns a lazy Dataset of output rows: the Parquet record schema (``fmt="parquet"``) or one
    ``record`` column holding each JSONL line (``fmt="jsonl"``). ``use_gpu=None``: GPU actors when
    the cluster has GPUs. The chosen backend is logged; ``resolve_backend`` tells it beforehand.
    """
    _require_ray()
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; known: {', '.join(FORMATS)}")
    if num_actors < 1 or batch_size < 1:
        raise ValueError("num_actors and batch_size must be at least 1")
    model_dir = str(Path(model_dir).resolve()) if "://" not in str(model_dir) else str(model_dir)
    if not Path(model_dir, "diploml.json").is_file():
        raise FileNotFoundError(f"{model_dir} is not a diploml model directory (diploml.json missing)")
    gpu = _cluster_gpus() > 0 if use_gpu is None else use_gpu
    chosen = resolve_backend(model_dir, backend, gpu=gpu)
    if gpu and chosen != "torch":
        gpu = False  # the ONNX backend here runs on the CPU execution provider
    log.info("diploml.ray: backend %s, %d %s actor(s)", chosen, num_actors, "GPU" if gpu else "CPU")
    ds = ds.map_batches(_with_input_columns, batch_format="pyarrow", **IO_TASK)
    threads = max(1, int(cpus_per_actor))
    from ray.data import ActorPoolStrategy

    return ds.map_batches(
        Labeller,
        fn_constructor_kwargs={"model_dir": model_dir, "backend": chosen, "fmt": fmt, "threads": threads,
                               "device": "cuda" if gpu else None, "model_batch_size": model_batch_size},
        batch_size=batch_size, batch_format="pyarrow", compute=ActorPoolStrategy(size=num_actors),
        num_cpus=cpus_per_actor, num_gpus=1 if gpu else 0)


def _with_input_columns(batch, max_chars: int = DEFAULT_MAX_CHARS):
    """Rows already read by ``read_articles`` pass as they are; any other table is checked like Parquet input."""
    if set(INPUT_COLUMNS) <= set(batch.column_names):
        return batch.select(list(INPUT_COLUMNS)).cast(input_schema())
    return _parquet_rows(batch, max_chars)


# ---------------------------------------------------------------------------------------------- writing


def _jsonl_sink(out_dir: str):
    from ray.data.datasource import BlockBasedFileDatasink

    class JsonlSink(BlockBasedFileDatasink):
        def __init__(self, path):
            super().__init__(path, file_format="jsonl")

        def write_block_to_file(self, block, file):
            lines = block.to_arrow().column("record").to_pylist()
            if lines:
                file.write(("\n".join(lines) + "\n").encode("utf-8"))

    return JsonlSink(out_dir)


def output_files(out_dir: str | Path) -> list[Path]:
    out_dir = Path(out_dir)
    return sorted(p for p in out_dir.iterdir() if p.suffix in (".parquet", ".jsonl") and not p.name.startswith("."))


def read_records(out_dir: str | Path) -> list[dict]:
    """All records of an output folder (Parquet or JSONL shards) as ``diploml predict`` writes them."""
    records = []
    for f in output_files(out_dir):
        if f.suffix == ".jsonl":
            records += [json.loads(line) for line in f.read_text("utf-8").splitlines() if line.strip()]
            continue
        import pyarrow.parquet as pq

        table = pq.read_table(f)
        names = table.schema.names
        tasks = names[1:names.index("probabilities")] if "probabilities" in names else []
        records += [from_row(row, tasks) for row in table.to_pylist()]
    return records


def init_ray(num_cpus: int | None = None) -> None:
    """Connect to ``RAY_ADDRESS`` when set, else start (or reuse) a local Ray instance."""
    ray = _require_ray()
    if ray.is_initialized():
        return
    kwargs = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if os.environ.get("RAY_ADDRESS"):
        ray.init(address=os.environ["RAY_ADDRESS"], **kwargs)
    else:
        ray.init(num_cpus=num_cpus, **kwargs)
    ray.data.DataContext.get_current().enable_progress_bars = False


def predict_with_ray(model_dir: str | Path, input: str | Path | Sequence[str | Path], out_dir: str | Path, *,
                     num_actors: int = 2, backend: str = "auto", batch_size: int = 64, fmt: str = "parquet",
                     max_chars: int = DEFAULT_MAX_CHARS, cpus_per_actor: float = 1, overwrite: bool = False,
                     num_cpus: int | None = None, model_batch_size: int = 16) -> dict:
    """Label ``input`` into shards under ``out_dir``; returns counts, backend, files and seconds."""
    init_ray(num_cpus)
    start = time.perf_counter()
    local_out = "://" not in str(out_dir)
    if local_out:
        out_dir = Path(out_dir).resolve()
        if out_dir.exists() and any(out_dir.iterdir()):
            if not overwrite:
                raise FileExistsError(f"{out_dir} is not empty: choose a new folder or pass overwrite=True")
            for f in output_files(out_dir):
                f.unlink()
    gpu = _cluster_gpus() > 0
    chosen = resolve_backend(model_dir, backend, gpu=gpu)
    ds = label_dataset(read_articles(input, max_chars=max_chars), model_dir, num_actors=num_actors, backend=chosen,
                       batch_size=batch_size, fmt=fmt, cpus_per_actor=cpus_per_actor, use_gpu=gpu and chosen == "torch",
                       model_batch_size=model_batch_size)
    if fmt == "jsonl":
        ds.write_datasink(_jsonl_sink(str(out_dir)), ray_remote_args=IO_TASK)
    else:
        ds.write_parquet(str(out_dir), ray_remote_args=IO_TASK)
    summary = {"backend": chosen, "gpu": gpu and chosen == "torch", "num_actors": num_actors, "format": fmt,
               "out_dir": str(out_dir), "seconds": round(time.perf_counter() - start, 3)}
    if local_out:
        records = read_records(out_dir) if fmt == "jsonl" else None
        if records is None:
            import pyarrow.parquet as pq

            errors = [v for f in output_files(out_dir)
                      for v in pq.read_table(f, columns=["error"]).column(0).to_pylist()]
            summary.update(rows=len(errors), error=sum(v is not None for v in errors))
        else:
            summary.update(rows=len(records), error=sum("error" in r for r in records))
        summary["ok"] = summary["rows"] - summary["error"]
        summary["files"] = [str(f) for f in output_files(out_dir)]
    return summary


__all__ = ["label_dataset", "predict_with_ray", "read_articles", "read_records", "resolve_backend", "Labeller",
           "init_ray", "output_schema", "to_row", "from_row"]
