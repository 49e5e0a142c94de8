"""The multi-task model: a shared encoder, pooling over tokens and windows, one linear head per task.

Pure ``nn.Module``: tensors in, logits (and a loss when labels are given) out; no file I/O.
Long articles arrive as several windows; ``window_mask`` (articles x windows) says which
window belongs to which article, and window vectors are pooled back into one vector per article.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MultiTaskClassifier(nn.Module):
    def __init__(
        self,
        encoder: nn.Module,
        tasks: list[tuple[str, str, int]],
        *,
        pooling: str = "mean",
        window_pooling: str = "mean",
        dropout: float = 0.1,
        loss_weights: dict[str, float] | None = None,
        pos_weights: dict[str, torch.Tensor] | None = None,
    ):
        """``tasks``: (name, kind, n_labels) with kind ``single_label`` or ``multi_label``."""
        super().__init__()
        self.encoder = encoder
        self.tasks = [(name, kind, n) for name, kind, n in tasks]
        self.pooling = pooling
        self.window_pooling = window_pooling
        self.loss_weights = dict(loss_weights or {})
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({name: nn.Linear(hidden, n) for name, _, n in self.tasks})
        for name, _, n in self.tasks:
            pw = (pos_weights or {}).get(name)
            self.register_buffer(f"pos_weight_{name}", pw.float() if pw is not None else torch.ones(n),
                                 persistent=False)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, window_mask: torch.Tensor) -> torch.Tensor:
        """One vector per article: (articles, hidden)."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pooling == "cls":
            windows = hidden[:, 0]
        else:
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            windows = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        wm = window_mask.to(windows.dtype)
        if self.window_pooling == "max":
            expanded = windows.unsqueeze(0).expand(wm.shape[0], -1, -1)
            neg = torch.finfo(windows.dtype).min
            return expanded.masked_fill(wm.unsqueeze(-1) == 0, neg).max(1).values
        return (wm @ windows) / wm.sum(1, keepdim=True).clamp(min=1.0)

    def forward(self, input_ids, attention_mask, window_mask, **labels):
        """Logits per task (``{task: (articles, n_labels)}``) and ``loss`` when ``labels_<task>`` are given."""
        z = self.dropout(self.embed(input_ids, attention_mask, window_mask))
        out = {name: self.heads[name](z) for name, _, _ in self.tasks}
        losses = []
        for name, kind, _ in self.tasks:
            y = labels.get(f"labels_{name}")
            if y is None:
                continue
            if kind == "single_label":
                loss = F.cross_entropy(out[name], y.long())
            else:
                loss = F.binary_cross_entropy_with_logits(
                    out[name], y.float(), pos_weight=getattr(self, f"pos_weight_{name}"))
            losses.append(self.loss_weights.get(name, 1.0) * loss)
        if losses:
            return {"loss": torch.stack(losses).sum(), **out}
        return out

    @staticmethod
    def probabilities(logits: torch.Tensor, kind: str) -> torch.Tensor:
        return torch.softmax(logits, -1) if kind == "single_label" else torch.sigmoid(logits)
