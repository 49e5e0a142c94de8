"""Data: loading articles, splits, and the corpus validator (``python -m diploml.data validate``)."""

from diploml.data.io import Article, DataError, iter_records, load_articles, split_articles

__all__ = ["Article", "DataError", "iter_records", "load_articles", "split_articles"]
