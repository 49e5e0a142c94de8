"""Text -> transformer inputs: overlapping token windows, label targets and batch collation."""

from __future__ import annotations

import logging

import numpy as np
import torch

from diploml.tasks import Task

log = logging.getLogger(__name__)


def special_affixes(tokenizer) -> tuple[list[int], list[int]]:
    """The special tokens a tokenizer puts before and after one sequence (``[CLS]``/``[SEP]``, ``<s>``/``</s>``)."""
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a", add_special_tokens=True)["input_ids"]
    for i in range(len(full) - len(plain) + 1):
        if full[i:i + len(plain)] == plain:
            return full[:i], full[i + len(plain):]
    raise ValueError(f"cannot locate the special tokens of {type(tokenizer).__name__}")


def window_ids(tokenizer, text: str, max_length: int, stride: int) -> list[list[int]]:
    """Overlapping windows of at most ``max_length`` tokens (special tokens included) covering all of ``text``."""
    ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
    prefix, suffix = special_affixes(tokenizer)
    body = max_length - len(prefix) - len(suffix)
    step = body - stride
    windows, start = [], 0
    while True:
        windows.append(prefix + ids[start:start + body] + suffix)
        if start + body >= len(ids):
            return windows
        start += step


def encode_article(tokenizer, text: str, *, max_length: int, stride: int, max_windows: int | None = None,
                   article_id: str | None = None) -> list[list[int]]:
    windows = window_ids(tokenizer, text, max_length, stride)
    if max_windows is not None and len(windows) > max_windows:
        log.warning("article %s: %d windows, keeping the first %d (model.max_windows)",
                    article_id or "?", len(windows), max_windows)
        windows = windows[:max_windows]
    return windows


def label_targets(labels: dict, tasks: list[Task]) -> dict[str, np.ndarray | int]:
    """Gold labels as model inputs ``labels_<task>`` (class index or multi-hot vector)."""
    return {f"labels_{t.name}": t.encode(labels[t.name]) for t in tasks if t.name in labels}


class WindowCollator:
    """Pads the windows of a batch of articles and builds the article/window membership mask."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        windows = [w for it in items for w in it["input_ids"]]
        width = max(len(w) for w in windows)
        input_ids = torch.full((len(windows), width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(windows), width), dtype=torch.long)
        window_mask = torch.zeros((len(items), len(windows)), dtype=torch.float32)
        row = 0
        for a, it in enumerate(items):
            for w in it["input_ids"]:
                input_ids[row, :len(w)] = torch.tensor(w)
                attention[row, :len(w)] = 1
                window_mask[a, row] = 1.0
                row += 1
        batch = {"input_ids": input_ids, "attention_mask": attention, "window_mask": window_mask}
        for key in items[0]:
            if key.startswith("labels_"):
                vals = [it[key] for it in items]
                batch[key] = torch.tensor(np.stack(vals) if isinstance(vals[0], np.ndarray) else vals)
        return batch
