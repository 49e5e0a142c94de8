"""The jobs behind the scripts: train a run directory, evaluate a model on a split or file."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from diploml.config import RunConfig
from diploml.data import Article, DataError, load_articles, split_articles

log = logging.getLogger(__name__)


def load_splits(cfg: RunConfig, tasks) -> dict[str, list[Article]]:
    """The config's data, split into train/dev/test (the records' own splits, else deterministic)."""
    d = cfg.data
    splits = split_articles(load_articles(d.path, tasks), dev_fraction=d.dev_fraction,
                            test_fraction=d.test_fraction, seed=d.split_seed)
    named = {"train": splits.get(d.train_split, []), "dev": splits.get(d.dev_split, []),
             "test": splits.get(d.test_split, [])}
    if d.limit:
        named = {k: v[:d.limit] for k, v in named.items()}
    if not named["train"]:
        raise DataError(f"data.path {d.path}: no articles in split {d.train_split!r}")
    return named


def build_classifier(cfg: RunConfig):
    """An unfitted model of the kind ``model.type`` names."""
    if cfg.model.type == "tfidf":
        from diploml.baselines.tfidf import TfidfClassifier

        return TfidfClassifier(cfg)
    if cfg.model.type == "rules":
        from diploml.baselines.rules import RuleClassifier

        return RuleClassifier(preprocess=cfg.preprocess.model_dump())
    from diploml.classifier import DiploClassifier

    return DiploClassifier(cfg)


def train_run(cfg: RunConfig, output_dir: str | Path | None = None, resume: bool = False) -> Path:
    """Train from ``cfg`` and write the run directory; returns its path.

    Under torchrun/accelerate every rank trains; only rank 0 writes the run directory, the others wait.
    """
    run_dir = Path(output_dir or cfg.output_dir())
    main = _rank() == 0
    if main and run_dir.exists() and any(run_dir.iterdir()) and not resume:
        log.warning("%s exists: its files will be replaced", run_dir)
        (run_dir / "train_log.jsonl").unlink(missing_ok=True)
    clf = build_classifier(cfg)
    splits = load_splits(cfg, clf.tasks)
    log.info("articles: train %d, dev %d, test %d", *(len(splits[k]) for k in ("train", "dev", "test")))
    if cfg.model.type == "transformer":
        clf.fit(splits["train"], dev=splits["dev"] or None, output_dir=run_dir, resume=resume)
    else:
        clf.fit(splits["train"], dev=splits["dev"] or None)
    if main:
        clf.save(run_dir)
        if not cfg.training.keep_checkpoints:
            shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
        if getattr(clf, "dev_metrics_", None):
            log.info("dev macro F1 (task mean): %.3f", clf.dev_metrics_["macro_f1"])
    _barrier()  # other ranks return only once the run directory is complete
    return run_dir


def _rank() -> int:
    # RANK is set by torchrun and accelerate before the process group exists
    return int(os.environ.get("RANK", "0"))


def _barrier() -> None:
    import sys

    dist = sys.modules.get("torch.distributed")  # no torch import for the TF-IDF and rule baselines
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.barrier()


def resolve_eval_data(spec: str, model, tasks) -> tuple[str, list[Article]]:
    """``--data``: a split name of the model's training data (train/dev/test), ``seeds``, or a path."""
    cfg = getattr(model, "config", None)
    if spec in ("train", "dev", "test"):
        if cfg is None:
            cfg = RunConfig()
        return spec, load_splits(cfg, tasks)[spec]
    if spec == "seeds":
        folder = (cfg.evaluation.seeds_dir if cfg else None) or "seeds"
        return "seeds", load_articles(folder, tasks)
    if not Path(spec).exists() and not spec.startswith(("bundled:", "hf:")):
        raise DataError(f"--data {spec!r}: not a split name (train, dev, test, seeds) nor an existing path")
    return Path(spec).stem or spec, load_articles(spec, tasks)


def evaluate_model(model, articles: list[Article], *, batch_size: int = 16) -> tuple[dict, dict]:
    """Metrics of ``model`` on labelled ``articles``; also returns the probabilities."""
    from diploml.metrics import evaluate_probas

    labelled = [a for a in articles if a.labels]
    if not labelled:
        raise DataError("no labelled articles to evaluate")
    kwargs = {"batch_size": batch_size} if model.model_type == "transformer" else {}
    probas = model.predict_proba([a.full_text for a in labelled], **kwargs)
    metrics = evaluate_probas(model.tasks, [a.labels for a in labelled], probas, model.thresholds)
    return metrics, probas
