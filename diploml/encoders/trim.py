"""Vocabulary trimming: keep only the word pieces a corpus needs.

In multilingual-e5-small 82% of the parameters are the 250k-row word-embedding
matrix, while a Vietnamese corpus uses a few tens of thousands of pieces at most.
``trim_vocabulary`` keeps the pieces used by the corpus, every single-character piece
(also with the word-start marker ``▁``, so unseen text still falls back to characters)
and the special tokens, slices the
embedding matrix to those rows and rebuilds the Unigram tokenizer over the kept pieces.

Why corpus text tokenises identically afterwards: Unigram picks the best-scoring
segmentation; every piece of the old best path is kept with its score, and a smaller
vocabulary only removes alternatives. The unknown-token score is derived from the
lowest piece score, so the lowest-scoring piece is kept as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import torch


def _unigram_json(tokenizer) -> dict:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise TypeError("trim_vocabulary needs a fast (tokenizers-backed) tokenizer")
    data = json.loads(backend.to_str())
    if data["model"]["type"] != "Unigram":
        raise TypeError(f"trim_vocabulary supports Unigram tokenizers, not {data['model']['type']}")
    return data


def kept_ids(tokenizer, texts: Iterable[str], batch_size: int = 1000) -> list[int]:
    """Sorted old ids to keep: corpus pieces, single-character pieces, specials, lowest score."""
    data = _unigram_json(tokenizer)
    vocab = data["model"]["vocab"]
    backend = tokenizer.backend_tokenizer
    # single characters, also as word starts ("▁x"): unseen words then split into characters
    keep = {i for i, (piece, _) in enumerate(vocab) if len(piece) == 1 or (len(piece) == 2 and piece[0] == "\u2581")}
    keep.update(t["id"] for t in data["added_tokens"])
    if data["model"].get("unk_id") is not None:
        keep.add(data["model"]["unk_id"])
    keep.add(min(range(len(vocab)), key=lambda i: vocab[i][1]))
    batch = []
    for text in texts:
        batch.append(text)
        if len(batch) == batch_size:
            keep.update(i for enc in backend.encode_batch(batch) for i in enc.ids)
            batch = []
    if batch:
        keep.update(i for enc in backend.encode_batch(batch) for i in enc.ids)
    return sorted(keep)


def _remap_specials(node, old_to_new: dict[int, int]):
    """Rewrite token ids inside a post-processor's JSON (TemplateProcessing, RobertaProcessing...)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "ids" and isinstance(v, list) and all(isinstance(i, int) for i in v):
                out[k] = [old_to_new[i] for i in v]
            elif k in ("sep", "cls") and isinstance(v, list) and len(v) == 2 and isinstance(v[1], int):
                out[k] = [v[0], old_to_new[v[1]]]
            else:
                out[k] = _remap_specials(v, old_to_new)
        return out
    if isinstance(node, list):
        return [_remap_specials(v, old_to_new) for v in node]
    return node


def trim_tokenizer(tokenizer, keep: list[int]):
    """A ``PreTrainedTokenizerFast`` over the pieces ``keep`` (old ids, sorted), same pipeline."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    data = _unigram_json(tokenizer)
    old_to_new = {old: new for new, old in enumerate(keep)}
    vocab = data["model"]["vocab"]
    data["model"]["vocab"] = [vocab[i] for i in keep]
    if data["model"].get("unk_id") is not None:
        data["model"]["unk_id"] = old_to_new[data["model"]["unk_id"]]
    for tok in data["added_tokens"]:
        tok["id"] = old_to_new[tok["id"]]
    data["post_processor"] = _remap_specials(data["post_processor"], old_to_new)
    data["truncation"] = None
    data["padding"] = None
    backend = Tokenizer.from_str(json.dumps(data, ensure_ascii=False))

    specials = {k: str(v) for k, v in tokenizer.special_tokens_map.items() if isinstance(v, str)}
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        model_max_length=tokenizer.model_max_length,
        padding_side=tokenizer.padding_side,
        **specials,
    )


def trim_embeddings(model, keep: list[int], old_to_new: dict[int, int] | None = None):
    """Slice the input (and an untied output) embedding matrix to the rows ``keep``; in place."""
    old_to_new = old_to_new or {old: new for new, old in enumerate(keep)}
    index = torch.tensor(keep, dtype=torch.long)
    old = model.get_input_embeddings()
    if max(keep) >= old.num_embeddings:
        raise ValueError(f"tokenizer id {max(keep)} is outside the model's {old.num_embeddings} embeddings")
    config = model.config
    pad = getattr(config, "pad_token_id", None)
    new_pad = old_to_new.get(pad) if pad is not None else None
    new = torch.nn.Embedding(len(keep), old.embedding_dim, padding_idx=new_pad,
                             dtype=old.weight.dtype, device=old.weight.device)
    with torch.no_grad():
        new.weight.copy_(old.weight[index.to(old.weight.device)])
    new.weight.requires_grad_(old.weight.requires_grad)
    model.set_input_embeddings(new)

    out = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if out is not None:
        if getattr(config, "tie_word_embeddings", False):
            model.tie_weights()
        else:
            lin = torch.nn.Linear(out.in_features, len(keep), bias=out.bias is not None,
                                  dtype=out.weight.dtype, device=out.weight.device)
            with torch.no_grad():
                lin.weight.copy_(out.weight[index.to(out.weight.device)])
                if out.bias is not None:
                    lin.bias.copy_(out.bias[index.to(out.bias.device)])
            model.set_output_embeddings(lin)

    config.vocab_size = len(keep)
    for name in ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value in old_to_new:
            setattr(config, name, old_to_new[value])
    return model


def trim_vocabulary(model, tokenizer, texts: Iterable[str]):
    """Return ``(model, tokenizer)`` restricted to the pieces ``texts`` need.

    ``texts`` should be what the model will see (including any prefix such as
    ``"query: "``). The model is modified in place; the tokenizer is a new
    ``PreTrainedTokenizerFast`` whose special-token ids are taken from the new vocab,
    so use ``tokenizer.pad_token_id`` etc., never hard-coded ids.
    """
    keep = kept_ids(tokenizer, texts)
    old_to_new = {old: new for new, old in enumerate(keep)}
    new_tokenizer = trim_tokenizer(tokenizer, keep)
    trim_embeddings(model, keep, old_to_new)
    return model, new_tokenizer


__all__ = ["trim_vocabulary", "kept_ids", "trim_tokenizer", "trim_embeddings"]
