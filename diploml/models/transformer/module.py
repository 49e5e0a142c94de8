"""The multi-task model: a shared encoder, pooling over tokens and windows, one head per task.

Pure ``nn.Module``: tensors in, logits (and a loss when labels are given) out; no file I/O.
Long articles arrive as several windows; ``window_mask`` (articles x windows) says which
window belongs to which article, and window vectors are pooled back into one vector per article
(mean, max, or attention: a learnt score per window, softmax within the article).

A ``mentions`` task (partners) scores candidates instead of labels: each candidate is a set of
token positions (its mentions, in every window that holds them), given as flat indices into the
(windows x tokens) grid (``mention_index``, ``mention_mask``) and the article it belongs to
(``candidate_article``); its vector (mean of its tokens' states) joined with its article's vector
goes through a linear layer to one logit.

A *cue-scored* multi-label task (``cue_task``, sectors) is read the same way: its candidates are the
labels whose cue phrases occur in the article (``cue_index``/``cue_mask`` over the cue tokens,
``cue_article``, ``cue_label``); the cue vector joined with the article vector gives one logit per label
(a linear layer with a column per label), and a label without cue gets ``NO_CUE_LOGIT`` (probability ~0).
The loss is over the candidates only: the model learns when a cue names cooperation, not how often a
sector occurs.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

NO_CUE_LOGIT = -30.0  # a label with no cue in the article: sigmoid ~1e-13


def layer_stack(encoder) -> nn.ModuleList | None:
    """The transformer layers of a BERT/RoBERTa-style encoder (``encoder.encoder.layer``); None if it has none."""
    return getattr(getattr(encoder, "encoder", None), "layer", None)


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
        cue_task: str | None = None,
    ):
        """``tasks``: (name, kind, n_labels) with kind ``single_label``, ``multi_label`` or ``mentions``;
        ``cue_task``: a multi-label task scored from its cue phrases (see the module docstring)."""
        super().__init__()
        self.encoder = encoder
        self.tasks = [(name, kind, n) for name, kind, n in tasks]
        self.pooling = pooling
        self.frozen_depth = 0  # layers under the states given to forward as frozen_states (lower_states sets it)
        self.window_pooling = window_pooling
        self.loss_weights = dict(loss_weights or {})
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        kinds = {name: kind for name, kind, _ in self.tasks}
        if cue_task is not None and kinds.get(cue_task) != "multi_label":
            raise ValueError(f"cue_task {cue_task!r} must be a multi_label task; tasks: {kinds}")
        self.cue_task = cue_task
        self.heads = nn.ModuleDict({
            name: nn.Linear(2 * hidden, 1) if kind == "mentions" else nn.Linear(2 * hidden, n) if name == cue_task
            else nn.Linear(hidden, n) for name, kind, n in self.tasks})
        if window_pooling == "attention":
            self.window_scorer = nn.Linear(hidden, 1)
        for name, _kind, n in self.tasks:
            pw = (pos_weights or {}).get(name)
            self.register_buffer(f"pos_weight_{name}", pw.float() if pw is not None else torch.ones(max(n, 1)),
                                 persistent=False)

    def token_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                     frozen_states: torch.Tensor | None = None) -> torch.Tensor:
        """Last-layer token states; from ``frozen_states`` (the output of ``lower_states``), only the layers
        above them run."""
        if frozen_states is None:
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = self._layer_mask(attention_mask, frozen_states)
        with self._layers(self._stack()[self.frozen_depth:]):
            return self.encoder.encoder(frozen_states, attention_mask=mask).last_hidden_state

    @torch.no_grad()
    def lower_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, depth: int) -> torch.Tensor:
        """Token states after the embeddings and the lower ``depth`` layers, without dropout: what the
        frozen part of the encoder gives, computed once per training window (``model.cache_frozen``)."""
        was_training = self.encoder.training
        self.encoder.eval()
        try:
            with self._layers(self._stack()[:depth]):
                out = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        finally:
            self.encoder.train(was_training)
        self.frozen_depth = depth
        return out

    def _layer_mask(self, attention_mask: torch.Tensor, states: torch.Tensor):
        """The attention mask in the form the encoder's layers take (what its own forward builds)."""
        try:
            from transformers.masking_utils import create_bidirectional_mask
        except ImportError:  # transformers 4: the additive (windows, 1, 1, tokens) mask
            return self.encoder.get_extended_attention_mask(attention_mask, attention_mask.shape)
        return create_bidirectional_mask(config=self.encoder.config, inputs_embeds=states,
                                         attention_mask=attention_mask)

    def _stack(self) -> nn.ModuleList:
        stack = layer_stack(self.encoder)
        if stack is None:
            raise ValueError(f"cannot find the layer stack of {type(self.encoder).__name__}")
        return stack

    @contextmanager
    def _layers(self, layers):
        # The encoder's own forward runs a slice of its layer stack: no copy, and masks and position
        # handling stay the library's.
        stack = self.encoder.encoder.layer
        self.encoder.encoder.layer = nn.ModuleList(layers)
        try:
            yield
        finally:
            self.encoder.encoder.layer = stack

    def pool(self, hidden: torch.Tensor, attention_mask: torch.Tensor, window_mask: torch.Tensor) -> torch.Tensor:
        """One vector per article (articles, hidden) from token states (windows, tokens, hidden)."""
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
        if self.window_pooling == "attention":
            scores = self.window_scorer(windows).squeeze(-1).unsqueeze(0).expand(wm.shape[0], -1)
            weights = torch.softmax(scores.masked_fill(wm == 0, torch.finfo(windows.dtype).min), dim=1) * wm
            return weights @ windows
        return (wm @ windows) / wm.sum(1, keepdim=True).clamp(min=1.0)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, window_mask: torch.Tensor) -> torch.Tensor:
        """One vector per article: (articles, hidden)."""
        return self.pool(self.token_states(input_ids, attention_mask), attention_mask, window_mask)

    @staticmethod
    def _spans(hidden: torch.Tensor, index: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean token state of each candidate's positions (flat indices into windows x tokens)."""
        flat = hidden.reshape(-1, hidden.shape[-1])
        m = mask.to(hidden.dtype).unsqueeze(-1)
        return (flat[index] * m).sum(1) / m.sum(1).clamp(min=1.0)

    def forward(self, input_ids, attention_mask, window_mask, mention_index=None, mention_mask=None,
                candidate_article=None, cue_index=None, cue_mask=None, cue_article=None, cue_label=None,
                frozen_states=None, **labels):
        """Logits per task (``{task: (articles, n_labels)}``; a mentions task: ``(candidates,)``) and ``loss``
        when ``labels_<task>`` are given. ``frozen_states``: cached ``lower_states`` of the windows."""
        hidden = self.token_states(input_ids, attention_mask, frozen_states)
        article = self.pool(hidden, attention_mask, window_mask)
        z = self.dropout(article)
        out, cue_logits = {}, None
        for name, kind, n in self.tasks:
            if name == self.cue_task:
                out[name] = z.new_full((z.shape[0], n), NO_CUE_LOGIT)
                if cue_index is not None:
                    joined = torch.cat([self._spans(hidden, cue_index, cue_mask), article[cue_article]], dim=-1)
                    per_label = self.heads[name](self.dropout(joined))  # (cues, n_labels)
                    cue_logits = per_label.gather(1, cue_label.unsqueeze(1)).squeeze(1)
                    # under bf16/fp16 autocast the head's logits are half precision, the filler is not
                    out[name] = out[name].index_put((cue_article, cue_label), cue_logits.to(out[name].dtype))
            elif kind != "mentions":
                out[name] = self.heads[name](z)
            elif mention_index is None:
                out[name] = z.new_zeros((0,))
            else:
                joined = torch.cat([self._spans(hidden, mention_index, mention_mask), article[candidate_article]],
                                   dim=-1)
                out[name] = self.heads[name](self.dropout(joined)).squeeze(-1)
        losses = []
        for name, kind, _ in self.tasks:
            y = labels.get(f"labels_{name}")
            if y is None:
                continue
            if kind == "single_label":
                loss = F.cross_entropy(out[name], y.long())
            elif kind == "mentions":
                if y.numel() == 0:
                    continue
                loss = F.binary_cross_entropy_with_logits(out[name], y.float())
            elif name == self.cue_task:
                if cue_logits is None or cue_logits.numel() == 0:
                    continue  # no cue in the batch: nothing to learn for this task
                loss = F.binary_cross_entropy_with_logits(
                    cue_logits, y[cue_article, cue_label].float(),
                    pos_weight=getattr(self, f"pos_weight_{name}")[cue_label])
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
