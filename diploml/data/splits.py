"""Train/dev/test splits: the records' own ``split`` field, else a deterministic hash split."""

from __future__ import annotations

import hashlib

from diploml.config import DataConfig
from diploml.data.io import Article, DataError, load_articles
from diploml.tasks import Task


def _fingerprint(art: Article) -> str:
    return hashlib.sha1(" ".join(art.full_text.split()).lower().encode()).hexdigest()


def split_articles(articles: list[Article], *, dev_fraction=0.1, test_fraction=0.15, seed=13,
                   stratify_task: str | None = "topic") -> dict[str, list[Article]]:
    """Group by each article's ``split``; articles without one are assigned deterministically.

    Assignment hashes the id with ``seed`` within each stratum (the topic label), so it does not
    depend on file order. Identical texts in two splits are reported as a DataError.
    """
    out: dict[str, list[Article]] = {"train": [], "dev": [], "test": []}
    strata: dict[str, list[Article]] = {}
    for a in articles:
        if a.split:
            out.setdefault(a.split, []).append(a)
        else:
            strata.setdefault(str(a.labels.get(stratify_task, "")), []).append(a)
    for group in strata.values():
        group = sorted(group, key=lambda a: hashlib.sha1(f"{seed}:{a.id}".encode()).hexdigest())
        n_test = round(len(group) * test_fraction)
        n_dev = round(len(group) * dev_fraction)
        for i, a in enumerate(group):
            out["test" if i < n_test else "dev" if i < n_test + n_dev else "train"].append(a)
    seen: dict[str, tuple[str, str]] = {}
    for name, arts in out.items():
        for a in arts:
            fp = _fingerprint(a)
            if fp in seen and seen[fp][0] != name:
                raise DataError(f"article {a.id!r} ({name}) has the same text as {seen[fp][1]!r} ({seen[fp][0]})")
            seen.setdefault(fp, (name, a.id))
    return out


def load_splits(data: DataConfig, tasks: list[Task]) -> dict[str, list[Article]]:
    """A config's data section as ``{"train", "dev", "test"}`` article lists (labels checked against ``tasks``)."""
    splits = split_articles(load_articles(data.path, tasks), dev_fraction=data.dev_fraction,
                            test_fraction=data.test_fraction, seed=data.split_seed)
    named = {"train": splits.get(data.train_split, []), "dev": splits.get(data.dev_split, []),
             "test": splits.get(data.test_split, [])}
    if data.limit:
        named = {k: v[:data.limit] for k, v in named.items()}
    if not named["train"]:
        raise DataError(f"data.path {data.path}: no articles in split {data.train_split!r}")
    return named
