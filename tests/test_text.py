"""Normalisation, cleaning, segmentation and preprocess: fixtures, invented pages, properties."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diploml.text import clean, is_noise, normalize, preprocess, segment, strip_tones
from diploml.text.clean import _tidy, kept_spans
from diploml.text.normalize import Aligned

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
FIXTURES = Path(__file__).parent / "fixtures"


def read(path: Path) -> str:
    return path.read_text("utf-8")


# --- normalize -----------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("hoà bình", "hòa bình"), ("Cộng hoà", "Cộng hòa"), ("Thuỵ Sĩ", "Thụy Sĩ"), ("khoẻ", "khỏe"),
    ("uỷ ban", "ủy ban"), ("Uỷ ban", "Ủy ban"), ("tuỳ", "tùy"), ("hoá", "hóa"), ("xoã", "xõa"),
    ("hòa", "hòa"), ("Thụy", "Thụy"),
])
def test_tone_convention(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("word", [
    "quý", "quỳ", "quả", "qua", "hoàn", "Nguyễn", "giữa", "ngoài", "thuyết", "khuya", "thuyền", "của", "thủy",
    "hoạch", "Huế", "xoài",
])
def test_tone_convention_leaves_other_words(word):
    assert normalize(word) == word


def test_nfc_and_decomposed_input():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    assert normalize(decomposed) == "Nguyễn Thị Hòa"
    assert unicodedata.is_normalized("NFC", normalize(decomposed))


def test_whitespace_quotes_dashes():
    raw = "  Việt\u00a0Nam\u200b  –  Lào\t“hữu nghị”  ‘đặc biệt’…\r\n\r\n\r\n\u2028Hết  "
    assert normalize(raw) == "Việt Nam - Lào \"hữu nghị\" 'đặc biệt'...\n\nHết"


# --- clean: seeds and invented pages ---------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_seed_cleaned_exactly(seed):
    expected = read(FIXTURES / "cleaned" / f"{seed.stem}.txt").rstrip("\n")
    assert clean(normalize(read(seed))) == expected
    assert preprocess(read(seed)) == expected


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_seed_cleaning_keeps_every_sentence(seed):
    """Every line of the expected text is a line of the normalised seed: nothing invented."""
    source_lines = {line.strip(" |") for line in normalize(read(seed)).split("\n")}
    for line in read(FIXTURES / "cleaned" / f"{seed.stem}.txt").rstrip("\n").split("\n"):
        assert line in source_lines


@pytest.mark.parametrize("page", sorted((FIXTURES / "noisy").glob("page_?.txt")), ids=lambda p: p.stem)
def test_invented_noisy_pages(page):
    expected = read(page.with_name(page.stem + ".expected.txt")).rstrip("\n")
    assert clean(normalize(read(page))) == expected


@pytest.mark.parametrize("line", [
    "Chờ...", "Nhảy đến nội dung", "0:00 / 0:00", "0:00", "1:02:03 / 1:10:00", "D1a.jpg", "anh-1.PNG",
    "ttxvn-1607chutichnuoc1-1902", "Ảnh: TTXVN", "(Ảnh: Reuters)", "Chia sẻ", "Thích 1,2k", "Tin cùng chuyên mục",
    "Email: info@daisan.vn", "Fax: 045625169", "Điện thoại: 1900 98 98 36", "© 2024 Báo Quốc tế",
    "Thứ Hai, 18/09/2023 10:30 (GMT+7)", "16/07/2024 14:35", "Hội đàm cấp cao. (Ảnh: TTXVN phát)",
    "https://baoquocte.vn/bai-viet-123.html", "Trang chủ | Thời sự | Thế giới", "Trang chủ > Chính trị > Đối ngoại",
    "Thời sự Chính trị Kinh tế Thế giới Xã hội", "Thích Chia sẻ", "In bài | Gửi email", "Bình luận (0) | In bài",
    "Theo dõi VOV trên Google News", "Đọc thêm: Việt Nam - Lào ký kết thỏa thuận", "Tags: Việt Nam, Lào",
    "Nhân Dân điện tử", "Tuổi Trẻ Online - Thời sự", "Ảnh: apec2017-ariyana-1111.jpg", "Nhảy đến nội dung chính",
])
def test_noise_lines(line):
    assert is_noise(normalize(line))


@pytest.mark.parametrize("line", [
    "Hai bên nhất trí tăng cường hợp tác kinh tế.",
    "Ông cho biết hình ảnh: người Việt Nam thân thiện đã in đậm trong tâm trí ông.",
    "Ngày 16/7, tại Phủ Chủ tịch, Chủ tịch nước Tô Lâm đã tiếp Đại sứ các nước.",
    "Thủ tướng đề nghị tăng cường hợp tác trong lĩnh vực điện thoại di động và viễn thông.",
    "Việt Nam - Lào",
    "Email và mạng xã hội là công cụ ngoại giao số quan trọng, Bộ trưởng nhấn mạnh.",
    "Đường dây nóng bảo hộ công dân: +84 981 84 84 84.",
    "Nhân dân hai nước",
    "Thanh niên - lực lượng nòng cốt",
    "Kinh tế - thương mại",
    "Hợp tác thương mại điện tử",
])
def test_sentences_are_not_noise(line):
    assert not is_noise(line)


def test_article_ending_with_company_sentence_is_kept():
    text = "Tiêu đề\nCông ty Vietjet sẽ mở đường bay thẳng tới Ấn Độ vào năm sau."
    assert clean(text) == text


def test_footer_only_removed_at_the_end():
    text = "Tiêu đề bài\nĐịa chỉ Đại sứ quán mới được khai trương tại Hà Nội\nCâu cuối của bài."
    assert clean(text) == text
    assert clean(text + "\nĐịa chỉ: 57 Nguyễn Du, Hà Nội\nCÔNG TY CỔ PHẦN ABC") == text


# --- properties --------------------------------------------------------------------------------

VIET = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
viet_text = st.text(alphabet=st.sampled_from(list(VIET + VIET.upper() + " \n.,-\u00a0\u0300\u0301\u0309\u0323")))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), viet_text))
def test_normalize_idempotent_and_total(text):
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), viet_text))
def test_clean_idempotent_and_total(text):
    once = clean(text)
    assert clean(once) == once
    n = clean(normalize(text))
    assert clean(normalize(n)) == n


def base_letters(text: str) -> list[str]:
    """Letters with tone marks removed, case folded (what normalisation must preserve)."""
    return [c for c in strip_tones(unicodedata.normalize("NFC", text)).casefold() if c.isalpha()]


@settings(max_examples=300, deadline=None)
@given(viet_text)
def test_normalize_never_loses_a_vietnamese_letter(text):
    assert base_letters(normalize(text)) == base_letters(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["hoà", "hòa", "Thuỵ", "quý", "khoẻ", "Nguyễn", "giữa", "hoàn", "uỷ"]), min_size=1))
def test_tone_count_preserved(words):
    text = " ".join(words)
    tones = sum(c in "\u0300\u0301\u0303\u0309\u0323" for c in unicodedata.normalize("NFD", text))
    out = unicodedata.normalize("NFD", normalize(text))
    assert sum(c in "\u0300\u0301\u0303\u0309\u0323" for c in out) == tones


# --- segmentation and preprocess -------------------------------------------------------------

def test_segment_none_returns_text():
    assert segment("Việt Nam", "none") == "Việt Nam"
    assert preprocess("  Hoà bình ", word_segmentation="none") == "Hòa bình"


def test_segment_unknown_method():
    with pytest.raises(ValueError, match="unknown word_segmentation"):
        segment("x", "jieba")


@pytest.mark.parametrize("method", ["pyvi", "underthesea"])
def test_segment_missing_package_names_pip_install(method, monkeypatch):
    monkeypatch.setitem(sys.modules, method, None)  # makes the import fail
    with pytest.raises(ImportError, match=f"pip install {method}"):
        segment("Việt Nam", method)


def test_preprocess_options_off():
    raw = "Chờ...\nHoà bình"
    assert preprocess(raw, normalize=False, clean=False) == raw
    assert preprocess(raw, clean=False) == "Chờ...\nHòa bình"
    assert preprocess(raw) == "Hòa bình"


def test_segment_pyvi_when_installed():
    pytest.importorskip("pyvi")
    assert "Việt_Nam" in segment("Việt Nam và Hàn Quốc", "pyvi")


def test_aligned_search_form_maps_back_to_the_text_as_written():
    written = unicodedata.normalize("NFD", "Hợp tác văn hoá – du lịch")
    view = Aligned(written)
    assert view.key == "Hợp tác văn hóa - du lịch"  # composed, tone convention, plain dash
    a = view.key.index("văn hóa")
    start, end = view.span(a, a + len("văn hóa"))
    assert unicodedata.normalize("NFC", written[start:end]) == "văn hoá"
    assert Aligned("a\nb").key == "a b" and Aligned("a\nb", spaces=False).key == "a\nb"


# --- kept_spans: the lines of the text as written that cleaning keeps ----------------------------------

def _kept_text(text: str, normalized: bool = True) -> str:
    lines = [text[a:b] for a, b in kept_spans(text, normalized=normalized)]
    return "\n".join(_tidy(normalize(line) if normalized else line) for line in lines)


@pytest.mark.parametrize("page", SEEDS + sorted((FIXTURES / "noisy").glob("page_?.txt")), ids=lambda p: p.stem)
def test_kept_spans_are_the_lines_clean_keeps(page):
    text = read(page)
    assert _kept_text(text) == clean(normalize(text))
    text_lines = [line for line in normalize(text).split("\n") if line.strip()]
    assert len(kept_spans(text)) < len(text_lines)  # the page holds noise, and its lines are left out


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), viet_text))
def test_kept_spans_agree_with_clean_on_any_text(text):
    assert _kept_text(text) == clean(normalize(text))
    assert _kept_text(text, normalized=False) == clean(text)


def test_kept_spans_of_html_is_none():
    assert kept_spans("<html><body><p>Hai bên hội đàm.</p></body></html>") is None
