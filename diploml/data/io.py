"""Loading labelled and unlabelled articles: JSONL, CSV, folders of .txt, bundled corpora, HF datasets."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from diploml.tasks import Task


class DataError(ValueError):
    """Bad input data; the message names the file, line or article id."""


@dataclass
class Article:
    id: str
    text: str
    title: str = ""
    labels: dict = field(default_factory=dict)  # task name -> label (single) or list of labels (multi)
    partners: list[str] = field(default_factory=list)
    split: str | None = None

    @property
    def full_text(self) -> str:
        """What the models read: headline, blank line, body."""
        return f"{self.title}\n\n{self.text}" if self.title else self.text


def bundled_path(name: str) -> Path:
    path = Path(str(resources.files("diploml").joinpath(f"resources/corpus/{name}.jsonl")))
    if not path.is_file():
        raise DataError(f"no bundled corpus named {name!r} ({path})")
    return path


def write_corpus_sample(path: str | Path, n: int, *, id_format: str = "art{:05d}") -> Path:
    """``n`` unlabelled articles as JSONL: the bundled corpus's titles and texts, cycled, with ids
    ``id_format.format(i)``. A prediction input of any size (tests, benchmarks)."""
    corpus = bundled_path("diplomatic_news")
    base = [json.loads(line) for line in corpus.read_text("utf-8").splitlines() if line.strip()]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            a = base[i % len(base)]
            f.write(json.dumps({"id": id_format.format(i), "title": a.get("title") or "", "text": a["text"]},
                               ensure_ascii=False) + "\n")
    return Path(path)


def _article(rec: dict, where: str, tasks: list[Task] | None) -> Article:
    rid = rec.get("id")
    if rid is None or str(rid).strip() == "":
        raise DataError(f"{where}: missing 'id'")
    rid = str(rid)
    text = rec.get("text")
    if not isinstance(text, str):
        raise DataError(f"{where} (id {rid!r}): missing or non-text 'text'")
    if not text.strip():
        raise DataError(f"{where} (id {rid!r}): empty text")
    labels = {}
    for task in tasks or []:
        if task.name not in rec or rec[task.name] is None:
            continue
        value = rec[task.name]
        if (task.multi_label or task.mentions) and isinstance(value, str):  # CSV cells: "a;b"
            value = [v.strip() for v in value.replace(",", ";").split(";") if v.strip()]
        if task.mentions:
            if not isinstance(value, list):
                raise DataError(f"{where} (id {rid!r}): {task.name} must be a list of codes")
            from diploml.partners.regions import region_of

            for code in value:
                try:
                    region_of(code)
                except (KeyError, AttributeError, TypeError):
                    raise DataError(f"{where} (id {rid!r}): unknown {task.name} code {code!r} (ISO 3166-1 alpha-2 "
                                    "or ORG:<name>)") from None
            bad = []
        elif task.multi_label:
            bad = [v for v in value if v not in task.labels]
        else:
            bad = [] if value in task.labels else [value]
        if bad:
            raise DataError(
                f"{where} (id {rid!r}): unknown {task.name} label {bad[0]!r}; known: {', '.join(task.labels)}"
            )
        labels[task.name] = value
    partners = rec.get("partners") or []
    if isinstance(partners, str):
        partners = [p.strip() for p in partners.replace(",", ";").split(";") if p.strip()]
    split = rec.get("split") or None
    return Article(id=rid, title=str(rec.get("title") or ""), text=text, labels=labels, partners=list(partners),
                   split=split)


@dataclass
class RawRecord:
    """One input record as read: its fields, or the reason it could not be read, and where it is."""

    where: str
    data: dict | None = None
    error: str | None = None


def _json_record(raw: bytes | str, where: str) -> RawRecord | None:
    try:
        line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as e:
        return RawRecord(where, error=f"not UTF-8 text (invalid byte at {e.start})")
    if not line.strip():
        return None
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        return RawRecord(where, error=f"invalid JSON ({e.msg})")
    if not isinstance(rec, dict):
        return RawRecord(where, error="expected a JSON object")
    return RawRecord(where, data=rec)


def _jsonl(stream, name: str) -> Iterator[RawRecord]:
    for lineno, raw in enumerate(stream, 1):
        rec = _json_record(raw, f"{name}:{lineno}")
        if rec is not None:
            yield rec


def _jsonl_file(path: Path) -> Iterator[RawRecord]:
    with open(path, "rb") as fb:
        yield from _jsonl(fb, str(path))


def _txt_folder(path: Path) -> Iterator[RawRecord]:
    labels = {}
    if (path / "labels.jsonl").is_file():
        for r in read_records(path / "labels.jsonl"):
            labels[r.data.get("file") or f"{r.data['id']}.txt"] = r.data
    files = sorted(path.glob("*.txt"))
    if not files:
        raise DataError(f"{path}: folder holds no .txt files")
    for f in files:
        try:
            text = f.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            yield RawRecord(str(f), data={"id": f.stem}, error=f"not UTF-8 text (invalid byte at {e.start})")
            continue
        extra = {k: v for k, v in labels.get(f.name, {}).items() if k not in ("file", "id")}
        yield RawRecord(str(f), data={"id": f.stem, "title": "", "text": text, **extra})


def _csv(path: Path, max_field: int) -> Iterator[RawRecord]:
    csv.field_size_limit(max(csv.field_size_limit(), max_field))
    with open(path, "rb") as fb:
        # Decode line by line so that one bad byte spoils only its own row (U+FFFD marks it);
        # utf-8-sig drops the byte-order mark that Excel writes before the first column name.
        first = True

        def lines():
            nonlocal first
            for raw in fb:
                if first:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")
                    first = False
                yield raw.decode("utf-8", errors="replace")

        reader = csv.DictReader(lines())
        fields = reader.fieldnames
        if not fields:  # an empty file: no records
            return
        if "text" not in fields:
            found = ", ".join(fields) or "none"
            raise DataError(f"{path}: the CSV header has no 'text' column (columns found: {found})")
        row_no = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                row_no = reader.line_num
                yield RawRecord(f"{path}:{row_no}", error=f"unreadable CSV row ({e})")
                continue
            row_no = reader.line_num
            where = f"{path}:{row_no}"
            if any("\ufffd" in v for v in row.values() if isinstance(v, str)):
                yield RawRecord(where, data={"id": row.get("id")}, error="invalid UTF-8")
                continue
            yield RawRecord(where, data=dict(row))


def read_records(source: str | Path, *, on_error: str = "raise", max_field: int = 1 << 24) -> Iterator[RawRecord]:
    """The one input reader: records from JSONL, CSV, a folder of .txt files (with an optional
    ``labels.jsonl``) or ``-`` (JSONL on stdin), one at a time (memory does not grow with the input).

    ``on_error="raise"``: an unreadable record raises DataError naming file and line (training data);
    ``on_error="record"``: it is yielded with ``error`` set and reading goes on (prediction input).
    A missing source or a CSV without a ``text`` column always raises.
    """
    if on_error not in ("raise", "record"):
        raise ValueError(f"on_error must be 'raise' or 'record', got {on_error!r}")
    if str(source) == "-":
        records = _jsonl(sys.stdin.buffer, "<stdin>")
    else:
        path = Path(source)
        if path.is_dir():
            records = _txt_folder(path)
        elif not path.is_file():
            raise DataError(f"input not found: {path}")
        elif path.suffix.lower() == ".csv":
            records = _csv(path, max_field)
        else:
            records = _jsonl_file(path)
    try:
        for rec in records:
            if rec.error and on_error == "raise":
                raise DataError(f"{rec.where}: {rec.error}")
            yield rec
    finally:
        records.close()


def load_articles(source: str | Path, tasks: list[Task] | None = None) -> list[Article]:
    """All articles of a source; labels are checked against ``tasks``; duplicate ids are an error."""
    source = str(source)
    if source.startswith("bundled:"):
        source = str(bundled_path(source.split(":", 1)[1]))
    if source.startswith("hf:"):
        return _load_hf(source[3:], tasks)
    articles, seen = [], {}
    for rec in read_records(source):
        where = rec.where
        art = _article(rec.data, where, tasks)
        if art.id in seen:
            raise DataError(f"{where}: duplicate id {art.id!r} (first at {seen[art.id]})")
        seen[art.id] = where
        articles.append(art)
    if not articles:
        raise DataError(f"{source}: no articles")
    return articles


def _load_hf(spec: str, tasks):
    """``hf:NAME[:SPLIT]`` or ``hf:/path/saved_with_save_to_disk``; needs the ``datasets`` package."""
    try:
        import datasets
    except ImportError:
        raise DataError("hf: sources need the datasets package: pip install 'diploml[datasets]'") from None
    name, _, split = spec.partition(":")
    ds = datasets.load_from_disk(name) if Path(name).exists() else datasets.load_dataset(name)
    if isinstance(ds, datasets.DatasetDict):
        parts = [ds[split]] if split else [ds[s] for s in ds]
        names = [split] if split else list(ds)
    else:
        parts, names = [ds], [None]
    out = []
    for part, sname in zip(parts, names, strict=True):
        for i, rec in enumerate(part):
            rec = dict(rec)
            if sname and not rec.get("split"):
                rec["split"] = sname
            out.append(_article(rec, f"hf:{spec}[{i}]", tasks))
    return out
