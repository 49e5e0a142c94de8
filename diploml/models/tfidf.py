"""``TfidfClassifier``: word and character n-gram TF-IDF with linear models, the cheap yardstick.

    clf = TfidfClassifier(load_config("configs/tfidf.yaml")).fit(train_articles, dev=dev_articles)
    clf.save("runs/tfidf"); clf = diploml.load("runs/tfidf")
    clf.predict(["...article..."])  # same results as every diploml model

One logistic regression per single-label task (softmax over its labels) and one binary
logistic regression per label of a multi-label task (one-vs-rest); multi-label thresholds are
tuned on dev like the transformer's. Texts go through the same preprocessing as the transformer's.

Saved without pickles: vocabularies as JSON, idf weights and linear coefficients as safetensors
arrays, so loading a run directory never executes code from it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from diploml.models.base import Model
from diploml.rundir import RunDirError, RunInfo, model_card_tail, read_json

log = logging.getLogger(__name__)
ARRAYS = "tfidf.safetensors"
VOCAB = "tfidf_vocabulary.json"
# Vietnamese has many one-letter syllables ("Ý", "ở"); sklearn's default pattern drops them.
TOKEN_PATTERN = r"(?u)\b\w+\b"


class LinearHead:
    """Probabilities of a fitted linear model from plain arrays (no scikit-learn object kept).

    ``coef`` (k, features), ``intercept`` (k,): k = 1 for a binary model (sigmoid of the positive
    class), k = n_classes for a multinomial one (softmax). ``classes``: the task's label indices it covers.
    """

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray):
        # C order whatever the source (sklearn's coef_ is Fortran-ordered): the memory layout of a loaded head,
        # so a fitted model's dense products match the loaded one's bit for bit
        self.coef = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.classes = np.asarray(classes, dtype=np.int64)

    @classmethod
    def from_sklearn(cls, lr: LogisticRegression) -> LinearHead:
        return cls(lr.coef_, lr.intercept_, lr.classes_)

    @classmethod
    def constant(cls, p: float, n_features: int) -> LinearHead:
        """A binary head that always says ``p`` (a label never, or always, seen in training)."""
        p = min(max(p, 1e-6), 1 - 1e-6)
        return cls(np.zeros((1, n_features)), np.array([np.log(p / (1 - p))]), np.array([0, 1]))

    def proba(self, X) -> np.ndarray:
        z = np.asarray(X @ self.coef.T) + self.intercept
        if self.coef.shape[0] == 1:  # binary: probability of the positive class
            return 1.0 / (1.0 + np.exp(-z[:, 0]))
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)


def linear_model(c, random_state: int) -> LogisticRegression:
    """The logistic regression of a model section with ``C``, ``class_weight`` and ``max_iter``."""
    return LogisticRegression(C=c.C, class_weight=c.class_weight, max_iter=c.max_iter, random_state=random_state)


def fit_binary(X, y: np.ndarray, c, random_state: int) -> LinearHead:
    """A binary head; a constant one where ``y`` is never (or always) positive and a regression cannot fit."""
    if len(y) == 0 or y.min() == y.max():
        return LinearHead.constant(float(y[0]) if len(y) else 0.5, X.shape[1])
    return LinearHead.from_sklearn(linear_model(c, random_state).fit(X, y))


def heads_to_arrays(heads: dict[str, LinearHead | list[LinearHead]]) -> dict[str, np.ndarray]:
    """Linear heads as named arrays (``head.<task>[.<label>].coef|intercept|classes``), C-ordered for safetensors
    (which writes the raw buffer: scikit-learn's Fortran-ordered coefficients would be read back transposed)."""
    arrays = {}
    for name, head in heads.items():
        for j, h in enumerate(head if isinstance(head, list) else [head]):
            key = f"head.{name}.{j}" if isinstance(head, list) else f"head.{name}"
            arrays[f"{key}.coef"], arrays[f"{key}.intercept"], arrays[f"{key}.classes"] = h.coef, h.intercept, h.classes
    return {k: np.ascontiguousarray(v) for k, v in arrays.items()}


def heads_from_arrays(arrays: dict[str, np.ndarray], tasks, where) -> dict[str, LinearHead | list[LinearHead]]:
    """The inverse of ``heads_to_arrays`` for ``tasks`` (one head per label of a multi-label task)."""
    def head(key: str) -> LinearHead:
        try:
            return LinearHead(arrays[f"{key}.coef"], arrays[f"{key}.intercept"], arrays[f"{key}.classes"])
        except KeyError:
            raise RunDirError(f"{where}: no arrays for {key}") from None

    return {t.name: ([head(f"head.{t.name}.{j}") for j in range(len(t.labels))] if t.multi_label
                     else head(f"head.{t.name}")) for t in tasks}


def candidate_rows(prepared: list[str]) -> tuple[list[tuple[int, str]], list[str], np.ndarray]:
    """Partner candidates of prepared texts as rows: (article index, code), a context string per row (the
    text around its first mentions, the name itself masked so the model learns the role, not the country)
    and numeric features (log count, relative position of the first mention, mentioned early, organisation)."""
    from diploml.partners import candidates

    rows, contexts, numeric = [], [], []
    for i, text in enumerate(prepared):
        for code, mentions in candidates(text).items():
            parts = [f"{text[max(0, m.start - 80):m.start]} MENTION {text[m.end:m.end + 80]}" for m in mentions[:6]]
            first = mentions[0].start
            rows.append((i, code))
            contexts.append(" | ".join(parts))
            numeric.append([np.log1p(len(mentions)), first / max(1, len(text)), float(first < 400),
                            float(code.startswith("ORG:"))])
    return rows, contexts, np.asarray(numeric, dtype=np.float64).reshape(len(rows), 4)


class TfidfClassifier(Model):
    model_type = "tfidf"
    version_packages = ("diploml", "scikit-learn", "scipy", "numpy")

    def __init__(self, config=None, *, random_state: int | None = None):
        super().__init__(config, random_state=random_state)
        self.vectorizers: list[tuple[str, TfidfVectorizer]] = []
        self.context_vectorizer: TfidfVectorizer | None = None  # partner candidates' contexts
        # task name -> LinearHead (single-label) or list of per-label binary heads (multi-label)
        self.heads: dict[str, LinearHead | list[LinearHead]] = {}

    def _vectorizer_params(self) -> dict[str, dict]:
        c = self.config.model
        common = {"lowercase": True, "sublinear_tf": c.sublinear_tf, "min_df": c.min_df,
                  "max_features": c.max_features, "dtype": np.float32}
        parts = {"word": {"analyzer": "word", "ngram_range": tuple(c.word_ngrams), "token_pattern": TOKEN_PATTERN,
                          **common}}
        if c.char_ngrams:
            # char_wb: n-grams inside word boundaries, robust to tone-mark and spacing variants
            parts["char"] = {"analyzer": "char_wb", "ngram_range": tuple(c.char_ngrams), **common}
        return parts

    # ---- training -------------------------------------------------------------------------
    def _fit(self, train, dev, *, workdir, resume) -> None:
        texts = [self.prepare(a.full_text) for a in train]
        self.vectorizers = [(name, TfidfVectorizer(**params)) for name, params in self._vectorizer_params().items()]
        features = sparse.hstack([v.fit_transform(texts) for _, v in self.vectorizers]).tocsr()
        gold = [a.labels for a in train]
        self.heads = {}
        for task in self.model_tasks:  # derived regions follow from the partners
            if task.mentions:
                self.heads[task.name] = self._fit_mentions(texts, [set(g[task.name]) for g in gold])
                continue
            yt = task.gold_array(gold)
            if task.multi_label:
                self.heads[task.name] = [fit_binary(features, yt[:, j], self.config.model, self.random_state)
                                         for j in range(len(task.labels))]
            else:
                if len(set(yt.tolist())) < 2:
                    raise ValueError(f"task {task.name!r}: training data has a single label")
                self.heads[task.name] = LinearHead.from_sklearn(
                    linear_model(self.config.model, self.random_state).fit(features, yt))

    def _candidate_features(self, prepared: list[str], fit: bool = False):
        rows, contexts, numeric = candidate_rows(prepared)
        if fit:
            params = {**self._vectorizer_params()["word"], "max_features": 50_000}
            self.context_vectorizer = TfidfVectorizer(**params).fit(contexts or ["MENTION"])
        ctx = self.context_vectorizer.transform(contexts) if contexts else sparse.csr_matrix(
            (0, len(self.context_vectorizer.vocabulary_)), dtype=np.float32)
        return rows, sparse.hstack([ctx, sparse.csr_matrix(numeric)]).tocsr()

    def _fit_mentions(self, prepared: list[str], gold: list[set[str]]) -> LinearHead:
        rows, X = self._candidate_features(prepared, fit=True)
        y = np.array([code in gold[i] for i, code in rows], dtype=int)
        if len(y) == 0 or y.min() == y.max():
            return LinearHead.constant(float(y.mean()) if len(y) else 0.5, X.shape[1])
        return LinearHead.from_sklearn(linear_model(self.config.model, self.random_state).fit(X, y))

    # ---- prediction -----------------------------------------------------------------------
    def _check_fitted(self):
        if not self.vectorizers:
            raise RuntimeError("this TfidfClassifier is not fitted yet: call fit() or diploml.load(run_dir)")

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """The TF-IDF features of raw texts (after the shared preprocessing)."""
        self._check_fitted()
        prepared = [self.prepare(t) for t in texts]
        return sparse.hstack([v.transform(prepared) for _, v in self.vectorizers]).tocsr()

    def _predict_proba(self, texts: list[str], *, batch_size: int | None, progress: bool) -> dict:
        self._check_fitted()
        tasks = [t for t in self.tasks if t.name in self.heads]
        if not texts:
            return {t.name: ([] if t.mentions else np.zeros((0, len(t.labels)))) for t in tasks}
        prepared = [self.prepare(t) for t in texts]
        features = sparse.hstack([v.transform(prepared) for _, v in self.vectorizers]).tocsr()
        n = features.shape[0]
        out = {}
        for task in tasks:
            head = self.heads[task.name]
            if task.mentions:
                rows, X = self._candidate_features(prepared)
                p = head.proba(X) if rows else []
                out[task.name] = [{} for _ in texts]
                for (i, code), q in zip(rows, p, strict=True):
                    out[task.name][i][code] = float(q)
            elif task.multi_label:
                out[task.name] = np.stack([h.proba(features) for h in head], axis=1)
            else:
                # labels absent from training have no column: they get probability 0
                p = np.zeros((n, len(task.labels)))
                q = head.proba(features)
                p[:, head.classes] = np.stack([1 - q, q], axis=1) if q.ndim == 1 else q
                out[task.name] = p
        return out

    # ---- persistence ----------------------------------------------------------------------
    def _write_files(self, folder: Path) -> None:
        arrays, vocab = {}, {}
        vectorizers = self.vectorizers + ([("context", self.context_vectorizer)] if self.context_vectorizer else [])
        for name, v in vectorizers:
            arrays[f"idf.{name}"] = v.idf_.astype(np.float64)
            vocab[name] = {term: int(i) for term, i in v.vocabulary_.items()}
        arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()} | heads_to_arrays(self.heads)
        save_file(arrays, str(folder / ARRAYS))
        (folder / VOCAB).write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")

    @classmethod
    def _from_run(cls, run: RunInfo) -> TfidfClassifier:
        path = run.path
        if (path / "tfidf.joblib").exists() and not (path / ARRAYS).exists():
            raise RunDirError(f"{path}: saved by diploml 0.1 as a pickle (tfidf.joblib), which diploml no longer "
                              "loads because a pickle can run code; retrain with configs/tfidf.yaml")
        self = super()._from_run(run)
        try:
            arrays = load_file(str(path / ARRAYS))
        except FileNotFoundError:
            raise RunDirError(f"{path}: incomplete run directory, {ARRAYS} is missing") from None
        except (SafetensorError, OSError) as e:
            raise RunDirError(f"{path / ARRAYS}: unreadable ({e})") from None
        vocab = read_json(path / VOCAB, required=True)
        self.vectorizers = []
        for name, params in self._vectorizer_params().items():
            if name not in vocab or f"idf.{name}" not in arrays:
                raise RunDirError(f"{path}: no {name} vocabulary in {VOCAB}/{ARRAYS}")
            v = TfidfVectorizer(**params, vocabulary=vocab[name])
            v.idf_ = arrays[f"idf.{name}"]
            self.vectorizers.append((name, v))

        if "context" in vocab:
            params = {**self._vectorizer_params()["word"], "max_features": 50_000}
            self.context_vectorizer = TfidfVectorizer(**params, vocabulary=vocab["context"])
            self.context_vectorizer.idf_ = arrays["idf.context"]
        self.heads = heads_from_arrays(arrays, self.model_tasks, path / ARRAYS)
        return self

    def model_card(self) -> str:
        cfg, c = self.config, self.config.model
        sizes = {name: len(v.vocabulary_) for name, v in self.vectorizers}
        lines = [
            f"# diploml model: {cfg.name} (TF-IDF baseline)",
            "",
            "Multi-task classifier of Vietnamese diplomatic news (schema: docs/annotation-guide.md):",
            "TF-IDF features and one logistic regression per single-label task, one per label (one-vs-rest)",
            "for multi-label tasks.",
            "",
            f"- word n-grams {tuple(c.word_ngrams)}, character n-grams {c.char_ngrams and tuple(c.char_ngrams)} "
            f"(char_wb); features: " + ", ".join(f"{k} {v}" for k, v in sizes.items()),
            f"- C={c.C}, class_weight={c.class_weight}, sublinear_tf={c.sublinear_tf}, min_df={c.min_df}",
            f"- preprocessing: normalize={cfg.preprocess.normalize}, clean={cfg.preprocess.clean}, "
            f"word_segmentation={cfg.preprocess.word_segmentation}",
            f"- training data: `{cfg.data.path}`; random_state {self.random_state}",
        ]
        files = f"{ARRAYS} (idf weights and linear coefficients) and {VOCAB}: plain arrays and JSON, no pickle."
        lines += model_card_tail(self.tasks, self.dev_metrics_, files)
        return "\n".join(lines)
