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


MAX_POSITIONS = 64  # token positions kept per partner candidate (its first mentions)


def _windows_of(ids: list[int], prefix: list[int], suffix: list[int], max_length: int, stride: int):
    body = max_length - len(prefix) - len(suffix)
    step = body - stride
    windows, starts, start = [], [], 0
    while True:
        windows.append(prefix + ids[start:start + body] + suffix)
        starts.append(start)
        if start + body >= len(ids):
            return windows, starts, body
        start += step


def window_ids(tokenizer, text: str, max_length: int, stride: int) -> list[list[int]]:
    """Overlapping windows of at most ``max_length`` tokens (special tokens included) covering all of ``text``."""
    ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
    prefix, suffix = special_affixes(tokenizer)
    return _windows_of(ids, prefix, suffix, max_length, stride)[0]


def encode_article(tokenizer, text: str, *, max_length: int, stride: int, max_windows: int | None = None,
                   article_id: str | None = None, spans: dict[str, list[tuple[int, int]]] | None = None,
                   cue_spans: dict[str, list[tuple[int, int]]] | None = None) -> dict:
    """Token windows of ``text`` and, for each partner candidate in ``spans`` (code -> character spans in
    ``text``), the (window, position) pairs of its tokens in every window that holds them; the same for
    the cue phrases of a cue-scored task in ``cue_spans`` (label -> character spans).

    Returns ``{"input_ids": windows, "candidates": [code, ...], "positions": [[(w, pos), ...], ...],
    "cue_labels": [label, ...], "cue_positions": [...]}`` (candidates and cues only when asked for).
    """
    with_offsets = spans is not None or cue_spans is not None
    enc = tokenizer(text, add_special_tokens=False, verbose=False, return_offsets_mapping=with_offsets)
    prefix, suffix = special_affixes(tokenizer)
    windows, starts, body = _windows_of(enc["input_ids"], prefix, suffix, max_length, stride)
    if max_windows is not None and len(windows) > max_windows:
        log.warning("article %s: %d windows, keeping the first %d (model.max_windows)",
                    article_id or "?", len(windows), max_windows)
        windows, starts = windows[:max_windows], starts[:max_windows]
    out = {"input_ids": windows}

    def positions(char_spans):
        tokens = sorted({i for a, b in char_spans for i, (s, e) in enumerate(enc["offset_mapping"]) if s < b and e > a})
        pos = [(w, len(prefix) + i - st) for i in tokens for w, st in enumerate(starts) if st <= i < st + body]
        return pos[:MAX_POSITIONS]

    if spans is not None:
        out["candidates"] = list(spans)
        out["positions"] = [positions(s) for s in spans.values()]
    if cue_spans is not None:
        found = {label: positions(s) for label, s in cue_spans.items()}
        found = {label: pos for label, pos in found.items() if pos}  # cues cut off by max_windows are not read
        out["cue_labels"], out["cue_positions"] = list(found), list(found.values())
    return out


def keep_windows(enc: dict, n: int | None) -> dict:
    """``enc`` (of ``encode_article``) cut to its first ``n`` windows: partner candidates keep only their
    positions in those windows; a cue label with none left is dropped (it would be scored from nothing)."""
    out = {**enc, "input_ids": enc["input_ids"][:n]}
    kept = len(out["input_ids"])
    if "positions" in enc:
        out["positions"] = [[(w, p) for w, p in pos if w < kept] for pos in enc["positions"]]
    if "cue_positions" in enc:
        cues = [([(w, p) for w, p in pos if w < kept], j) for pos, j in zip(enc["cue_positions"], enc["cue_labels"],
                                                                              strict=True)]
        out["cue_positions"] = [pos for pos, _ in cues if pos]
        out["cue_labels"] = [j for pos, j in cues if pos]
    return out


def label_targets(labels: dict, tasks: list[Task], candidates: list[str] | None = None) -> dict:
    """Gold labels as model inputs ``labels_<task>``: class index, multi-hot vector, or for a mentions task
    one 0/1 per candidate (1 when the candidate's code is among the gold partners)."""
    out = {}
    for t in tasks:
        if t.name not in labels:
            continue
        if t.mentions:
            out[f"labels_{t.name}"] = [float(c in set(labels[t.name])) for c in candidates or []]
        else:
            out[f"labels_{t.name}"] = t.encode(labels[t.name])
    return out


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
        if "frozen_states" in items[0]:  # cached output of the frozen lower layers (model.cache_frozen)
            states = [s for it in items for s in it["frozen_states"]]
            batch["frozen_states"] = states[0].new_zeros((len(states), width, states[0].shape[-1]))
            for row, s in enumerate(states):
                batch["frozen_states"][row, :len(s)] = s
        if "positions" in items[0]:
            batch.update(self._mentions(items, width))
        if "cue_positions" in items[0]:
            batch.update(self._cues(items, width))
        for key in items[0]:
            if key.startswith("labels_") and key not in batch:
                vals = [it[key] for it in items]
                batch[key] = torch.tensor(np.stack(vals) if isinstance(vals[0], np.ndarray) else vals)
        return batch

    @staticmethod
    def _flat_positions(items: list[dict], groups: list[tuple[int, list]], width: int):
        """Flat indices into the batch's (windows x width) token grid, and their mask, per candidate."""
        k = max([len(pos) for _, pos in groups] + [1])
        index = torch.zeros((len(groups), k), dtype=torch.long)
        mask = torch.zeros((len(groups), k), dtype=torch.float32)
        first_window = np.cumsum([0] + [len(it["input_ids"]) for it in items])
        for c, (a, pos) in enumerate(groups):
            for j, (w, p) in enumerate(pos):
                index[c, j] = (first_window[a] + w) * width + p
                mask[c, j] = 1.0
        return index, mask

    @classmethod
    def _cues(cls, items: list[dict], width: int) -> dict[str, torch.Tensor]:
        """Cue candidates of the batch (a label whose cue occurs in an article): token indices, mask,
        article and label index of each (``cue_labels`` hold label indices here)."""
        cands = [(a, pos) for a, it in enumerate(items) for pos in it["cue_positions"]]
        index, mask = cls._flat_positions(items, cands, width)
        return {"cue_index": index, "cue_mask": mask,
                "cue_article": torch.tensor([a for a, _ in cands], dtype=torch.long),
                "cue_label": torch.tensor([j for it in items for j in it["cue_labels"]], dtype=torch.long)}

    @classmethod
    def _mentions(cls, items: list[dict], width: int) -> dict[str, torch.Tensor]:
        """Partner candidates of the batch: flat token indices into (windows x width), their mask, the
        article of each candidate and, when given, its target (``labels_partners``)."""
        cands = [(a, pos) for a, it in enumerate(items) for pos in it["positions"]]
        index, mask = cls._flat_positions(items, cands, width)
        out = {"mention_index": index, "mention_mask": mask,
               "candidate_article": torch.tensor([a for a, _ in cands], dtype=torch.long)}
        if "labels_partners" in items[0]:
            out["labels_partners"] = torch.tensor([y for it in items for y in it["labels_partners"]],
                                                  dtype=torch.float32)
        return out
