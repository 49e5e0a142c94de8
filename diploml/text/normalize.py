"""Unicode, tone-mark, whitespace and punctuation normalisation for Vietnamese text.

Tone-mark convention: in the open syllables whose vowel nucleus is ``oa``, ``oe`` or
``uy`` (no final consonant), the tone mark sits on the FIRST vowel: ``hòa``, ``khỏe``,
``thụy``, ``ủy``. Both spellings found in the wild (``hoà``/``hòa``, ``Thuỵ``/``Thụy``)
are mapped to it. This is the placement used by most Vietnamese news sites and by the
CLDR country names (``Thụy Sĩ``, ``Cộng hòa Séc``), so gazetteer names and article text
agree. Every other syllable is left alone: closed syllables (``hoàn``, ``thuyết``),
``qu``/``gi`` onsets (``quý``, ``quả``, ``giữa``), three-vowel nuclei (``ngoài``) and
``Nguyễn``.
"""

from __future__ import annotations

import re
import unicodedata

# Combining tone marks (grave, acute, tilde, hook above, dot below).
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
_OPEN_NUCLEI = {"oa", "oe", "uy"}

_QUOTES = {c: '"' for c in "“”„‟«»″〝〞＂"} | {c: "'" for c in "‘’‚‛′＇`"}
_DASHES = {c: "-" for c in "‐‑‒–—―−﹘﹣－"}
_LINE_BREAKS = {c: "\n" for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
_CHAR_MAP = str.maketrans({**_QUOTES, **_DASHES, **_LINE_BREAKS, "\t": " ", "…": "..."})
_WORD = re.compile(r"[^\W\d_]+")
_SPACES = re.compile(r" {2,}")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _split_tone(ch: str) -> tuple[str, str]:
    """(character without its tone mark, tone mark or '')."""
    d = unicodedata.normalize("NFD", ch)
    tone = "".join(c for c in d if c in TONES)
    base = unicodedata.normalize("NFC", "".join(c for c in d if c not in TONES))
    return base, tone


def _with_tone(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", base + tone)


def fix_tone_placement(word: str) -> str:
    """One syllable with the tone mark moved to the documented position (see module doc)."""
    if len(word) > 7:
        return word
    parts = [_split_tone(c) for c in word]
    if any(len(b) != 1 for b, _ in parts):  # unknown letters: leave the word untouched
        return word
    bases = "".join(b for b, _ in parts).lower()
    toned = [i for i, (_, t) in enumerate(parts) if t]
    if len(toned) != 1 or len(bases) < 2:
        return word
    nucleus = bases[-2:]
    onset = bases[:-2]
    if nucleus not in _OPEN_NUCLEI or any(c in _VOWELS for c in onset):
        return word
    if onset.endswith("q") or (onset.endswith("g") and nucleus == "uy"):
        return word  # "quý", "quỳ": the u belongs to the onset
    i = toned[0]
    first = len(word) - 2
    if i == first:
        return word
    tone = parts[i][1]
    chars = [b for b, _ in parts]
    chars[first] = _with_tone(parts[first][0], tone)
    return "".join(chars)


def _keep_char(c: str) -> bool:
    if c == "\n":
        return True
    cat = unicodedata.category(c)
    return not (cat == "Cc" or cat == "Cf" or cat == "Cs")


def normalize(text: str) -> str:
    """NFC, one tone-mark convention, plain quotes/dashes, tidy whitespace.

    Line structure is kept (cleaning works on lines): spaces are collapsed within a line,
    lines are stripped, runs of blank lines become one blank line. Idempotent.
    """
    text = text.translate(_CHAR_MAP)
    text = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text if _keep_char(c))
    text = unicodedata.normalize("NFC", text)
    text = _WORD.sub(lambda m: fix_tone_placement(m.group()), text)
    lines = [_SPACES.sub(" ", line).strip(" ") for line in text.split("\n")]
    text = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")
    return unicodedata.normalize("NFC", text)


def strip_tones(text: str) -> str:
    """Text without tone marks (vowel shapes such as ô, ư, ă, đ are kept)."""
    d = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in d if c not in TONES))


# Quotes and dashes as the gazetteer and the sector lexicon write them (one character for one).
_SEARCH_MAP = _QUOTES | _DASHES


class Aligned:
    """A text in search form, with spans back into the text as written.

    ``key``: each base character and its combining marks composed (NFC), the tone convention of
    ``fix_tone_placement``, plain quotes and dashes, and with ``spaces`` every white-space character a
    space. Names and cue phrases are matched in ``key``; ``span`` maps a match back, so evidence points
    into the user's text even when it is decomposed Unicode or places tone marks the other way.
    """

    def __init__(self, text: str, *, spaces: bool = True):
        chars, starts, ends = [], [], []
        i, n = 0, len(text)
        while i < n:  # a base character and its combining marks form one cluster
            j = i + 1
            while j < n and unicodedata.combining(text[j]):
                j += 1
            for c in unicodedata.normalize("NFC", text[i:j]):
                chars.append(" " if spaces and c.isspace() else _SEARCH_MAP.get(c, c))
                starts.append(i)
                ends.append(j)
            i = j
        self.key = _WORD.sub(_fix_same_length, "".join(chars))
        self.starts, self.ends = starts, ends

    def span(self, a: int, b: int) -> tuple[int, int]:
        """The span of the original text that ``key[a:b]`` was made from."""
        return self.starts[a], self.ends[b - 1]


def _fix_same_length(m: re.Match) -> str:
    fixed = fix_tone_placement(m.group())
    return fixed if len(fixed) == len(m.group()) else m.group()
