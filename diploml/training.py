"""Training on the Hugging Face Trainer: checkpoints, resume, mixed precision, torchrun/accelerate launch."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from transformers import EarlyStoppingCallback, Trainer, TrainerCallback, TrainingArguments

from diploml.config import TrainingConfig
from diploml.features import WindowCollator
from diploml.metrics import evaluate_probas
from diploml.modeling import MultiTaskClassifier
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
        for t, lg, y in zip(tasks, logits, labels):
            p = MultiTaskClassifier.probabilities(torch.as_tensor(lg, dtype=torch.float32), t.kind).numpy()
            probas[t.name] = p
            for i in range(len(y)):
                gold[i][t.name] = ([t.labels[j] for j in np.flatnonzero(y[i])] if t.multi_label
                                   else t.labels[int(y[i])])
        m = evaluate_probas(tasks, gold, probas)
        out = {"macro_f1": m["macro_f1"]}
        for t in tasks:
            out[f"{t.name}_macro_f1"] = m[t.name]["macro_f1"]
            out[f"{t.name}_micro_f1"] = m[t.name]["micro_f1"]
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
        use_cpu=cfg.use_cpu,
        ddp_find_unused_parameters=False,
        enable_jit_checkpoint=True,
        **_precision_flags(cfg.precision),
    )
    callbacks = [JsonlLogCallback(output_dir / "train_log.jsonl")]
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
    if resume is True:
        resume = _last_checkpoint(ckpt_dir)
        if resume is None:
            log.warning("--resume: no checkpoint in %s, starting from scratch", ckpt_dir)
    result = trainer.train(resume_from_checkpoint=resume or None)
    return {**result.metrics, "global_step": result.global_step,
            "best_checkpoint": trainer.state.best_model_checkpoint}


def _last_checkpoint(ckpt_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
