"""Train a run directory from a config: what ``diploml train`` and ``scripts/train.py`` run.

    run_dir = train_run(load_config("configs/tiny.yaml"))

Under torchrun/accelerate every rank trains; only rank 0 writes the run directory, the others wait.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from diploml.config import RunConfig
from diploml.data import load_splits
from diploml.registry import build
from diploml.rundir import MANIFEST

log = logging.getLogger(__name__)


class RunDirInUse(ValueError):
    """The output directory holds another run (or other files) and neither resume nor overwrite was asked."""


def prepare_run_dir(run_dir: Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse to train into a used directory unless ``resume`` (keep its checkpoints) or ``overwrite`` (clear it)."""
    if not run_dir.exists() or not any(run_dir.iterdir()):
        return
    if resume:
        return
    if not overwrite:
        what = "another run" if (run_dir / MANIFEST).exists() else "files"
        raise RunDirInUse(f"{run_dir} already holds {what}: pass --overwrite to replace it, --resume to continue "
                          "its training, or choose another --output-dir")
    log.warning("%s: removing the previous contents (--overwrite)", run_dir)
    for item in run_dir.iterdir():
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()


def train_run(cfg: RunConfig, output_dir: str | Path | None = None, *, resume: bool = False,
              overwrite: bool = False) -> Path:
    """Train from ``cfg``, calibrate on dev and write the run directory; returns its path."""
    run_dir = Path(output_dir or cfg.output_dir())
    main = _rank() == 0
    if main:
        prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
    model = build(cfg)
    splits = load_splits(cfg.data, model.tasks)
    log.info("articles: train %d, dev %d, test %d", *(len(splits[k]) for k in ("train", "dev", "test")))
    model.fit(splits["train"], dev=splits["dev"] or None, workdir=run_dir, resume=resume)
    if main:
        model.save(run_dir)
        if not cfg.training.keep_checkpoints:
            shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
        if model.dev_metrics_ is not None:
            tuned = " (after tuning the multi-label thresholds on dev)" if model.thresholds else ""
            log.info("dev macro F1 (mean over tasks)%s: %.3f", tuned, model.dev_metrics_.macro_f1)
    _barrier()  # other ranks return only once the run directory is complete
    return run_dir


def _rank() -> int:
    # RANK is set by torchrun and accelerate before the process group exists
    return int(os.environ.get("RANK", "0"))


def _barrier() -> None:
    dist = sys.modules.get("torch.distributed")  # no torch import for the TF-IDF and rule baselines
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.barrier()
