"""Streaming prediction over files of any size: bounded memory, progress bar, resume, error records.

Input: JSONL (``id``, ``title``, ``text``), CSV with the same columns, a folder of ``.txt`` files,
or ``-`` for JSONL on stdin. A bad record (invalid JSON or UTF-8, missing or empty text, an article
over ``max_chars``) becomes ``{"id": ..., "error": "..."}`` in the output and the job goes on.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from diploml.base import labels_from_results

DEFAULT_MAX_CHARS = 200_000  # about 40,000 words: far beyond any news article


@dataclass
class InputRecord:
    id: str
    text: str = ""
    title: str = ""
    error: str | None = None

    @property
    def full_text(self) -> str:
        return f"{self.title}\n\n{self.text}" if self.title else self.text


def _check(rec: InputRecord, max_chars: int) -> InputRecord:
    if rec.error is None:
        if not rec.text.strip():
            rec.error = "empty text"
        elif len(rec.full_text) > max_chars:
            rec.error = f"article too long: {len(rec.full_text)} characters > max_chars={max_chars}"
    return rec


def _from_mapping(d: dict, where: str) -> InputRecord:
    rid = str(d.get("id") or where)
    text = d.get("text")
    if not isinstance(text, str):
        return InputRecord(id=rid, error="missing field 'text'")
    return InputRecord(id=rid, text=text, title=str(d.get("title") or ""))


def _jsonl_lines(stream, name: str) -> Iterator[InputRecord]:
    for lineno, raw in enumerate(stream, 1):
        where = f"{name}:{lineno}"
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as e:
            yield InputRecord(id=where, error=f"invalid UTF-8 at byte {e.start}")
            continue
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            yield InputRecord(id=where, error=f"invalid JSON: {e.msg}")
            continue
        if not isinstance(d, dict):
            yield InputRecord(id=where, error="expected a JSON object")
            continue
        yield _from_mapping(d, where)


def iter_inputs(source: str | Path, max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[InputRecord]:
    """Records one at a time from a file, folder or ``-`` (stdin)."""
    if str(source) == "-":
        for rec in _jsonl_lines(sys.stdin.buffer, "<stdin>"):
            yield _check(rec, max_chars)
        return
    path = Path(source)
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"{path}: folder holds no .txt files")
        for f in files:
            try:
                rec = InputRecord(id=f.stem, text=f.read_bytes().decode("utf-8"))
            except UnicodeDecodeError as e:
                rec = InputRecord(id=f.stem, error=f"invalid UTF-8 at byte {e.start}")
            yield _check(rec, max_chars)
        return
    if not path.is_file():
        raise FileNotFoundError(f"input not found: {path}")
    if path.suffix.lower() == ".csv":
        with open(path, "rb") as fb:
            # Decode line by line so that one bad byte spoils only its own row (U+FFFD marks it).
            lines = (raw.decode("utf-8", errors="replace") for raw in fb)
            for row_no, row in enumerate(csv.DictReader(lines), 2):
                where = f"{path}:{row_no}"
                if any("\ufffd" in (v or "") for v in row.values() if isinstance(v, str)):
                    yield InputRecord(id=str(row.get("id") or where), error="invalid UTF-8")
                    continue
                yield _check(_from_mapping(row, where), max_chars)
        return
    with open(path, "rb") as fb:
        for rec in _jsonl_lines(fb, str(path)):
            yield _check(rec, max_chars)


def done_ids(output: Path) -> set[str]:
    """Ids already in an output file; a torn last line (killed mid-write) is cut off first."""
    if not output.exists():
        return set()
    data = output.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(output, "r+b") as f:
            f.truncate(cut)
        data = data[:cut]
    ids = set()
    if output.suffix.lower() == ".csv":
        for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
            ids.add(row["id"])
    else:
        for line in data.decode("utf-8").splitlines():
            if line.strip():
                ids.add(json.loads(line)["id"])
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


def predict_file(model, source: str | Path, output: str | Path, *, batch_size: int = 16, resume: bool = False,
                 max_chars: int = DEFAULT_MAX_CHARS, progress: bool = True) -> dict:
    """Predict every record of ``source`` into ``output`` (JSONL, or CSV by suffix). Returns counts."""
    output = Path(output)
    skip = done_ids(output) if resume else set()
    if not resume and output.exists():
        output.unlink()
    output.parent.mkdir(parents=True, exist_ok=True)
    is_csv = output.suffix.lower() == ".csv"
    counts = {"ok": 0, "error": 0, "skipped": 0}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(unit="article", desc="predict", dynamic_ncols=True)
    extra = [c for t in model.tasks for c in ((t.name,) if t.multi_label else (t.name, f"{t.name}_probability"))
             if c not in CSV_COLUMNS]
    with open(output, "a", encoding="utf-8", newline="") as out:
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

        batch: list[InputRecord] = []

        def flush():
            if not batch:
                return
            try:
                results = model.predict([r.full_text for r in batch])
            except Exception as e:  # one bad batch must not end a long job: retry one by one
                if len(batch) == 1:
                    emit({"id": batch[0].id, "error": f"prediction failed: {type(e).__name__}: {e}"})
                    batch.clear()
                    return
                items = list(batch)
                batch.clear()
                for r in items:
                    batch.append(r)
                    flush()
                return
            for r, res in zip(batch, results, strict=True):
                emit({"id": r.id, **res})
            out.flush()
            if bar is not None:
                bar.update(len(batch))
            batch.clear()

        seen: set[str] = set()
        for rec in iter_inputs(source, max_chars):
            if rec.id in skip:
                counts["skipped"] += 1
                continue
            if rec.id in seen:
                rec = InputRecord(id=rec.id, error="duplicate id in input")
            seen.add(rec.id)
            if rec.error:
                emit({"id": rec.id, "error": rec.error})
                if bar is not None:
                    bar.update(1)
                continue
            batch.append(rec)
            if len(batch) >= batch_size:
                flush()
        flush()
    if bar is not None:
        bar.close()
    return counts


__all__ = ["iter_inputs", "predict_file", "done_ids", "labels_from_results"]
