"""Vietnamese text pipeline: ``normalize``, ``clean``, ``segment`` and ``preprocess``.

``preprocess`` is the one function the core calls at training and prediction time; its
three options are the config section ``preprocess`` (see docs/text.md).
"""

from __future__ import annotations

from diploml.text import clean as _clean_mod
from diploml.text import normalize as _normalize_mod
from diploml.text.clean import clean, is_noise
from diploml.text.normalize import fix_tone_placement, normalize, strip_tones
from diploml.text.segment import SEGMENTERS, segment

__all__ = [
    "SEGMENTERS", "clean", "fix_tone_placement", "is_noise", "normalize", "preprocess", "segment", "strip_tones",
]


def preprocess(text: str, *, normalize: bool = True, clean: bool = True, word_segmentation: str = "none") -> str:
    """Normalise, then clean, then word-segment ``text`` (each step optional).

    Order matters: cleaning rules are written for normalised text (plain quotes, dots,
    composed characters), and segmentation joins syllables with "_" so it runs last.
    """
    if normalize:
        text = _normalize_mod.normalize(text)
    if clean:
        text = _clean_mod.clean(text)
    return segment(text, word_segmentation)
