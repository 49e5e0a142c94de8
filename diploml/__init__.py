"""diploml: multi-task classification of Vietnamese diplomatic news.

    import diploml
    model = diploml.load("runs/default")
    model.predict(["...article..."])
"""

__version__ = "0.1.0"


def load(path, **kwargs):
    """Load a saved model directory of any kind (transformer, TF-IDF, rules)."""
    from diploml.base import load as _load

    return _load(path, **kwargs)


def __getattr__(name):
    # Lazy, so that `import diploml` stays light (no torch import for the text tools).
    if name == "DiploClassifier":
        from diploml.classifier import DiploClassifier

        return DiploClassifier
    if name in ("load_config", "RunConfig", "ConfigError"):
        from diploml import config

        return getattr(config, name)
    if name in ("load_articles", "Article"):
        from diploml import data

        return getattr(data, name)
    raise AttributeError(f"module 'diploml' has no attribute {name!r}")


__all__ = ["load", "DiploClassifier", "load_config", "RunConfig", "ConfigError", "load_articles", "Article"]
