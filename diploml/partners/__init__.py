"""Partner gazetteer: Vietnamese names of countries, territories and organisations in news text.

Sources: the CLDR Vietnamese territory names shipped with Babel (``Locale('vi').territories``)
for every code of ``resources/m49_regions.csv`` (and its English names, which Vietnamese news
also uses: "Lebanon", "Lithuania"), plus the hand-made alias list
``resources/partners/aliases.tsv`` (short forms, transliterations, capitals, metonyms,
organisations and blockers). ``find(text)`` returns mentions with character spans into the
text as given; a mention is evidence, not a partner (a venue or a background investor is
mentioned too): deciding which mentions are partners is the model's job.

Matching rules (see docs/text.md): tone-mark placement, Unicode composition, hyphen/space
and quote variants are normalised; names match whole words only; the first letter must be
capitalised as in the name ("Anh" the country, not "anh" the pronoun), acronyms match
exactly; the longest name wins ("Vương quốc Anh" over "Anh", "Nam Mỹ" blocks "Mỹ").
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources

from diploml.partners.regions import m49_table, region_of, regions_of
from diploml.text.normalize import Aligned

__all__ = [
    "Mention", "Gazetteer", "candidates", "codes_of", "find", "gazetteer", "group_by_region", "names_of",
    "region_of", "regions_of",
]

ALIASES = "resources/partners/aliases.tsv"
BLOCKER = "-"
VIETNAM = "VN"
# CLDR codes that are organisations, not territories.
CLDR_ORGS = {"UN": "ORG:UN", "EU": "ORG:EU"}

# English names (the table's name_en, also from CLDR) that are common words or personal names.
AMBIGUOUS_ENGLISH = {"Chad", "Jersey", "Guernsey", "Turkey", "Man", "Isle of Man", "Jordan", "Georgia"}

_SEP = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class Mention:
    """One gazetteer hit: ``text[start:end] == form``."""

    code: str  # ISO 3166-1 alpha-2 or ORG:<acronym>
    form: str  # the matched text, as written in the input
    start: int
    end: int
    region: str  # the guide's region label (UN M49 sub-region; "international" for ORG:)
    kind: str  # country | capital | city | metonym | demonym | organisation

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Entry:
    code: str
    form: str
    kind: str
    flags: frozenset


def form_key(form: str) -> str:
    """A name in matching form: NFC, tone convention, plain punctuation."""
    return Aligned(form).key.strip()


def _pattern(entry: _Entry) -> str:
    tokens = [re.escape(t) for t in _SEP.split(form_key(entry.form)) if t]
    body = r"[\s\-]+".join(tokens)
    if "exact" in entry.flags:
        return body
    if entry.kind == "blocker":
        return f"(?i:{body})"
    first, rest = body[0], body[1:]  # first letter as written, the rest case-insensitive
    return f"{first}(?i:{rest})" if rest else first


def _split_cldr(name: str) -> list[str]:
    """Usable forms of one CLDR name: 'Myanmar (Miến Điện)' -> both parts; drop ', Trung Quốc'."""
    name = name.split(", ")[0]
    out = []
    m = re.fullmatch(r"(.+?)\s*\((.+)\)", name)
    out.extend([m.group(1), m.group(2)] if m else [name])
    out += [f.replace("St. ", "Saint ") for f in out if f.startswith("St. ")]
    out += [f.replace(" & ", " và ") for f in out if " & " in f]
    return [f for f in out if len(f) > 1]


def _cldr_entries() -> list[_Entry]:
    from babel import Locale

    territories = Locale("vi").territories
    entries = []
    for code, row in m49_table().items():
        for name in {territories.get(code), row.get("name_vi")} - {None, ""}:
            for form in _split_cldr(name):
                entries.append(_Entry(code, form, "country", frozenset()))
        english = row.get("name_en", "").replace(" & ", " and ")
        if english and english not in AMBIGUOUS_ENGLISH and "SAR" not in english and "(" not in english:
            entries.append(_Entry(code, english.replace("St. ", "Saint "), "country", frozenset()))
    for cldr_code, org in CLDR_ORGS.items():
        if cldr_code in territories:
            entries.append(_Entry(org, territories[cldr_code], "organisation", frozenset()))
    return entries


def _alias_entries(text: str) -> list[_Entry]:
    entries = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 3:
            raise ValueError(f"{ALIASES}:{lineno}: expected code<TAB>form<TAB>kind[<TAB>flags], got {line!r}")
        flags = frozenset(f.strip() for f in (cols[3] if len(cols) > 3 else "").split(",") if f.strip())
        entries.append(_Entry(cols[0].strip(), cols[1].strip(), cols[2].strip(), flags))
    return entries


def names_of(code: str) -> list[str]:
    """All forms the gazetteer knows for one code."""
    return sorted({e.form for e in gazetteer().entries if e.code == code})


class Gazetteer:
    """Compiled matcher over CLDR names and aliases (build once; see ``gazetteer()``).

    Names are indexed by their first word, so a text is scanned once, word by word, and
    only the names starting with that word are tried, longest first.
    """

    def __init__(self, entries: list[_Entry]):
        self.entries = entries
        by_pattern: dict[str, _Entry] = {}
        for e in entries:  # aliases come last and win over CLDR for the same pattern
            by_pattern[_pattern(e)] = e
        index: dict[str, list[tuple[re.Pattern, _Entry]]] = defaultdict(list)
        for pat, e in by_pattern.items():
            first = _SEP.split(form_key(e.form))[0].lower()
            index[first].append((re.compile(pat + r"(?![\w])"), e))
        for candidates in index.values():
            candidates.sort(key=lambda pe: -len(pe[1].form))
        self._index = dict(index)

    def find(self, text: str, *, include_vietnam: bool = False) -> list[Mention]:
        keyed = Aligned(text)
        key = keyed.key
        out = []
        pos = 0
        for w in _TOKEN.finditer(key):
            if w.start() < pos:
                continue  # inside the previous mention
            for regex, e in self._index.get(w.group().lower(), ()):
                m = regex.match(key, w.start())
                if not m or ("name" in e.flags and _inside_personal_name(key, m.start())):
                    continue
                pos = m.end()
                if e.code == BLOCKER or (e.code == VIETNAM and not include_vietnam):
                    break
                start, end = keyed.span(m.start(), m.end())
                out.append(Mention(e.code, text[start:end], start, end, region_of(e.code), e.kind))
                break
        return out


_TOKEN = re.compile(r"[^\W_]+")


_PREV_WORD = re.compile(r"(?P<before>[^\n]*?)(?P<word>[^\W\d_]+) +$")


def _inside_personal_name(key: str, start: int) -> bool:
    """True when a name-like form follows a capitalised word mid-sentence ("Nguyễn Tuấn Anh")."""
    m = _PREV_WORD.search(key, max(0, start - 80), start)
    if not m or not m.group("word")[0].isupper():
        return False
    before = m.group("before").rstrip()
    at_sentence_start = not before or before[-1] in '.!?:;"(-\n'
    return not at_sentence_start


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The bundled gazetteer (CLDR via Babel + aliases.tsv), built once."""
    aliases = resources.files("diploml").joinpath(ALIASES).read_text("utf-8")
    entries = _cldr_entries() + _alias_entries(aliases)
    for e in entries:
        if e.code != BLOCKER:
            region_of(e.code)  # fail early on an alias with an unknown code
    return Gazetteer(entries)


def find(text: str, *, include_vietnam: bool = False) -> list[Mention]:
    """Partner mentions in ``text`` in reading order, with spans into ``text``.

    Vietnam itself is skipped unless ``include_vietnam`` (it is never a partner).
    """
    return gazetteer().find(text, include_vietnam=include_vietnam)


def group_by_region(mentions) -> dict[str, list]:
    """Mentions (``Mention`` or their dicts) grouped by region label: which mention supports which region."""
    groups: dict[str, list] = defaultdict(list)
    for m in mentions:
        region = m["region"] if isinstance(m, dict) else m.region
        groups[region].append(m)
    return dict(groups)


def candidates(text: str) -> dict[str, list[Mention]]:
    """Candidate partners of ``text``: its mentions grouped by code, codes in order of first mention."""
    out: dict[str, list[Mention]] = {}
    for m in find(text):
        out.setdefault(m.code, []).append(m)
    return out


def codes_of(mentions) -> list[str]:
    """Distinct partner codes of some mentions, in order of first mention."""
    return list(dict.fromkeys(m["code"] if isinstance(m, dict) else m.code for m in mentions))
