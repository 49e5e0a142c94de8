"""Vietnamese text pipeline: ``normalize``, ``clean``, ``segment`` and ``preprocess``.

``preprocess`` is the one function the core calls at training and prediction time; its
three options are the config section ``preprocess`` (see docs/text.md).
"""

from __future__ import annotations

from diploml.text import clean as _clean_mod
from diploml.text import normalize as _normalize_mod
from diploml.text.clean import clean, is_noise, strip_html
from diploml.text.normalize import fix_tone_placement, normalize, strip_tones
from diploml.text.segment import SEGMENTERS, segment

__all__ = [
    "SEGMENTERS", "clean", "guard", "strip_html",
    "fix_tone_placement", "is_noise", "normalize", "preprocess", "segment", "strip_tones",
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


# Letters that occur only in Vietnamese among the languages of our inputs (the tone-marked vowels and đ).
_VIETNAMESE = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
MIN_WORDS = 20


def guard(text: str) -> str | None:
    """A warning when ``text`` is not something the models were trained for, else None.

    Near-empty text (fewer than ``MIN_WORDS`` words after cleaning) or text that is not Vietnamese
    (under 3% of its letters Vietnamese-specific; news text has 15-25%) still gets labels, but they
    carry this warning instead of looking as confident as any other.
    """
    body = _clean_mod.clean(_normalize_mod.normalize(text))
    words = body.split()
    if len(words) < MIN_WORDS:
        return f"near-empty text ({len(words)} words after cleaning): labels are unreliable"
    letters = [c for c in body.lower() if c.isalpha()]
    share = sum(c in _VIETNAMESE for c in letters) / max(1, len(letters))
    if share < 0.03:
        return f"does not look like Vietnamese ({share:.0%} Vietnamese letters): labels are unreliable"
    return None
