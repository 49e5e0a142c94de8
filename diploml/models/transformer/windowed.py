"""What the PyTorch transformer and its ONNX export share: the text the encoder reads, the token
windows, batched prediction with a progress bar, and per-window evidence. Subclasses give only
the forward pass (``_forward``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from diploml.models.base import Model, check_texts
from diploml.models.transformer.inputs import WindowCollator, encode_article

WEIGHTS = "model.safetensors"


class WindowedClassifier(Model):
    """Prediction over token windows; the forward pass is the subclass's (PyTorch or ONNX)."""

    model_type = "transformer"
    tokenizer = None

    def prepare(self, text: str) -> str:
        """The exact text the encoder sees (preprocessing plus the encoder's prefix); same in training and use."""
        return self.config.model.text_prefix + super().prepare(text)

    def windows(self, text: str, article_id: str | None = None) -> list[list[int]]:
        """Token windows of one raw text (up to ``model.max_windows``)."""
        m = self.config.model
        return encode_article(self.tokenizer, self.prepare(text), max_length=m.max_length, stride=m.stride,
                              max_windows=m.max_windows, article_id=article_id)

    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
        """Probabilities per task for one collated batch."""
        raise NotImplementedError

    def predict_proba(self, texts: Iterable[str], *, batch_size: int | None = None,
                      progress: bool = False) -> dict[str, np.ndarray]:
        """Per-task probabilities: softmax rows (single-label) or independent sigmoids (multi-label)."""
        self._check_fitted()
        texts = check_texts(texts)
        batch_size = batch_size or self.config.evaluation.batch_size
        collate = WindowCollator(self.tokenizer.pad_token_id)
        out = {t.name: [] for t in self.tasks}
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), unit="article", desc="predict")
        for start in range(0, len(texts), batch_size):
            chunk = texts[start:start + batch_size]
            probas = self._forward(collate([{"input_ids": self.windows(t)} for t in chunk]))
            for name, p in probas.items():
                out[name].append(p)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        return {t.name: (np.concatenate(out[t.name]) if out[t.name] else np.zeros((0, len(t.labels)), np.float32))
                for t in self.tasks}

    def window_probas(self, text: str, task: str = "topic") -> tuple[list[list[int]], np.ndarray]:
        """The windows of ``text`` and each window's own probabilities for ``task`` (windows, labels)."""
        windows = self.windows(text)
        # each window as its own one-window "article": the model's pooling then scores it alone
        batch = WindowCollator(self.tokenizer.pad_token_id)([{"input_ids": [w]} for w in windows])
        return windows, self._forward(batch)[task]

    def explain(self, text: str, task: str, label: str) -> dict:
        """The window that scores ``label`` highest, with its text and its own top probabilities."""
        windows, p = self.window_probas(text, task)
        labels = next(t.labels for t in self.tasks if t.name == task)
        j = labels.index(label)
        best = int(p[:, j].argmax())
        top = np.argsort(-p[best])[:3]
        return {"task": task, "label": label, "window": best, "n_windows": len(windows),
                "probability": round(float(p[best, j]), 4),
                "window_probabilities": {labels[k]: round(float(p[best, k]), 4) for k in top},
                "text": self.tokenizer.decode(windows[best], skip_special_tokens=True)}
