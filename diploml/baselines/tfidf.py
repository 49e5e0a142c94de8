"""``TfidfClassifier``: word and character n-gram TF-IDF with linear models, the cheap yardstick.

    clf = TfidfClassifier(load_config("configs/tfidf.yaml")).fit(train_articles, dev=dev_articles)
    clf.save("runs/tfidf"); clf = diploml.load("runs/tfidf")
    clf.predict(["...article..."])  # same results as every diploml model

One logistic regression per single-label task (softmax over its labels) and one binary
logistic regression per label of a multi-label task (one-vs-rest); multi-label thresholds are
tuned on dev like the transformer's. Texts go through the transformer's preprocessing
(``diploml.features.prepare_text``), so both models read the same text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

import joblib
import numpy as np
import yaml
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from diploml.base import BaseClassifier, model_card_tail, package_versions, save_model_dir
from diploml.config import RunConfig, config_from_dict
from diploml.metrics import evaluate_probas, gold_arrays, tune_thresholds
from diploml.tasks import Task

log = logging.getLogger(__name__)
MODEL_FILE = "tfidf.joblib"
# Vietnamese has many one-letter syllables ("Ý", "ở"); sklearn's default pattern drops them.
TOKEN_PATTERN = r"(?u)\b\w+\b"


def _versions() -> dict[str, str]:
    return package_versions(("diploml", "scikit-learn", "scipy", "numpy", "joblib"))


class _Constant:
    """Stands in for a binary model when training has only one class for a label."""

    def __init__(self, p: float):
        self.p = float(p)

    def proba(self, X) -> np.ndarray:
        return np.full(X.shape[0], self.p)


class TfidfClassifier(BaseClassifier):
    model_type = "tfidf"

    def __init__(self, config: RunConfig | None = None, *, random_state: int | None = None):
        self.config = (config or RunConfig(model={"type": "tfidf"})).model_copy(deep=True)
        self.random_state = self.config.training.seed if random_state is None else random_state
        self.tasks: list[Task] = self.config.tasks.resolve()
        self.vectorizer: FeatureUnion | None = None
        # task name -> LogisticRegression (single-label) or list of per-label models (multi-label)
        self.models: dict[str, object] = {}
        self.thresholds: dict[str, np.ndarray] = {}
        self.dev_metrics_: dict | None = None

    def prepare(self, text: str) -> str:
        from diploml.features import prepare_text

        p = self.config.preprocess
        return prepare_text(text, normalize=p.normalize, clean=p.clean, word_segmentation=p.word_segmentation)

    def _make_vectorizer(self) -> FeatureUnion:
        c = self.config.tfidf
        common = {"lowercase": True, "sublinear_tf": c.sublinear_tf, "min_df": c.min_df,
                  "max_features": c.max_features, "dtype": np.float32}
        parts = [("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(c.word_ngrams),
                                          token_pattern=TOKEN_PATTERN, **common))]
        if c.char_ngrams:
            # char_wb: n-grams inside word boundaries, robust to tone-mark and spacing variants
            parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(c.char_ngrams), **common)))
        return FeatureUnion(parts)

    def _linear(self) -> LogisticRegression:
        c = self.config.tfidf
        return LogisticRegression(C=c.C, class_weight=c.class_weight, max_iter=c.max_iter,
                                  random_state=self.random_state)

    # ---- training -------------------------------------------------------------------------
    def fit(self, X, y=None, *, dev=None, dev_y=None) -> TfidfClassifier:
        """Fit on ``X`` (Articles, or texts with label dicts ``y``); tune thresholds on ``dev``."""
        from diploml.classifier import _as_articles

        train = _as_articles(X, y)
        dev_articles = _as_articles(dev, dev_y) if dev is not None else []
        if not train:
            raise ValueError("no training articles")
        self.vectorizer = self._make_vectorizer()
        features = self.vectorizer.fit_transform([self.prepare(a.full_text) for a in train])
        gold = [a.labels for a in train]
        self.models = {}
        for task in self.tasks:
            if task.name not in gold[0]:
                raise ValueError(f"training articles carry no {task.name!r} labels")
            yt = gold_arrays(gold, task)
            if task.multi_label:
                self.models[task.name] = [self._fit_binary(features, yt[:, j]) for j in range(len(task.labels))]
            else:
                if len(set(yt.tolist())) < 2:
                    raise ValueError(f"task {task.name!r}: training data has a single label")
                self.models[task.name] = self._linear().fit(features, yt)
        self.thresholds = {}
        self.dev_metrics_ = None
        if dev_articles:
            probas = self.predict_proba([a.full_text for a in dev_articles])
            dev_gold = [a.labels for a in dev_articles]
            if self.config.evaluation.tune_thresholds:
                for t in self.tasks:
                    if t.multi_label and t.name in dev_gold[0]:
                        self.thresholds[t.name] = tune_thresholds(gold_arrays(dev_gold, t), probas[t.name],
                                                                  self.config.evaluation.threshold_grid)
            self.dev_metrics_ = evaluate_probas(self.tasks, dev_gold, probas, self.thresholds)
        return self

    def _fit_binary(self, features, y: np.ndarray):
        if y.min() == y.max():  # label never (or always) seen: logistic regression cannot fit
            return _Constant(float(y[0]))
        return self._linear().fit(features, y)

    # ---- prediction -----------------------------------------------------------------------
    def _check_fitted(self):
        if self.vectorizer is None:
            raise RuntimeError("this TfidfClassifier is not fitted yet: call fit() or diploml.load(run_dir)")

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """The TF-IDF features of raw texts (after the shared preprocessing)."""
        self._check_fitted()
        return self.vectorizer.transform([self.prepare(t) for t in texts])

    def predict_proba(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """Per-task probabilities: softmax rows (single-label) or independent per-label probabilities."""
        texts = list(texts)
        if not texts:  # the vectorizer refuses empty input
            self._check_fitted()
            return {t.name: np.zeros((0, len(t.labels))) for t in self.tasks}
        features = self.transform(texts)
        n = features.shape[0]
        out = {}
        for task in self.tasks:
            model = self.models[task.name]
            if task.multi_label:
                out[task.name] = np.stack(
                    [m.proba(features) if isinstance(m, _Constant) else m.predict_proba(features)[:, 1]
                     for m in model], axis=1)
            else:
                # labels absent from training have no column: they get probability 0
                p = np.zeros((n, len(task.labels)))
                p[:, model.classes_] = model.predict_proba(features)
                out[task.name] = p
        return out

    # ---- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write a model directory; the manifest goes last, so a partial save never loads."""
        self._check_fitted()

        def write_files(tmp: Path) -> None:
            joblib.dump({"vectorizer": self.vectorizer, "models": self.models}, tmp / MODEL_FILE, compress=3)

        return save_model_dir(path, self, write_files=write_files, card=model_card(self), versions=_versions())

    @classmethod
    def load(cls, path: str | Path, **kwargs) -> TfidfClassifier:
        """Load a saved directory. ``tfidf.joblib`` is a pickle: load only directories you trust."""
        path = Path(path)
        for required in (MODEL_FILE, "config.yaml", "label_maps.json"):
            if not (path / required).exists():
                raise FileNotFoundError(f"{path}: incomplete model directory, {required} is missing")
        cfg = config_from_dict(yaml.safe_load((path / "config.yaml").read_text("utf-8")), str(path / "config.yaml"))
        self = cls(cfg)
        maps = json.loads((path / "label_maps.json").read_text("utf-8"))
        self.tasks = [Task(m["name"], m["kind"], tuple(m["labels"])) for m in maps.values()]
        saved = _read_json(path / "versions.json").get("scikit-learn")
        current = _versions().get("scikit-learn")
        if saved and saved != current:
            log.warning("%s was saved with scikit-learn %s, this is %s: predictions may differ", path, saved, current)
        state = joblib.load(path / MODEL_FILE)
        self.vectorizer, self.models = state["vectorizer"], state["models"]
        self.thresholds = {k: np.asarray(v, dtype=np.float32) for k, v in _read_json(path / "thresholds.json").items()}
        self.dev_metrics_ = _read_json(path / "metrics_dev.json") or None
        return self


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}


def model_card(clf: TfidfClassifier) -> str:
    cfg, c = clf.config, clf.config.tfidf
    sizes = {name: len(v.vocabulary_) for name, v in clf.vectorizer.transformer_list}
    lines = [
        f"# diploml model: {cfg.name} (TF-IDF baseline)",
        "",
        "Multi-task classifier of Vietnamese diplomatic news (schema: shared annotation guide):",
        "TF-IDF features and one logistic regression per single-label task, one per label (one-vs-rest)",
        "for multi-label tasks.",
        "",
        f"- word n-grams {tuple(c.word_ngrams)}, character n-grams {c.char_ngrams and tuple(c.char_ngrams)} "
        f"(char_wb); features: " + ", ".join(f"{k} {v}" for k, v in sizes.items()),
        f"- C={c.C}, class_weight={c.class_weight}, sublinear_tf={c.sublinear_tf}, min_df={c.min_df}",
        f"- preprocessing: normalize={cfg.preprocess.normalize}, clean={cfg.preprocess.clean}, "
        f"word_segmentation={cfg.preprocess.word_segmentation}",
        f"- training data: `{cfg.data.path}`; random_state {clf.random_state}",
    ]
    files = f"{MODEL_FILE} (scikit-learn objects, a pickle: load only files you trust)."
    lines += model_card_tail(clf.tasks, clf.dev_metrics_, files)
    return "\n".join(lines)
