"""Data: one input reader, articles, splits, and the corpus validator (``diploml validate``)."""

from diploml.data.io import Article, DataError, RawRecord, load_articles, read_records
from diploml.data.splits import load_splits, split_articles

__all__ = ["Article", "DataError", "RawRecord", "load_articles", "load_splits", "read_records", "split_articles"]
