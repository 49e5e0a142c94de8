"""Rule baseline: topic trigger phrases, gazetteer partners/regions, sector keyword lexicon.

It is the floor every trained model must beat, and a way to pre-label unlabelled articles
(``diploml label``). It is a ``Model`` like the others (``fit`` learns nothing). The lexicons are
YAML files under ``diploml/resources/rules/`` (copied into a saved run directory, where they can be
edited; ``model.rules_dir`` points a config at an edited copy).
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from diploml import partners as gaz
from diploml.models.base import Model
from diploml.partners import regions_of
from diploml.rundir import RunInfo, model_card_tail
from diploml.text import normalize, preprocess
from diploml.text.normalize import Aligned

RULE_FILES = ("topic.yaml", "sectors.yaml", "partners.yaml")


def bundled_rules_dir() -> Path:
    return Path(str(resources.files("diploml").joinpath("resources/rules")))


@lru_cache(maxsize=4096)
def _phrase_regex(phrase: str) -> re.Pattern:
    """Whole-word, case-insensitive regex of a normalised phrase (spaces match any whitespace)."""
    words = [re.escape(w) for w in normalize(phrase).lower().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _has_any(text: str, phrases: Iterable[str]) -> bool:
    return any(_phrase_regex(p).search(text) for p in phrases)


def _remove(text: str, phrases: Iterable[str]) -> str:
    for p in phrases:
        text = _phrase_regex(p).sub(" ", text)
    return text


def _lower_same_length(text: str) -> str:
    # str.lower() may lengthen a few characters (e.g. "İ"); spans must keep the text's offsets
    low = text.lower()
    return low if len(low) == len(text) else "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@lru_cache(maxsize=1)
def bundled_sector_lexicon() -> dict:
    """The bundled ``sectors.yaml``, parsed (read once)."""
    return yaml.safe_load((bundled_rules_dir() / "sectors.yaml").read_text("utf-8")) or {}


def sector_lexicon(cfg: dict | None = None) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]],
                                                     tuple[str, ...]]:
    """(cue phrases, excluded phrases) per sector and the title heads of a parsed ``sectors.yaml`` (the
    bundled one by default)."""
    cfg = bundled_sector_lexicon() if cfg is None else cfg
    cues = {k: tuple(v or ()) for k, v in (cfg.get("sectors") or {}).items()}
    exclude = {k: tuple(v or ()) for k, v in (cfg.get("exclude") or {}).items()}
    return cues, exclude, tuple(cfg.get("title_heads") or ())


_TOKEN = re.compile(r"\w+(?:['’]\w+)*|\S")
_CONNECTORS = (",", "-", "–", "&", "và")


@lru_cache(maxsize=8)
def _heads_regex(heads: tuple[str, ...]) -> re.Pattern | None:
    if not heads:
        return None
    alts = "|".join(r"\s+".join(map(re.escape, h.split())) for h in sorted(heads, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alts + r")(?!\w)\s*:?\s*")


def title_spans(text: str, heads: tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans of office names and titles in cased ``text``: a head (``Bộ``, ``Bộ trưởng``, ``Chủ tịch``...) and
    the capitalised name after it, e.g. "Bộ Nông nghiệp và Phát triển nông thôn", "Bộ trưởng Giao thông
    Vận tải Renan Filho", "Chủ tịch Quốc hội Trần Thanh Mẫn".

    A name is a run of components joined by ``,``/``-``/``&``/``và``: a capitalised word followed either by
    up to three lowercase words (a domain: "Giao thông vận tải") or by more capitalised words (a person's
    name, after which no lowercase word is taken).
    """
    head_re = _heads_regex(tuple(heads))
    if head_re is None:
        return []
    out = []
    for h in head_re.finditer(text):
        toks = [(m.group(), m.end()) for m in _TOKEN.finditer(text, h.end(), min(len(text), h.end() + 200))]
        i, end, prev_cap = 0, None, False
        while i < len(toks) and toks[i][0][:1].isupper() and toks[i][0][:1].isalpha():
            end, i = toks[i][1], i + 1
            lows, allowed, prev_cap = 0, not prev_cap, True
            while (allowed and lows < 3 and i < len(toks) and toks[i][0][:1].isalpha()
                   and not toks[i][0][:1].isupper() and toks[i][0] != "và"):
                end, i, lows, prev_cap = toks[i][1], i + 1, lows + 1, False
            if (i + 1 < len(toks) and toks[i][0] in _CONNECTORS and toks[i + 1][0][:1].isupper()
                    and toks[i + 1][0][:1].isalpha()):
                i, prev_cap = i + 1, False
        if end is not None:
            out.append((h.start(), end))
    return out


def sector_cue_spans(text: str, lexicon: dict | None = None) -> dict[str, list[tuple[int, int]]]:
    """Character spans of every sector cue in ``text`` per sector (a sector without cue is absent).

    The rule lexicon (``sectors.yaml``) on the lowercased text, after blanking office names and titles
    (``title_heads``: "Bộ Nông nghiệp...", "Chủ tịch Quốc hội..." name an office, not a cooperation area)
    and each sector's ``exclude`` phrases; ``lexicon``: a parsed ``sectors.yaml`` (default: the bundled one).
    The rules tag exactly the sectors returned here.
    """
    cues, exclude, heads = sector_lexicon(lexicon)
    chars = list(_lower_same_length(text))
    for a, b in title_spans(text, heads):
        chars[a:b] = " " * (b - a)
    low = "".join(chars)
    out = {}
    for label, phrases in cues.items():
        masked = low
        for p in exclude.get(label, ()):
            masked = _phrase_regex(p).sub(lambda m: " " * len(m.group()), masked)
        spans = sorted({m.span() for p in phrases for m in _phrase_regex(p).finditer(masked)})
        if spans:
            out[label] = spans
    return out


def written_cue_spans(text: str, lexicon: dict | None = None) -> dict[str, list[tuple[int, int]]]:
    """``sector_cue_spans`` of raw ``text``, found in its search form (``Aligned``: composed Unicode, the
    tone convention, as the models read it after preprocessing) and given as spans of ``text`` as written:
    the evidence ``predict`` reports, also for decomposed Unicode or "hoá" for "hóa"."""
    view = Aligned(text, spaces=False)
    return {label: [view.span(a, b) for a, b in spans] for label, spans in sector_cue_spans(view.key, lexicon).items()}


class RuleClassifier(Model):
    """Trigger phrases for ``topic``, the gazetteer for ``regions``, keywords for ``sectors``."""

    model_type = "rules"
    tunable = False  # rule scores are fixed levels (0, 0.25, 1), not probabilities to calibrate
    needs_labels = False
    version_packages = ("diploml", "pyyaml", "babel")

    def __init__(self, config=None, *, random_state: int | None = None):
        super().__init__(config, random_state=random_state)
        self._load_rules(Path(self.config.model.rules_dir) if self.config.model.rules_dir else bundled_rules_dir())

    def _load_rules(self, rules_dir: Path) -> None:
        self.rules_dir = rules_dir
        self.rules = {}
        for name in RULE_FILES:
            f = rules_dir / name
            if not f.is_file():
                raise FileNotFoundError(f"{rules_dir}: rule file {name} is missing")
            try:
                self.rules[name] = yaml.safe_load(f.read_text("utf-8"))
            except yaml.YAMLError as e:
                raise ValueError(f"{f}: invalid YAML ({e})") from None
        self.thresholds = self._fixed_thresholds()
        self._check_labels()

    def _fixed_thresholds(self) -> dict:
        return {t.name: np.full(max(1, len(t.labels)), 0.5) for t in self.tasks if t.multi_label or t.mentions}

    def _task(self, name: str):
        return next((t for t in self.tasks if t.name == name), None)

    def _check_labels(self) -> None:
        """Lexicon labels must exist in the task schema (a typo would silently never fire)."""
        checks = [("topic", self.rules["topic.yaml"]["order"] + [self.rules["topic.yaml"]["fallback"]]),
                  ("sectors", list(self.rules["sectors.yaml"]["sectors"])),
                  ("sectors", list(self.rules["sectors.yaml"].get("exclude") or {}))]
        for task_name, labels in checks:
            task = self._task(task_name)
            unknown = [lab for lab in labels if task is not None and lab not in task.labels]
            if unknown:
                raise ValueError(f"{self.rules_dir}: unknown {task_name} labels {unknown}")

    # --- the rules -------------------------------------------------------------------------

    def prepare(self, text: str) -> str:
        # the lexicons are written for unsegmented text
        return preprocess(text, **{**self.config.preprocess.model_dump(), "word_segmentation": "none"})

    def topic(self, text: str) -> tuple[str, bool]:
        """(label, whether a trigger fired) for one preprocessed text."""
        cfg = self.rules["topic.yaml"]
        lines = text.lower().split("\n")
        n_lead = int(cfg.get("lead_lines", 2))
        parts = ["\n".join(lines[:1]), "\n".join(lines[1:1 + n_lead]), "\n".join(lines)]
        for part in parts:
            part = _remove(part, cfg.get("ignore", []))
            for label in cfg["order"]:
                if _has_any(part, cfg["triggers"].get(label, [])):
                    return label, True
        return cfg["fallback"], False

    def sector_cues(self, text: str) -> dict[str, list[tuple[int, int]]]:
        return written_cue_spans(text, self.rules["sectors.yaml"])

    def sectors(self, text: str) -> list[str]:
        """Sectors one of whose cues occurs in the preprocessed ``text`` (see ``sector_cue_spans``)."""
        return list(sector_cue_spans(text, self.rules["sectors.yaml"]))

    def _is_venue(self, key: str, start: int) -> bool:
        cfg = self.rules["partners.yaml"]
        before = key[max(0, start - 60):start].lower()
        venue = "|".join(re.escape(w) for w in cfg["venue_words"])
        place = "|".join(re.escape(normalize(w).lower()) for w in cfg["place_words"])
        pattern = (rf"(?<!\w)(?:{venue})\s+(?:(?:{place})\s+[^.;:!?\n]{{0,40}}?\s*|"
                   rf"[^\s.;:!?,]+(?:\s+[^\s.;:!?,]+){{0,3}},\s*)?$")
        return re.search(pattern, before) is not None

    def _org_acts(self, key: str, start: int) -> bool:
        before = key[max(0, start - 40):start].lower().rstrip()
        return any(before.endswith(normalize(t).lower()) for t in self.rules["partners.yaml"]["org_actor_titles"])

    def partners(self, text: str) -> tuple[list[str], list[str]]:
        """(selected partner codes, all mentioned codes) for one preprocessed text."""
        cfg = self.rules["partners.yaml"]
        mentions = gaz.find(text)
        lines = text.split("\n")
        lead_end = len("\n".join(lines[:1 + int(cfg.get("lead_lines", 2))]))
        counts: Counter = Counter()
        selected = []
        for m in mentions:
            if m.code.startswith("ORG:"):
                if self._org_acts(text, m.start):
                    selected.append(m.code)
                continue  # known, but not counted as an actor
            if self._is_venue(text, m.start):
                continue
            counts[m.code] += 1
            if m.start < lead_end:
                selected.append(m.code)
        selected += [c for c, n in counts.items() if n >= int(cfg.get("min_mentions", 2))]
        if not selected and counts and counts.most_common(1)[0][1] > 0:
            selected = [counts.most_common(1)[0][0]]
        if not selected:  # only organisations that do not act: take the most mentioned one
            orgs = Counter(m.code for m in mentions if m.code.startswith("ORG:"))
            selected = [orgs.most_common(1)[0][0]] if orgs else []
        mentioned = list(dict.fromkeys(m.code for m in mentions))
        return list(dict.fromkeys(selected)), mentioned

    def analyse(self, text: str) -> dict:
        """All rule decisions for one raw text: topic, partners, regions, sectors."""
        prepared = self.prepare(text)
        topic, fired = self.topic(prepared)
        selected, mentioned = self.partners(prepared)
        return {"topic": topic, "topic_fired": fired, "partners": selected, "mentioned": mentioned,
                "regions": regions_of(selected), "sectors": self.sectors(prepared)}

    # --- model interface -------------------------------------------------------------------

    def _predict_proba(self, texts: list[str], *, batch_size: int | None, progress: bool) -> dict:
        out = {t.name: ([{} for _ in texts] if t.mentions else np.zeros((len(texts), len(t.labels))))
               for t in self.tasks}
        low = float(self.rules["partners.yaml"].get("mentioned_probability", 0.25))
        fallback_p = float(self.rules["topic.yaml"].get("fallback_probability", 0.3))
        for i, text in enumerate(texts):
            a = self.analyse(text)
            for task in self.tasks:
                row = out[task.name][i]
                if task.mentions:  # selected partners score 1, other mentioned codes `mentioned_probability`
                    row.update({c: low for c in a["mentioned"]})
                    row.update({c: 1.0 for c in a["partners"]})
                elif task.name == "topic":
                    if a["topic_fired"]:
                        row[task.index(a["topic"])] = 1.0
                    else:  # no trigger: the fallback wins, the rest share what is left
                        row[:] = (1 - fallback_p) / (len(task.labels) - 1)
                        row[task.index(a["topic"])] = fallback_p
                elif task.name == "regions":
                    for r in regions_of(a["mentioned"]):
                        row[task.index(r)] = low
                    for r in a["regions"]:
                        row[task.index(r)] = 1.0
                elif task.name == "sectors":
                    for s in a["sectors"]:
                        row[task.index(s)] = 1.0
        return out

    def _fit(self, train, dev, *, workdir, resume) -> None:
        """Rules are not trained."""

    def _write_files(self, folder: Path) -> None:
        for name in RULE_FILES:
            shutil.copyfile(self.rules_dir / name, folder / name)

    @classmethod
    def _from_run(cls, run: RunInfo) -> RuleClassifier:
        self = super()._from_run(run)
        self._load_rules(run.path)  # the copies in the run directory, possibly edited
        return self

    def model_card(self) -> str:
        lines = [f"# diploml model: {self.config.name} (rule baseline)", "",
                 "Topic trigger phrases, the partner gazetteer (regions) and a sector keyword lexicon.",
                 "Nothing is learnt; edit topic.yaml, sectors.yaml and partners.yaml here to change the rules."]
        lines += model_card_tail(self.tasks, self.dev_metrics_, "topic.yaml, sectors.yaml, partners.yaml (lexicons).")
        return "\n".join(lines)


def silver_records(articles: list[dict], model: RuleClassifier | None = None) -> list[dict]:
    """Corpus-format records (plus ``"silver": true``) labelled by the rules, for human review.

    ``articles``: dicts with ``id``, ``text`` and optionally ``title``; a page without a separate
    title gets its first clean line as the headline.
    """
    model = model or RuleClassifier()
    records = []
    for art in articles:
        title = preprocess(art.get("title") or "").replace("\n", " ")
        text = preprocess(art["text"])
        if not title:
            title, _, text = text.partition("\n")
        a = model.analyse(f"{title}\n{text}" if title else text)
        records.append({
            "id": art["id"], "title": title, "text": text, "topic": a["topic"], "partners": a["partners"],
            "regions": a["regions"], "sectors": a["sectors"], "silver": True,
        })
    return records
