"""What the PyTorch transformer and its ONNX export share: the text the encoder reads, the token
windows, batched prediction with a progress bar, and per-window evidence. Subclasses give only
the forward pass (``_forward``).
"""

from __future__ import annotations

import numpy as np
import torch

from diploml.models.base import Model
from diploml.models.transformer.inputs import WindowCollator, encode_article

WEIGHTS = "model.safetensors"
CUE_LEXICON = "cue_lexicon.yaml"  # the sector lexicon a cue-scored run was trained with, saved beside the weights


class WindowedClassifier(Model):
    """Prediction over token windows; the forward pass is the subclass's (PyTorch or ONNX)."""

    model_type = "transformer"
    tokenizer = None

    def __init__(self, config=None, *, random_state: int | None = None):
        super().__init__(config, random_state=random_state)
        self.cue_lexicon: dict | None = None  # a parsed sectors.yaml; None: the bundled one
        self._check_cue_task()

    @classmethod
    def _from_run(cls, run):
        self = super()._from_run(run)
        if (run.path / CUE_LEXICON).is_file():  # the lexicon of training, not today's bundled one
            import yaml

            self.cue_lexicon = yaml.safe_load((run.path / CUE_LEXICON).read_text("utf-8"))
        elif self.cue_task is not None:
            from diploml.rundir import RunDirError

            raise RunDirError(f"{run.path}: incomplete run directory, {CUE_LEXICON} is missing")
        return self

    def _check_cue_task(self) -> None:
        """``model.cue_task`` must name a declared multi-label task whose labels the sector lexicon covers."""
        name = self.config.model.cue_task
        if name is None:
            return
        from diploml.config import ConfigError
        from diploml.models.rules import sector_lexicon

        include = self.config.tasks.include
        if include is not None and name not in include:
            return  # the task is left out by tasks.include: nothing to score
        task = next((t for t in self.tasks if t.name == name), None)
        if task is None or not task.multi_label:
            raise ConfigError(f"model.cue_task: {name!r} is not a declared multi_label task; declared: "
                              f"{[t.name for t in self.tasks if t.multi_label]}")
        missing = [lab for lab in task.labels if lab not in sector_lexicon(self.cue_lexicon)[0]]
        if missing:
            raise ConfigError(f"model.cue_task: the sector lexicon (rules sectors.yaml) has no cues for the labels "
                              f"{missing} of task {name!r}")
        if self.config.preprocess.word_segmentation != "none":
            raise ConfigError("model.cue_task needs preprocess.word_segmentation: none (the cue phrases are "
                              "unsegmented words); set model.cue_task: null for segmented text")

    def sector_cues(self, text: str) -> dict[str, list[tuple[int, int]]] | None:
        if self.cue_task is None or self.cue_task.name != "sectors":
            return None
        from diploml.models.rules import written_cue_spans

        return written_cue_spans(text, self.cue_lexicon)

    @property
    def cue_task(self):
        name = self.config.model.cue_task
        return next((t for t in self.model_tasks if t.name == name), None) if name else None

    def prepare(self, text: str) -> str:
        """The exact text the encoder sees (preprocessing plus the encoder's prefix); same in training and use."""
        return self.config.model.text_prefix + super().prepare(text)

    def encode(self, text: str, article_id: str | None = None) -> dict:
        """Token windows of one raw text (up to ``model.max_windows``) and, with a partners task, its
        candidates and their token positions (the gazetteer runs on the same preprocessed text)."""
        m = self.config.model
        body = super().prepare(text)
        shift = len(m.text_prefix)  # spans are found in the body, the encoder reads prefix + body
        spans = None
        if self.mentions_task is not None:
            if self.config.preprocess.word_segmentation != "none":
                raise ValueError("a partners (mentions) task needs preprocess.word_segmentation: none; set "
                                 "tasks.include without partners and tasks.regions_from: head for segmented text")
            from diploml.partners import candidates

            spans = {code: [(x.start + shift, x.end + shift) for x in ms] for code, ms in candidates(body).items()}
        cue_spans = None
        cue_task = self.cue_task
        if cue_task is not None:
            from diploml.models.rules import sector_cue_spans

            cue_spans = {label: [(a + shift, b + shift) for a, b in s]
                         for label, s in sector_cue_spans(body, self.cue_lexicon).items() if label in cue_task.labels}
        enc = encode_article(self.tokenizer, m.text_prefix + body, max_length=m.max_length, stride=m.stride,
                             max_windows=m.max_windows, article_id=article_id, spans=spans, cue_spans=cue_spans)
        if cue_task is not None:
            enc["cue_labels"] = [cue_task.index(label) for label in enc["cue_labels"]]
        return enc

    def windows(self, text: str, article_id: str | None = None) -> list[list[int]]:
        """Token windows of one raw text (up to ``model.max_windows``)."""
        return self.encode(text, article_id)["input_ids"]

    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
        """Probabilities per task for one collated batch (a mentions task: one per candidate)."""
        raise NotImplementedError

    def _predict_proba(self, texts: list[str], *, batch_size: int | None, progress: bool) -> dict:
        self._check_fitted()
        batch_size = batch_size or self.config.evaluation.batch_size
        collate = WindowCollator(self.tokenizer.pad_token_id)
        tasks = self.model_tasks
        out = {t.name: [] for t in tasks}
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), unit="article", desc="predict")
        for start in range(0, len(texts), batch_size):
            encs = [self.encode(t) for t in texts[start:start + batch_size]]
            probas = self._forward(collate(encs))
            for t in tasks:
                if t.mentions:  # candidates in article order: split them back per article
                    p = iter(probas[t.name].tolist())
                    out[t.name].extend({c: next(p) for c in e["candidates"]} for e in encs)
                else:
                    out[t.name].append(probas[t.name])
            if bar is not None:
                bar.update(len(encs))
        if bar is not None:
            bar.close()
        return {t.name: (out[t.name] if t.mentions else np.concatenate(out[t.name]) if out[t.name]
                         else np.zeros((0, len(t.labels)), np.float32)) for t in tasks}

    def window_probas(self, text: str, task: str = "topic") -> tuple[list[list[int]], np.ndarray]:
        """The windows of ``text`` and each window's own probabilities for ``task`` (windows, labels)."""
        enc = self.encode(text)
        windows = enc["input_ids"]

        def in_window(groups, w, keep_empty):
            pos = [[(0, p) for v, p in g if v == w] for g in groups]
            return [g for g in pos if g or keep_empty], [i for i, g in enumerate(pos) if g or keep_empty]

        # each window as its own one-window "article": the model's pooling then scores it alone
        items = []
        for w, ids in enumerate(windows):
            item = {"input_ids": [ids]}
            if "positions" in enc:
                item["positions"] = in_window(enc["positions"], w, True)[0]
            if "cue_positions" in enc:
                item["cue_positions"], kept = in_window(enc["cue_positions"], w, False)
                item["cue_labels"] = [enc["cue_labels"][i] for i in kept]
            items.append(item)
        batch = WindowCollator(self.tokenizer.pad_token_id)(items)
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
