"""diploml: multi-task classification of Vietnamese diplomatic news.

    import diploml
    model = diploml.load("runs/default")
    model.predict(["...article..."])
"""

from diploml._version import __version__


def load(path, *, backend: str = "torch", **options):
    """Load a saved run directory of any model type (transformer, TF-IDF, rules); see ``diploml.registry.load``."""
    from diploml.registry import load as _load

    return _load(path, backend=backend, **options)


_LAZY = {
    # Lazy, so that `import diploml` stays light (no torch import for the text tools).
    "DiploClassifier": "diploml.models.transformer.classifier",
    "TfidfClassifier": "diploml.models.tfidf",
    "RuleClassifier": "diploml.models.rules",
    "build": "diploml.registry",
    "load_config": "diploml.config",
    "RunConfig": "diploml.config",
    "ConfigError": "diploml.config",
    "load_articles": "diploml.data",
    "load_splits": "diploml.data",
    "Article": "diploml.data",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'diploml' has no attribute {name!r}")


__all__ = ["__version__", "load", *_LAZY]
