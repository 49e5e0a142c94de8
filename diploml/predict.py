"""Streaming prediction over files of any size: bounded memory, progress bar, resume, error records.

Input: JSONL (``id``, ``title``, ``text``), CSV with the same columns, a folder of ``.txt`` files,
or ``-`` for JSONL on stdin (all read by ``diploml.data.read_records``). A bad record (invalid JSON
or UTF-8, missing, empty or non-text ``text``, an article over ``max_chars``, a repeated id) becomes
``{"id": ..., "error": "..."}`` in the output and the job goes on.

The output is never the input, is never silently replaced (``overwrite=True`` replaces it only once
the new one is complete), and is locked while a job writes it, so two jobs cannot interleave.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from diploml.data import DataError, read_records

DEFAULT_MAX_CHARS = 200_000  # about 40,000 words: far beyond any news article
_TYPES = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}


class OutputError(ValueError):
    """The output path cannot be used (it is the input, a folder, in use, or holds results)."""


@dataclass
class InputRecord:
    id: str | int  # as given in the input (a JSON number stays a number), else the record's location
    text: str = ""
    title: str = ""
    error: str | None = None

    @property
    def full_text(self) -> str:
        return f"{self.title}\n\n{self.text}" if self.title else self.text


def _type_name(v) -> str:
    return "null" if v is None else _TYPES.get(type(v), type(v).__name__)


def id_key(rid) -> str:
    """How ids are compared (duplicates, resume): by JSON value, so 1 and "1" are different ids."""
    return json.dumps(rid, ensure_ascii=False)


def _record(data: dict | None, where: str, error: str | None, max_chars: int) -> InputRecord:
    data = data or {}
    rid = data.get("id")
    if rid is None or (isinstance(rid, str) and not rid.strip()):
        rid = where
    elif isinstance(rid, bool) or not isinstance(rid, str | int):
        return InputRecord(id=where, error=f"field 'id' must be a string or an integer, got {_type_name(rid)}")
    if error:
        return InputRecord(id=rid, error=error)
    if "text" not in data:
        return InputRecord(id=rid, error="missing field 'text'")
    text, title = data["text"], data.get("title") or ""
    if not isinstance(text, str):
        return InputRecord(id=rid, error=f"field 'text' must be a string, got {_type_name(text)}")
    if not isinstance(title, str):
        return InputRecord(id=rid, error=f"field 'title' must be a string, got {_type_name(title)}")
    rec = InputRecord(id=rid, text=text, title=title)
    if not text.strip():
        rec.error = "empty text"
    elif len(rec.full_text) > max_chars:
        rec.error = f"article too long: {len(rec.full_text)} characters > max_chars={max_chars}"
    return rec


def iter_inputs(source: str | Path, max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[InputRecord]:
    """Records one at a time from a file, folder or ``-`` (stdin); bad ones carry ``error``."""
    for raw in read_records(source, on_error="record", max_field=max_chars + 1):
        yield _record(raw.data, raw.where, raw.error, max_chars)


def check_paths(source: str | Path, output: Path) -> None:
    """Fail before anything is written: a missing input, an output that is the input or a folder."""
    if str(source) != "-":
        src = Path(source)
        if not src.exists():
            raise DataError(f"input not found: {src}")
        if src.is_file() and output.exists() and output.resolve() == src.resolve():
            raise OutputError(f"the output {output} is the input file: choose another -o")
        if src.is_dir() and output.resolve().parent == src.resolve() and output.suffix.lower() == ".txt":
            raise OutputError(f"the output {output} would be read as an input of {src}: choose another -o")
    if output.is_dir():
        raise OutputError(f"the output {output} is a folder: give a file name ending in .jsonl or .csv")


def done_ids(output: Path) -> set:
    """Ids already in an output file (as written: strings, or numbers in JSONL); a torn last line
    (killed mid-write) is cut off first."""
    if not output.exists():
        return set()
    data = output.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(output, "r+b") as f:
            f.truncate(cut)
        data = data[:cut]
    ids: set = set()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise OutputError(f"{output}: not UTF-8 at byte {e.start}; cannot resume from it") from None
    if output.suffix.lower() == ".csv":
        for row in csv.DictReader(io.StringIO(text)):
            if not row.get("id"):
                raise OutputError(f"{output}: a row without an id; cannot resume from it")
            ids.add(row["id"])
    else:
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise OutputError(f"{output}:{lineno}: not a result line ({e.msg}); cannot resume from it") from None
            if not isinstance(rec, dict) or "id" not in rec:
                raise OutputError(f"{output}:{lineno}: a result line without an id; cannot resume from it")
            ids.add(rec["id"])
    return ids


CSV_COLUMNS = ["id", "topic", "topic_probability", "regions", "sectors", "partners", "error"]


def _csv_row(rec: dict, tasks) -> dict:
    if "error" in rec:
        return {"id": rec["id"], "error": rec["error"]}
    row = {"id": rec["id"], "partners": ";".join(sorted({m["code"] for m in rec.get("partners", [])}))}
    for t in tasks:
        v = rec[t.name]
        if t.multi_label:
            row[t.name] = ";".join(d["label"] for d in v)
        else:
            row[t.name] = v["label"]
            row[f"{t.name}_probability"] = f"{v['probability']:.4f}"
    return row


class _Lock:
    """An exclusive lock file beside the output, held while a job writes it."""

    def __init__(self, output: Path):
        self.output = output
        self.path = output.with_name(f".{output.name}.lock")
        self.fh = None

    def __enter__(self):
        import fcntl

        self.fh = open(self.path, "w")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise OutputError(f"{self.output} is being written by another job "
                              "(wait for it to finish)") from None
        return self

    def __exit__(self, *exc):
        self.fh.close()
        self.path.unlink(missing_ok=True)


def predict_file(model, source: str | Path, output: str | Path, *, batch_size: int = 16, resume: bool = False,
                 overwrite: bool = False, max_chars: int = DEFAULT_MAX_CHARS, progress: bool = True) -> dict:
    """Predict every record of ``source`` into ``output`` (JSONL, or CSV by suffix). Returns counts.

    An existing non-empty output needs ``resume`` (skip ids already there, append) or ``overwrite``
    (write a new file beside it and replace the old one when the new one is complete).
    """
    output = Path(output)
    check_paths(source, output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with _Lock(output):
        has_results = output.exists() and output.stat().st_size > 0
        if has_results and not (resume or overwrite):
            raise OutputError(f"{output} already holds results: pass --resume to continue it or --overwrite "
                              "to replace it")
        skip = {id_key(i) for i in done_ids(output)} if resume else set()
        target = output.with_name(f".{output.name}.partial") if has_results and not resume else output
        mode = "a" if resume else "w"
        try:
            counts = _predict_into(model, source, target, mode, skip, batch_size=batch_size, max_chars=max_chars,
                                   progress=progress)
        except BaseException:
            if target != output:
                target.unlink(missing_ok=True)
            raise
        if target != output:
            os.replace(target, output)
    return counts


def _predict_into(model, source, target: Path, mode: str, skip: set[str], *, batch_size: int, max_chars: int,
                  progress: bool) -> dict:
    is_csv = target.suffix.lower() == ".csv" or target.name.endswith(".csv.partial")
    counts = {"ok": 0, "error": 0, "skipped": 0}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(unit="article", desc="predict", dynamic_ncols=True)
    extra = [c for t in model.tasks for c in ((t.name,) if t.multi_label else (t.name, f"{t.name}_probability"))
             if c not in CSV_COLUMNS]
    with open(target, mode, encoding="utf-8", newline="") as out:
        writer = None
        if is_csv:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS + extra, extrasaction="ignore")
            if out.tell() == 0:
                writer.writeheader()

        def emit(rec: dict):
            if writer:
                writer.writerow(_csv_row(rec, model.tasks))
            else:
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            counts["error" if "error" in rec else "ok"] += 1

        batch: list[InputRecord] = []  # in input order, error records included, so the output keeps the order

        def predicted(records: list[InputRecord]) -> list[dict]:
            try:
                return model.predict([r.full_text for r in records], batch_size=batch_size)
            except Exception as e:  # one bad batch must not end a long job: retry one by one
                if len(records) == 1:
                    return [{"error": f"prediction failed: {type(e).__name__}: {e}"}]
                return [res for r in records for res in predicted([r])]

        def flush():
            todo = [r for r in batch if not r.error]
            results = iter(predicted(todo) if todo else [])
            for r in batch:
                emit({"id": r.id, "error": r.error} if r.error else {"id": r.id, **next(results)})
            out.flush()
            if bar is not None:
                bar.update(len(batch))
            batch.clear()

        seen: set[str] = set()
        for rec in iter_inputs(source, max_chars):
            key = id_key(rec.id if not is_csv else str(rec.id))
            if key in skip:
                counts["skipped"] += 1
                continue
            if key in seen:  # one output line per input line: the repeat is reported under a marked id
                rec = InputRecord(id=f"{rec.id} (repeated)", error=f"duplicate id {rec.id!r} in input")
            seen.add(key)
            batch.append(rec)
            if len(batch) >= batch_size:
                flush()
        flush()
    if bar is not None:
        bar.close()
    return counts


__all__ = ["iter_inputs", "predict_file", "done_ids", "check_paths", "id_key", "InputRecord", "OutputError",
           "DEFAULT_MAX_CHARS"]
