"""The transformer's builders: the only place where its config section becomes objects (plain arguments after)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from diploml.config import TasksConfig, TransformerModel
from diploml.encoders import resolve_encoder
from diploml.models.transformer.module import MultiTaskClassifier, layer_stack
from diploml.tasks import Task

log = logging.getLogger(__name__)


def _drop_pooler(encoder):
    # The heads pool themselves; an unused pooler only wastes memory and upsets DDP.
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None
    return encoder


def build_encoder(cfg: TransformerModel, *, seed: int = 42):
    """(encoder, tokenizer) from a model section: pretrained weights, or random ones if ``random_init``."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    source = resolve_encoder(cfg.name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if cfg.random_init:
        torch.manual_seed(seed)
        enc_config = AutoConfig.from_pretrained(source)
        encoder = AutoModel.from_config(enc_config)
    else:
        encoder = AutoModel.from_pretrained(source)
    limit = getattr(encoder.config, "max_position_embeddings", None)
    if limit is not None:
        # RoBERTa-style models reserve pad_token_id + 1 positions (PhoBERT: 258 -> 256 tokens).
        usable = limit - (encoder.config.pad_token_id + 1 if encoder.config.model_type in
                          ("roberta", "xlm-roberta", "camembert") else 0)
        if cfg.max_length > usable:
            raise ValueError(f"model.max_length={cfg.max_length} exceeds what {cfg.name_or_path} accepts ({usable})")
    return _drop_pooler(encoder), tokenizer


def trim_encoder_vocab(encoder, tokenizer, texts: list[str]):
    from diploml.encoders.trim import trim_vocabulary

    before = encoder.get_input_embeddings().weight.shape[0]
    encoder, tokenizer = trim_vocabulary(encoder, tokenizer, texts)
    log.info("trimmed vocabulary: %d -> %d pieces", before, encoder.get_input_embeddings().weight.shape[0])
    return encoder, tokenizer


def freeze(encoder, *, embeddings: bool, layers: int) -> None:
    """Freeze the word embeddings and/or the lower ``layers`` transformer layers."""
    if embeddings:
        encoder.get_input_embeddings().weight.requires_grad_(False)
    if layers:
        stack = layer_stack(encoder)
        if stack is None:
            raise ValueError(f"model.freeze_layers: cannot find the layer stack of {type(encoder).__name__}")
        if layers > len(stack):
            raise ValueError(f"model.freeze_layers={layers} but the encoder has {len(stack)} layers")
        # Below frozen layers everything is frozen too: a trainable position embedding or embedding
        # LayerNorm would make backward run through the whole (frozen) stack.
        emb = getattr(encoder, "embeddings", None)
        if emb is not None:
            emb.requires_grad_(False)
        for layer in stack[:layers]:
            layer.requires_grad_(False)


def positive_weights(tasks: list[Task], targets: list[dict], clip: float = 10.0) -> dict[str, torch.Tensor]:
    """BCE positive weight per label, (negatives / positives) clipped to ``[1, clip]``."""
    out = {}
    for t in tasks:
        key = f"labels_{t.name}"
        if not t.multi_label or not targets or key not in targets[0]:
            continue
        y = np.stack([x[key] for x in targets])
        pos = y.sum(0)
        w = np.where(pos > 0, (len(y) - pos) / np.maximum(pos, 1), 1.0)
        out[t.name] = torch.tensor(np.clip(w, 1.0, clip), dtype=torch.float32)
    return out


def build_model(encoder, tasks: list[Task], model_cfg: TransformerModel, tasks_cfg: TasksConfig,
                pos_weights: dict[str, torch.Tensor] | None = None) -> MultiTaskClassifier:
    freeze(encoder, embeddings=model_cfg.freeze_embeddings, layers=model_cfg.freeze_layers)
    return MultiTaskClassifier(
        encoder,
        [(t.name, t.kind, len(t.labels)) for t in tasks],
        pooling=model_cfg.pooling,
        window_pooling=model_cfg.window_pooling,
        dropout=model_cfg.dropout,
        loss_weights=tasks_cfg.loss_weights,
        pos_weights=pos_weights,
        cue_task=model_cfg.cue_task if any(t.name == model_cfg.cue_task for t in tasks) else None,
    )


def encoder_from_saved(directory: Path):
    """Architecture (random weights) and tokenizer of a saved run; weights come from its state dict."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    enc_config = AutoConfig.from_pretrained(directory / "encoder")
    encoder = AutoModel.from_config(enc_config)
    tokenizer = AutoTokenizer.from_pretrained(directory / "tokenizer")
    return _drop_pooler(encoder), tokenizer
