"""What every model type shares: per-task probabilities in, labelled results out.

A model type implements ``_fit`` (training), ``predict_proba`` (texts -> {task: (n, labels)}),
``_write_files``/``_from_run`` (its own files in a run directory) and ``model_card``. Everything
else lives here once: turning inputs into articles, dev calibration (threshold tuning), the
decision rule (arg-max for ``single_label`` tasks, per-label thresholds for ``multi_label``
tasks), partner evidence, saving and loading through ``diploml.rundir``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from diploml.config import RunConfig
from diploml.data import Article, DataError
from diploml.evaluation.metrics import (
    Metrics,
    decide,
    evaluate_probas,
    tune_mentions_threshold,
    tune_thresholds,
)
from diploml.rundir import RunDirError, RunInfo, model_card_tail, package_versions, read_run, save_model_dir
from diploml.tasks import Task
from diploml.text import guard, preprocess
from diploml.text.clean import kept_spans

RULE_PRIOR = "rule_prior.safetensors"


def derive_regions(probas: dict, tasks: Sequence[Task]) -> np.ndarray:
    """Regions from partner candidates: each region's probability is that of its most likely partner (M49)."""
    from diploml.partners.regions import region_of

    regions = next(t for t in tasks if t.name == "regions")
    out = np.zeros((len(probas["partners"]), len(regions.labels)))
    for i, row in enumerate(probas["partners"]):
        for code, p in row.items():
            j = regions.index(region_of(code))
            out[i, j] = max(out[i, j], p)
    return out


def mention_threshold(thresholds: dict, name: str) -> float:
    thr = thresholds.get(name)
    return 0.5 if thr is None else float(np.asarray(thr).reshape(-1)[0])


def decode(probas: dict, tasks: Sequence[Task], thresholds: dict[str, np.ndarray], *,
           regions_from_partners: bool = False) -> list[dict]:
    """Per-article results from per-task probabilities: arrays (n, labels), or for a mentions task a list of
    ``{code: probability}`` per article. With ``regions_from_partners`` a region is chosen exactly when one of
    its partners is, so regions always equal the M49 regions of the predicted partners."""
    from diploml.partners.regions import region_of

    n = len(next(iter(probas.values()))) if probas else 0
    results = [{} for _ in range(n)]
    probabilities = [{} for _ in range(n)]
    thresholds = dict(thresholds)
    if regions_from_partners:
        regions = next(t for t in tasks if t.name == "regions")
        thresholds["regions"] = np.full(len(regions.labels), mention_threshold(thresholds, "partners"))
    for task in tasks:
        if task.name not in probas:
            continue
        if task.mentions:
            thr = mention_threshold(thresholds, task.name)
            for i, row in enumerate(probas[task.name]):
                picked = [{"label": c, "probability": float(p), "region": region_of(c)} for c, p in row.items()
                          if p >= thr]
                results[i][task.name] = sorted(picked, key=lambda d: -d["probability"])
                probabilities[i][task.name] = {c: float(p) for c, p in row.items()}
            continue
        p = np.asarray(probas[task.name])
        chosen = decide(p, task, thresholds.get(task.name))
        for i in range(n):
            row = p[i]
            if task.multi_label:
                picked = [{"label": lab, "probability": float(row[j])}
                          for j, lab in enumerate(task.labels) if chosen[i, j]]
                results[i][task.name] = sorted(picked, key=lambda d: -d["probability"])
            else:
                j = int(chosen[i])
                results[i][task.name] = {"label": task.labels[j], "probability": float(row[j])}
            probabilities[i][task.name] = {lab: float(row[j]) for j, lab in enumerate(task.labels)}
    for r, pr in zip(results, probabilities, strict=True):
        r["probabilities"] = pr
    return results


def labels_from_results(results: list[dict], tasks: Sequence[Task]) -> dict[str, list]:
    """Plain predicted labels per task: a label per article (single) or a list (multi)."""
    out = {}
    for t in tasks:
        if t.multi_label or t.mentions:
            out[t.name] = [[d["label"] for d in r[t.name]] for r in results]
        else:
            out[t.name] = [r[t.name]["label"] for r in results]
    return out


def partner_evidence(text: str, predicted_regions: list[dict], predicted_partners: list[dict] | None = None
                     ) -> list[dict]:
    """Gazetteer mentions in ``text`` (spans into ``text``), each flagged when its region is among the
    predicted regions and, with a partners task, when its code is a predicted partner."""
    from diploml import partners

    regions = {d["label"] for d in predicted_regions}
    codes = None if predicted_partners is None else {d["label"] for d in predicted_partners}
    out = []
    for m in partners.find(text):
        d = m.to_dict()
        d["supports_predicted_region"] = d["region"] in regions
        if codes is not None:
            d["predicted_partner"] = d["code"] in codes
        out.append(d)
    return out


def _within(spans: list[tuple[int, int]] | None, a: int, b: int) -> bool:
    """Whether ``[a, b)`` lies inside one of ``spans`` (None: no restriction)."""
    return spans is None or any(s <= a and b <= e for s, e in spans)


def as_articles(X, y=None) -> list[Article]:
    """Articles from Article objects, or from texts plus label dicts."""
    if isinstance(X, str):
        raise TypeError("expected a list of articles or texts, got one string: wrap it in a list")
    X = list(X)
    if X and isinstance(X[0], Article):
        return X
    y = list(y) if y is not None else [{} for _ in X]
    if len(y) != len(X):
        raise ValueError(f"{len(X)} texts but {len(y)} label dicts")
    return [Article(id=str(i), text=t, labels=dict(lab)) for i, (t, lab) in enumerate(zip(X, y, strict=True))]


def check_texts(texts) -> list[str]:
    """A list of texts; one bare string is refused (it would be read as one text per character)."""
    if isinstance(texts, str):
        raise TypeError("expected a list of texts, got one string: use predict([text])")
    return list(texts)


class Model:
    """The interface of every model type (scikit-learn shaped: ``fit`` returns self)."""

    model_type: str = ""
    #: whether ``calibrate`` tunes multi-label thresholds on dev (the rules' probabilities are fixed)
    tunable: bool = True
    #: whether training articles must carry every task's labels (the rules learn nothing)
    needs_labels: bool = True
    #: packages whose versions go into versions.json
    version_packages: tuple[str, ...] = ("diploml", "numpy", "scikit-learn")

    def __init__(self, config: RunConfig | None = None, *, random_state: int | None = None):
        self.config = (config or RunConfig(model={"type": self.model_type})).model_copy(deep=True)
        if self.config.model.type != self.model_type:
            raise ValueError(f"{type(self).__name__} needs model.type {self.model_type!r}, "
                             f"got {self.config.model.type!r}")
        if random_state is not None:
            self.config.training.seed = random_state
        self.tasks: list[Task] = self.config.tasks.resolve()
        self.thresholds: dict[str, np.ndarray] = {}
        self.dev_metrics_: Metrics | None = None
        self.rule_prior = None  # a RulePrior fitted on dev when evaluation.rule_prior
        self._rules = None

    def prepare(self, text: str) -> str:
        """The text the model reads: the config's preprocessing (normalise, clean, segment)."""
        return preprocess(text, **self.config.preprocess.model_dump())

    def read_spans(self, text: str) -> list[tuple[int, int]] | None:
        """Spans of ``text`` as written that the model reads: the lines that cleaning keeps (None: all of it,
        when the config does not clean or ``text`` is HTML). Evidence outside them (a caption, a related-news
        link, a footer) is not reported: the model never saw it."""
        pp = self.config.preprocess
        return kept_spans(text, normalized=pp.normalize) if pp.clean else None

    @property
    def random_state(self) -> int:
        return self.config.training.seed

    # ---- training -------------------------------------------------------------------------
    def fit(self, X, y=None, *, dev=None, dev_y=None, workdir: str | Path | None = None,
            resume: bool | str = False):
        """Train on ``X`` (Articles, or texts with label dicts ``y``), then calibrate on ``dev``.

        ``workdir``: where a model type keeps checkpoints and logs (a temporary folder if None);
        ``resume``: continue from the newest checkpoint there (model types that checkpoint).
        """
        train = as_articles(X, y)
        dev_articles = as_articles(dev, dev_y) if dev is not None else []
        if not train:
            raise ValueError("no training articles")
        for t in self.tasks:
            missing = [a.id for a in train if t.name not in a.labels]
            if missing and self.needs_labels:
                raise DataError(f"{len(missing)} training article(s) carry no {t.name!r} label (first: id "
                                f"{missing[0]!r}); every task of the config needs gold labels")
        self._fit(train, dev_articles, workdir=workdir, resume=resume)
        self.thresholds = {}
        self.dev_metrics_ = None
        if dev_articles:
            self.calibrate(dev_articles)
        return self

    def _fit(self, train: list[Article], dev: list[Article], *, workdir, resume) -> None:
        raise NotImplementedError

    def calibrate(self, dev: list[Article]):
        """Tune per-label thresholds of multi-label tasks on ``dev`` (when enabled) and record dev metrics."""
        dev = [a for a in as_articles(dev) if a.labels]
        if not dev:
            return self
        gold = [a.labels for a in dev]
        ev = self.config.evaluation
        self.rule_prior = None
        if ev.rule_prior and self.tunable:
            from diploml.models.prior import RulePrior

            texts = [a.full_text for a in dev]
            own = self._predict_proba(texts, batch_size=None, progress=False)
            chosen = [t for t in self.tasks if ev.rule_prior_tasks is None or t.name in ev.rule_prior_tasks]
            self.rule_prior = RulePrior.fit(chosen, gold, own, self._rule_probas(texts))
        probas = self.predict_proba([a.full_text for a in dev])
        if self.tunable and ev.tune_thresholds:
            for t in self.tasks:
                if not all(t.name in g for g in gold) or (t.name == "regions" and self.regions_from_partners):
                    continue  # derived regions take the partners' threshold
                if t.mentions:
                    best = tune_mentions_threshold([set(g[t.name]) for g in gold], probas[t.name], ev.threshold_grid)
                    self.thresholds[t.name] = np.array([best], dtype=np.float32)
                elif t.multi_label:
                    self.thresholds[t.name] = tune_thresholds(t.gold_array(gold), probas[t.name], ev.threshold_grid,
                                                              shrinkage=ev.threshold_shrinkage)
        self.dev_metrics_ = evaluate_probas(self.tasks, gold, probas, self.decision_thresholds())
        return self

    # ---- prediction -----------------------------------------------------------------------
    def predict(self, texts: Iterable[str], *, evidence: bool = True, batch_size: int | None = None,
                progress: bool = False) -> list[dict]:
        """One result per text: each task's label(s) with probabilities, plus partner mentions."""
        texts = check_texts(texts)
        results = self.decode(self.predict_proba(texts, batch_size=batch_size, progress=progress))
        for r, text in zip(results, texts, strict=True):
            if evidence:
                read = self.read_spans(text)
                r["mentions"] = [m for m in partner_evidence(text, r.get("regions", []), r.get("partners"))
                                 if _within(read, m["start"], m["end"])]
                cues = self.sector_cues(text)
                if cues is not None and "sectors" in r:
                    r["sector_cues"] = [{"label": d["label"], "form": text[a:b], "start": a, "end": b}
                                        for d in r["sectors"] for a, b in cues.get(d["label"], [])
                                        if _within(read, a, b)]
            warning = guard(text)
            if warning:
                r["warning"] = warning
        return results

    @property
    def model_tasks(self) -> list[Task]:
        """The tasks with a head (or lexicon) of their own: derived regions have none."""
        return [t for t in self.tasks if not (t.name == "regions" and self.regions_from_partners)]

    @property
    def mentions_task(self) -> Task | None:
        return next((t for t in self.model_tasks if t.mentions), None)

    @property
    def regions_from_partners(self) -> bool:
        """Whether regions follow from the predicted partners (see ``tasks.regions_from``)."""
        return self.config.tasks.derived_regions(self.tasks)

    def decode(self, probas: dict) -> list[dict]:
        """Results from probabilities with this model's thresholds and decision rules."""
        return decode(probas, self.tasks, self.thresholds, regions_from_partners=self.regions_from_partners)

    def predict_proba(self, texts: Iterable[str], *, batch_size: int | None = None,
                      progress: bool = False) -> dict:
        """Per-task probabilities: softmax rows (single-label), independent per-label scores (multi-label),
        ``{code: probability}`` per article (mentions). Derived regions are filled in from the partners."""
        texts = check_texts(texts)
        probas = self._predict_proba(texts, batch_size=batch_size, progress=progress)
        if self.rule_prior is not None:
            probas = self.rule_prior.apply(self.tasks, probas, self._rule_probas(texts))
        if self.regions_from_partners:
            probas["regions"] = derive_regions(probas, self.tasks)
        return probas

    def _predict_proba(self, texts: list[str], *, batch_size: int | None, progress: bool) -> dict:
        raise NotImplementedError

    def _rule_probas(self, texts: list[str]) -> dict:
        """The rule baseline's scores of ``texts`` (the bundled lexicons), the prior of ``rule_prior``."""
        if self._rules is None:
            from diploml.registry import build  # by name: the rules are a model type built on this module

            self._rules = build(RunConfig(model={"type": "rules"}, preprocess=self.config.preprocess,
                                          tasks=self.config.tasks))
        return self._rules._predict_proba(texts, batch_size=None, progress=False)

    def sector_cues(self, text: str) -> dict[str, list[tuple[int, int]]] | None:
        """Spans in ``text`` as written of the sector cues this model reads (None: it reads none); the
        evidence of ``predict``'s ``sector_cues``."""
        return None

    def explain(self, text: str, task: str, label: str) -> dict | None:
        """Evidence for one decision beyond partner mentions (the transformer's best window); None if none."""
        return None

    # ---- persistence ----------------------------------------------------------------------
    def _write_files(self, folder: Path) -> None:
        """Write the model type's own files into ``folder``."""

    def model_card(self) -> str:
        return "\n".join([f"# diploml model: {self.config.name} ({self.model_type})"]
                         + model_card_tail(self.tasks, self.dev_metrics_, ""))

    def decision_thresholds(self) -> dict:
        """The thresholds the decision rule uses (derived regions take the partners' threshold)."""
        thr = dict(self.thresholds)
        if self.regions_from_partners:
            regions = next(t for t in self.tasks if t.name == "regions")
            thr["regions"] = np.full(len(regions.labels), mention_threshold(thr, "partners"))
        return thr

    def _extra_json(self) -> dict:
        return {}

    def save(self, path: str | Path) -> Path:
        """Write a self-describing run directory (see ``diploml.rundir``); the manifest goes last."""
        self._check_fitted()

        def write_files(folder: Path) -> None:
            self._write_files(folder)
            if self.rule_prior is not None:
                from safetensors.numpy import save_file

                save_file({k: np.ascontiguousarray(v) for k, v in self.rule_prior.arrays.items()},
                          str(folder / RULE_PRIOR))

        return save_model_dir(path, self, write_files=write_files, card=self.model_card(),
                              versions=package_versions(self.version_packages), extra_json=self._extra_json())

    def _check_fitted(self) -> None:
        pass

    @classmethod
    def load(cls, path: str | Path, *, backend: str = "torch"):
        """Load a run directory saved by this model type."""
        if backend != "torch":
            raise ValueError(f"backend={backend!r} needs a transformer model; {path} holds a {cls.model_type!r} model")
        return cls._from_run(read_run(path))

    @classmethod
    def _from_run(cls, run: RunInfo):
        self = cls(run.config)
        self.tasks = run.tasks
        self.thresholds = run.thresholds
        self.dev_metrics_ = Metrics.from_dict(run.dev_metrics)
        if (run.path / RULE_PRIOR).is_file():
            from safetensors.numpy import load_file

            from diploml.models.prior import RulePrior

            self.rule_prior = RulePrior(load_file(str(run.path / RULE_PRIOR)))
        elif self.config.evaluation.rule_prior and self.tunable:
            raise RunDirError(f"{run.path}: incomplete run directory, {RULE_PRIOR} is missing")
        return self
