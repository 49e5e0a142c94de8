"""Training on the Hugging Face Trainer: checkpoints, resume, mixed precision, torchrun/accelerate launch.

Interruption: the first SIGTERM or SIGINT (Ctrl-C) asks training to stop at the end of the current
step; a checkpoint is written there and ``TrainingInterrupted`` is raised, so no run directory is
written from a half-trained model. ``resume=True`` continues from the newest complete checkpoint
(model, optimizer, scheduler, RNG and data position), reaching the same weights as an uninterrupted run.
A second SIGINT aborts at once.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from transformers import EarlyStoppingCallback, Trainer, TrainerCallback, TrainingArguments

from diploml.config import TrainingConfig
from diploml.evaluation.metrics import evaluate_probas
from diploml.models.transformer.inputs import WindowCollator
from diploml.models.transformer.module import MultiTaskClassifier
from diploml.tasks import Task

log = logging.getLogger(__name__)


class ArticleDataset(Dataset):
    """Pre-tokenised articles: ``{"input_ids": [window, ...], "labels_<task>": ...}``."""

    def __init__(self, items: list[dict]):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class JsonlLogCallback(TrainerCallback):
    """Appends every Trainer log entry (loss, learning rate, eval metrics) to a JSONL file."""

    def __init__(self, path: Path):
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": state.global_step, "epoch": state.epoch, **logs}) + "\n")


class ProgressBar(TrainerCallback):
    """One progress bar for the whole run, with the latest loss and dev score in its postfix.

    Replaces the Trainer's own output (a bar plus a raw dict per log entry); every entry still goes to
    train_log.jsonl. Redraws at most every 2 s on a terminal and every 30 s in a log file.
    """

    def __init__(self):
        self.bar = None
        self.postfix: dict[str, str] = {}

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            import sys

            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, unit="step", desc="train",
                            mininterval=2.0 if sys.stderr.isatty() else 30.0, dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is None or not logs:
            return
        if "loss" in logs:
            self.postfix["loss"] = f"{float(logs['loss']):.4f}"
        if "eval_macro_f1" in logs:
            self.postfix["dev macro F1 (thresholds 0.5)"] = f"{float(logs['eval_macro_f1']):.3f}"
        self.bar.set_postfix(self.postfix, refresh=False)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGTERM/SIGINT after saving a checkpoint; continue with ``--resume``."""


class GracefulStop(TrainerCallback):
    """Turns SIGTERM/SIGINT into "save a checkpoint at the end of this step, then stop"."""

    def __init__(self):
        self.signum: int | None = None
        self._previous = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum, frame):
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # second Ctrl-C: the user does not want to wait for the checkpoint
        self.signum = signum
        log.warning("%s received: stopping after this step and saving a checkpoint (Ctrl-C again to abort)",
                    signal.Signals(signum).name)

    def _stop_everywhere(self) -> bool:
        # Under DDP every rank must stop at the same step, or the others hang in the next all-reduce.
        requested = self.signum is not None
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            # NCCL reduces only CUDA tensors; gloo (CPU) only CPU ones
            device = "cuda" if torch.distributed.get_backend() == "nccl" else "cpu"
            flag = torch.tensor([1.0 if requested else 0.0], device=device)
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
            requested = bool(flag.item())
            if requested and self.signum is None:
                self.signum = signal.SIGTERM
        return requested

    def on_step_end(self, args, state, control, **kwargs):
        if self._stop_everywhere():
            control.should_save = True
            control.should_training_stop = True


class _Trainer(Trainer):
    def __init__(self, *args, head_learning_rate: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.head_learning_rate = head_learning_rate

    def create_optimizer(self, *args, **kwargs):
        if self.optimizer is not None or self.head_learning_rate is None:
            return super().create_optimizer(*args, **kwargs)
        base, wd = self.args.learning_rate, self.args.weight_decay
        groups = {"decay": [], "no_decay": [], "heads": []}
        for name, p in self.model.named_parameters():
            if not p.requires_grad:
                continue
            if name.startswith("heads."):
                groups["heads"].append(p)
            elif p.ndim < 2 or "LayerNorm" in name or "layer_norm" in name:
                groups["no_decay"].append(p)
            else:
                groups["decay"].append(p)
        self.optimizer = torch.optim.AdamW([
            {"params": groups["decay"], "lr": base, "weight_decay": wd},
            {"params": groups["no_decay"], "lr": base, "weight_decay": 0.0},
            {"params": groups["heads"], "lr": self.head_learning_rate, "weight_decay": wd},
        ], lr=base)
        return self.optimizer


def _precision_flags(precision: str) -> dict:
    if precision == "auto":
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return {"bf16": True}
        return {}
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def metrics_fn(tasks: list[Task]):
    """``compute_metrics`` for the Trainer: task-averaged macro F1 and per-task macro/micro F1."""

    def compute(pred) -> dict:
        logits = pred.predictions if isinstance(pred.predictions, tuple) else (pred.predictions,)
        labels = pred.label_ids if isinstance(pred.label_ids, tuple) else (pred.label_ids,)
        probas, gold = {}, [{} for _ in range(len(labels[0]))]
        candidate_f1 = {}
        for t, lg, y in zip(tasks, logits, labels, strict=False):
            p = MultiTaskClassifier.probabilities(torch.as_tensor(lg, dtype=torch.float32), t.kind).numpy()
            if t.mentions:  # per candidate, at 0.5: a proxy for the article-level partner F1
                from sklearn.metrics import f1_score

                candidate_f1[t.name] = float(f1_score(np.asarray(y) > 0.5, p >= 0.5, zero_division=0))
                continue
            probas[t.name] = p
            for i in range(len(y)):
                gold[i][t.name] = ([t.labels[j] for j in np.flatnonzero(y[i])] if t.multi_label
                                   else t.labels[int(y[i])])
        m = evaluate_probas([t for t in tasks if not t.mentions], gold, probas)
        scores = [v["macro_f1"] for v in m.tasks.values()] + list(candidate_f1.values())
        out = {"macro_f1": float(np.mean(scores))}
        for t in tasks:
            if t.mentions:
                out[f"{t.name}_candidate_f1"] = candidate_f1[t.name]
            else:
                out[f"{t.name}_macro_f1"] = m.tasks[t.name]["macro_f1"]
                out[f"{t.name}_micro_f1"] = m.tasks[t.name]["micro_f1"]
        return out

    return compute


def train(model: MultiTaskClassifier, tokenizer, tasks: list[Task], train_items: list[dict],
          dev_items: list[dict] | None, cfg: TrainingConfig, output_dir: Path, *,
          resume: bool | str = False) -> dict:
    """Fit ``model`` in place; checkpoints go to ``output_dir/checkpoints``. Returns the train metrics."""
    ckpt_dir = output_dir / "checkpoints"
    has_dev = bool(dev_items) and cfg.eval_strategy != "no"
    strategy = cfg.eval_strategy if has_dev else "no"
    save_strategy = strategy if strategy != "no" else "epoch"
    args = TrainingArguments(
        output_dir=str(ckpt_dir),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,
        max_grad_norm=cfg.max_grad_norm,
        seed=cfg.seed,
        data_seed=cfg.seed,
        eval_strategy=strategy,
        eval_steps=cfg.eval_steps,
        save_strategy=save_strategy,
        save_steps=cfg.eval_steps if save_strategy == "steps" else 500,
        save_total_limit=cfg.save_total_limit,
        load_best_model_at_end=has_dev,
        metric_for_best_model=cfg.metric_for_best_model if has_dev else None,
        greater_is_better=True,
        logging_steps=cfg.logging_steps,
        report_to="none",
        remove_unused_columns=False,
        label_names=[f"labels_{t.name}" for t in tasks],
        dataloader_num_workers=cfg.dataloader_num_workers,
        dataloader_pin_memory=torch.cuda.is_available(),
        # accelerate sets up CPU DDP (gloo) only when asked to use the CPU; torchrun on a GPU-less box needs it,
        # and so does bf16 there (the Trainer refuses bf16 without a GPU unless told to use the CPU)
        use_cpu=cfg.use_cpu or (not torch.cuda.is_available() and (_world_size() > 1 or cfg.precision == "bf16")),
        ddp_find_unused_parameters=False,
        **_precision_flags(cfg.precision),
    )
    stop = GracefulStop()
    callbacks = [JsonlLogCallback(output_dir / "train_log.jsonl"), stop]
    if has_dev and cfg.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
    trainer = _Trainer(
        model=model,
        args=args,
        data_collator=WindowCollator(tokenizer.pad_token_id),
        train_dataset=ArticleDataset(train_items),
        eval_dataset=ArticleDataset(dev_items) if has_dev else None,
        compute_metrics=metrics_fn(tasks) if has_dev else None,
        callbacks=callbacks,
        head_learning_rate=cfg.head_learning_rate,
    )
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(ProgressBar())
    if resume is True:
        resume = _last_checkpoint(ckpt_dir)
        if resume is None:
            log.warning("--resume: no checkpoint in %s, starting from scratch", ckpt_dir)
    stop.install()
    try:
        result = trainer.train(resume_from_checkpoint=resume or None)
    finally:
        stop.restore()
    if stop.signum is not None:
        last = _last_checkpoint(ckpt_dir)
        raise TrainingInterrupted(f"training stopped by {signal.Signals(stop.signum).name} at step "
                                  f"{trainer.state.global_step}; checkpoint {last}; continue with --resume")
    return {**result.metrics, "global_step": result.global_step,
            "best_checkpoint": trainer.state.best_model_checkpoint}


def _world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def _last_checkpoint(ckpt_dir: Path) -> str | None:
    """The newest complete checkpoint: the Trainer writes trainer_state.json last, so a torn one lacks it."""
    if not ckpt_dir.is_dir():
        return None
    found = []
    for d in ckpt_dir.glob("checkpoint-*"):
        step = d.name.split("-", 1)[1]
        if not step.isdigit():
            continue
        if (d / "trainer_state.json").is_file() and not (d / "checkpoint-is-incomplete.txt").exists():
            found.append((int(step), d))
        else:
            log.warning("skipping incomplete checkpoint %s (interrupted while saving)", d)
    return str(max(found)[1]) if found else None
