"""Optional word segmentation for PhoBERT-style models (syllables of a word joined by "_")."""

from __future__ import annotations

import importlib

# method -> (module to import, pip package that provides it)
SEGMENTERS = {"none": (None, None), "pyvi": ("pyvi", "pyvi"), "underthesea": ("underthesea", "underthesea")}


def _require(method: str):
    module, package = SEGMENTERS[method]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"preprocess.word_segmentation={method!r} needs the optional package {package!r}: "
            f"pip install {package}  (or use word_segmentation='none')"
        ) from None


def segment(text: str, method: str = "none") -> str:
    """Word-segment ``text`` line by line; ``none`` returns it unchanged."""
    if method not in SEGMENTERS:
        raise ValueError(f"unknown word_segmentation {method!r}; choose one of {sorted(SEGMENTERS)}")
    if method == "none":
        return text
    lib = _require(method)
    if method == "pyvi":
        from pyvi import ViTokenizer  # noqa: F401  (submodule import after the check above)

        tokenize = ViTokenizer.tokenize
    else:
        def tokenize(line: str) -> str:
            return lib.word_tokenize(line, format="text")
    return "\n".join(tokenize(line) if line.strip() else line for line in text.split("\n"))
