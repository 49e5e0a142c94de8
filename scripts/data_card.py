"""Regenerate the statistics of the corpus data card (docs/data_card.md) from the bundled corpus.

    python scripts/data_card.py [--corpus FILE] [--print]

Replaces the text between the STATS markers; everything else in the card is hand-written. Besides the
label tables: articles and events per split, length (median words and paragraphs of the body, share
over 800 words), headlines with an activity cue word (``diploml.data.headline_cues``), multi-partner
figures, sectors per article beside the real-text set's labels (``data/real_dev``, labels only) and the
corpus articles that tell one of that set's events (it must stay unseen), and the shortcut report: topic
accuracy on the test split of a logistic regression on TF-IDF word 1-2 grams trained on the train split,
from the title alone, from the first 15 words of the (cleaned) body, and from the full text.
``--print`` prints the statistics instead of writing the card.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

from diploml.data.events import crossing_groups, event_groups, same_event
from diploml.data.headline_cues import has_activity_cue
from diploml.data.real_dev import events_told, read_labels
from diploml.data.validate import read_jsonl
from diploml.partners import candidates
from diploml.tasks import load_task_schema
from diploml.text import normalize, preprocess

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "diploml" / "resources" / "corpus" / "diplomatic_news.jsonl"
CARD = ROOT / "docs" / "data_card.md"
REAL_DEV = ROOT / "data" / "real_dev"
BEGIN, END = "<!-- STATS:BEGIN -->", "<!-- STATS:END -->"
SPLITS = ("train", "dev", "test")
TITLE_ONLY_GOAL = 0.70
LEAD_WORDS = 15
_PARAGRAPH = re.compile(r"\n\s*\n")


def stats(records: list[dict]) -> str:
    tasks = load_task_schema("diplomatic_news")
    n = len(records)
    out = [f"Articles: **{n}** (train {sum(r['split'] == 'train' for r in records)}, "
           f"dev {sum(r['split'] == 'dev' for r in records)}, test {sum(r['split'] == 'test' for r in records)})."]
    for t in [t for t in tasks if not t.mentions]:  # partners: open codes, listed below by frequency
        out += ["", f"### {t.name}", "", "| label | all | train | dev | test |", "| --- | --- | --- | --- | --- |"]
        for lab in t.labels:
            tagged = [r for r in records if (lab in r[t.name] if t.multi_label else r[t.name] == lab)]
            row = [len(tagged)] + [sum(r["split"] == s for r in tagged) for s in SPLITS]
            out.append(f"| {lab} | " + " | ".join(map(str, row)) + " |")
    words = [len((r["title"] + " " + r["text"]).split()) for r in records]
    countries = Counter(p for r in records for p in r["partners"] if not p.startswith("ORG:"))
    orgs = Counter(p for r in records for p in r["partners"] if p.startswith("ORG:"))
    long_ones = sum(w > 500 for w in words)
    multi_region = sum(len({x for x in r["regions"]}) > 1 for r in records)
    traits = Counter(t for r in records for t in r.get("traits", []))
    years = Counter(r.get("date", "?")[:4] for r in records)
    out += ["", "### Shape", "",
            "| measure | value |", "| --- | --- |",
            f"| words per article (mean / median / max) | {sum(words) / n:.0f} / {sorted(words)[n // 2]} "
            f"/ {max(words)} |",
            f"| articles longer than 500 words | {long_ones} ({long_ones / n:.0%}) |",
            f"| distinct partner countries / organisations | {len(countries)} / {len(orgs)} |",
            f"| articles with partners in several regions | {multi_region} ({multi_region / n:.0%}) |",
            f"| years covered | {min(y for y in years if y != '?')}–{max(y for y in years if y != '?')} |",
            f"| sectors per article (mean) | {sum(len(r['sectors']) for r in records) / n:.1f} |"]
    out += ["", "### Difficulty traits (tagged by the writers)", "",
            "| trait | articles | share |", "| --- | --- | --- |"]
    for k, v in sorted(traits.items()):
        out.append(f"| {k} | {v} | {v / n:.0%} |")
    top = ", ".join(f"{code} {k}" for code, k in countries.most_common(12))
    out += ["", f"Most frequent partners: {top}."]
    out += ["", *split_stats(records), "", *multi_partner_stats(records)]
    real = read_labels(REAL_DEV) if any(REAL_DEV.glob("*.jsonl")) else []
    if real:
        out += ["", *real_dev_stats(records, real)]
    out += ["", *shortcut_report(records)]
    return "\n".join(out)


def real_dev_stats(records: list[dict], real: list[dict]) -> list[str]:
    """Sectors per article in the corpus and in the real-text set (its labels), and corpus articles that
    tell a real-text event (same topic, dates within 3 days, a shared partner: the set would not be blind)."""
    def shares(rs):
        c = Counter(min(len(r["sectors"]), 4) for r in rs)
        return [f"{c[k] / len(rs):.0%}" for k in range(5)]

    out = ["### Sectors per article, and the real-text set", "",
           "| articles | n | 0 sectors | 1 | 2 | 3 | 4 or more | mean |", "|" + " --- |" * 8]
    for name, rs in [("corpus", records), *[(f"corpus {s}", [r for r in records if r["split"] == s]) for s in SPLITS],
                     ("real-text set (labels of data/real_dev)", real)]:
        if rs:
            mean = sum(len(r["sectors"]) for r in rs) / len(rs)
            out.append(f"| {name} | {len(rs)} | " + " | ".join(shares(rs)) + f" | {mean:.1f} |")
    told = sorted({r["id"] for r in records for x in real if same_event(r, x)})
    blind = len(real) - len(events_told([r for r in records if r["split"] in ("train", "dev")], real))
    out += ["", f"Corpus articles that tell an event of the real-text set: {len(told)}"
                + (f" ({', '.join(told[:8])}{' ...' if len(told) > 8 else ''})" if told else "")
                + f"; real-text articles whose event no train or dev article tells: {blind} of {len(real)} "
                "(BENCHMARKS.md scores them apart as `real_dev_unseen`)."]
    return out


def _words(r: dict) -> int:
    return len(r["text"].split())


def _paragraphs(r: dict) -> int:
    return sum(1 for p in _PARAGRAPH.split(r["text"]) if p.strip())


def split_stats(records: list[dict]) -> list[str]:
    """Articles, events, length and headline cues per split."""
    groups = event_groups(records)
    crossing = crossing_groups(records, groups)
    out = ["### Splits, events, length, headlines", "",
           "Events are groups of articles about the same event (`diploml.data.events`: the `event` key, else "
           "same topic, dates within 3 days and a shared partner); splits keep each event whole. Length counts "
           "the body (`text`) as written, page noise included.", "",
           "| split | articles | events | median words | median paragraphs | over 800 words "
           "| headlines with an activity cue |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in (*SPLITS, "all"):
        part = [r for r in records if name == "all" or r["split"] == name]
        if not part:
            continue
        n = len(part)
        events = len({groups[r["id"]] for r in part})
        long_ = sum(_words(r) > 800 for r in part)
        cue = sum(has_activity_cue(r["title"]) for r in part)
        out.append(f"| {name} | {n} | {events} | {statistics.median(map(_words, part)):.0f} | "
                   f"{statistics.median(map(_paragraphs, part)):.0f} | {long_ / n:.0%} | {cue / n:.0%} |")
    told = Counter(groups.values())
    retold = sum(1 for r in records if told[groups[r["id"]]] > 1)
    out += ["", f"Articles whose event another article also tells: {retold} ({retold / len(records):.0%}); "
                f"event groups crossing splits: {len(crossing)}."]
    return out


def multi_partner_stats(records: list[dict]) -> list[str]:
    multi = [r for r in records if r["topic"] == "multilateral"]
    several = sum(len(r["partners"]) > 1 for r in multi)
    meetings = [r for r in records if r["topic"] == "meeting"]
    most = max(meetings, key=lambda r: (len(r["partners"]), r["id"]), default=None)
    out = ["### Multi-partner articles", "", "| measure | value |", "| --- | --- |"]
    if multi:
        out.append(f"| multilateral articles with more than one partner | {several} of {len(multi)} "
                   f"({several / len(multi):.0%}) |")
    if most is not None:
        out.append(f"| most partners in one meeting article | {len(most['partners'])} (`{most['id']}`) |")
    out.append(f"| articles with more than one partner | {sum(len(r['partners']) > 1 for r in records)} |")
    # lists: the gazetteer's candidates that are not partners (members, hosts, guests, examples) and
    # partner sets of four or more (messages, credentials, consular transit): the guide's list rules
    named_not_partner = [len(candidates(r["title"] + "\n" + r["text"]).keys() - set(r["partners"])) for r in records]
    out.append(f"| articles naming 4 or more countries/organisations that are not partners | "
               f"{sum(n >= 4 for n in named_not_partner)} |")
    out.append(f"| articles with 4 or more partners | {sum(len(r['partners']) >= 4 for r in records)} |")
    return out


def shortcut_inputs(r: dict) -> dict[str, str]:
    """What each shortcut model reads: the title, the first words of the cleaned body, everything."""
    body = preprocess(r["text"])
    return {"title only": normalize(r["title"]),
            f"first {LEAD_WORDS} words of the body": " ".join(body.split()[:LEAD_WORDS]),
            "full text (title + body)": normalize(r["title"]) + "\n\n" + body}


def shortcut_accuracies(records: list[dict]) -> dict[str, float]:
    """Topic accuracy on test of TF-IDF (word 1-2 grams) + logistic regression trained on train, per input."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train = [r for r in records if r["split"] == "train"]
    test = [r for r in records if r["split"] == "test"]
    if not train or not test:
        return {}
    x_train, x_test = [shortcut_inputs(r) for r in train], [shortcut_inputs(r) for r in test]
    out = {}
    for name in x_train[0]:
        model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                              LogisticRegression(max_iter=2000))
        model.fit([x[name] for x in x_train], [r["topic"] for r in train])
        pred = model.predict([x[name] for x in x_test])
        out[name] = sum(p == r["topic"] for p, r in zip(pred, test, strict=True)) / len(test)
    return out


def shortcut_report(records: list[dict]) -> list[str]:
    acc = shortcut_accuracies(records)
    n_train = sum(r["split"] == "train" for r in records)
    n_test = sum(r["split"] == "test" for r in records)
    out = ["### Shortcut report", "",
           f"Topic accuracy on the test split ({n_test} articles) of a logistic regression on TF-IDF word "
           f"1-2 grams trained on the train split ({n_train} articles). A model that finds the topic from the "
           f"headline alone learns a shortcut; goal: **title only <= {TITLE_ONLY_GOAL:.2f}**.", "",
           "| input | topic accuracy |", "| --- | --- |"]
    out += [f"| {name} | {a:.3f} |" for name, a in acc.items()]
    if acc:
        title = acc["title only"]
        out += ["", f"Title-only goal (<= {TITLE_ONLY_GOAL:.2f}): "
                    f"**{'met' if title <= TITLE_ONLY_GOAL else 'not met'}** ({title:.3f})."]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="refresh the statistics of docs/data_card.md")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=f"corpus JSONL with splits (default {CORPUS})")
    parser.add_argument("--print", action="store_true", help="print the statistics, leave the card alone")
    args = parser.parse_args(argv)
    records = read_jsonl(args.corpus)
    if args.print:
        print(stats(records))
        return 0
    card = CARD.read_text("utf-8")
    if BEGIN not in card or END not in card:
        print(f"{CARD}: markers {BEGIN} / {END} missing", file=sys.stderr)
        return 1
    head, rest = card.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    CARD.write_text(f"{head}{BEGIN}\n{stats(records)}\n{END}{tail}", "utf-8")
    print(f"updated {CARD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
