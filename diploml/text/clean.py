"""Line-level removal of web-page noise around a news article.

Each rule removes a whole line, and only a line that cannot be a sentence of the article:
player and navigation widgets, image file names, photo credits and captions, related-link
lists, share buttons, date stamps and the site footer (company registration, licence,
address, phone, fax, e-mail, copyright). Kept lines are returned in order, stripped,
joined by single newlines (blank lines dropped). See docs/text.md for examples.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

from diploml.text.normalize import _LINE_BREAKS, normalize

_FLAGS = re.IGNORECASE | re.UNICODE


def _fold(line: str) -> str:
    """Casefolded NFC line with plain dots (for matching only)."""
    return unicodedata.normalize("NFC", line).replace("…", "...").casefold()


# Whole-line widgets (compared after casefolding, trailing dots/colons ignored).
NAV_LINES = {
    "chờ", "đang tải", "loading", "nhảy đến nội dung", "nhảy đến nội dung liên quan", "bỏ qua nội dung",
    "skip to content", "nhảy đến nội dung chính",
    "trang chủ", "menu", "logo", "quay lại", "về đầu trang", "lên đầu trang", "nghe bài viết",
    "nghe đọc bài", "tự động phát", "in bài", "in bài viết", "theo dõi", "đăng nhập", "đăng ký",
    "tìm kiếm", "quảng cáo", "advertisement", "video", "audio", "photo", "ảnh", "infographic",
}
# Headers that open a list of links to other articles; the list below goes with them.
RELATED_HEADERS = {
    "tin cùng chuyên mục", "tin liên quan", "bài liên quan", "tin khác", "các tin khác",
    "tin mới", "tin mới nhất", "tin đọc nhiều", "đọc nhiều", "đọc thêm", "xem thêm", "xem tiếp",
    "có thể bạn quan tâm", "bạn có thể quan tâm", "tin nổi bật", "tin tức liên quan",
    "bài viết liên quan", "related", "related news", "more news", "cùng chuyên mục", "bài đọc nhiều",
    "tin khác cùng chuyên mục", "tin bài liên quan", "bài viết cùng chủ đề", "tin cùng chủ đề", "cùng chủ đề",
}
SHARE_WORDS = {
    "chia sẻ", "share", "thích", "like", "tweet", "bình luận", "gửi bình luận", "lưu", "lưu bài",
    "in", "in bài", "gửi bài", "bài viết", "email", "gửi email", "facebook", "zalo", "twitter", "x", "copy link",
    "sao chép liên kết", "linkedin", "telegram", "messenger", "bookmark", "báo lỗi", "góp ý", "font", "cỡ chữ",
    "a+", "a-", "a", "google news", "theo dõi trên google news", "bản in", "gửi bạn bè", "phản hồi",
    "chia sẻ bài viết", "in trang", "gửi bài viết", "lưu tin", "quay lại trang trước", "quay lại",
}
# Section names of Vietnamese news sites, as they appear in breadcrumbs and menus.
SECTION_NAMES = {
    "trang chủ", "thời sự", "chính trị", "kinh tế", "thế giới", "xã hội", "văn hóa", "thể thao", "đối ngoại",
    "kinh doanh", "video", "giáo dục", "pháp luật", "sức khỏe", "quốc hội", "chính sách", "kiều bào",
    "người việt bốn phương", "bình luận - phân tích", "quốc tế", "tin tức", "tin mới", "đọc nhiều", "tin mới nhất",
    "podcast", "multimedia", "emagazine", "infographics", "ảnh", "media", "đời sống", "du lịch", "khoa học",
    "công nghệ", "giải trí", "bạn đọc", "tiêu điểm", "chuyên đề", "phóng sự", "châu á", "châu âu", "châu phi",
    "châu mỹ", "trung đông", "hồ sơ", "ngoại giao", "an ninh", "quân sự", "thị trường", "tài chính", "số hóa",
    "tin hoạt động",
}

_PLAYER = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?(\s*/\s*\d{1,2}:\d{2}(:\d{2})?)?$")
_IMAGE_FILE = re.compile(r"^\S+\.(jpe?g|png|gif|webp|bmp|svg|tiff?|heic)(\?\S*)?$", _FLAGS)
# A lone slug such as "ttxvn-1607chutichnuoc1-1902": one ASCII token with digits and
# hyphens/underscores (image ids, URL tails). No article sentence looks like this.
_SLUG = re.compile(r"^(?=[^\s]*\d)(?=[^\s]*[-_/])[A-Za-z0-9._/\-]{8,}$")
_URL = re.compile(r"^(https?://|www\.)\S+$", _FLAGS)
# A photo credit at the end of a (caption) line: "... - Ảnh: TTXVN", "... (Ảnh: Reuters).".
# The credit itself must start with a capital or digit ("TTXVN", "Reuters", "VGP/Nhật Bắc").
_CREDIT_TAIL = re.compile(
    r"(^|[\s(\[.,-])(?i:ảnh|ảnh minh họa|nguồn ảnh|photo|video|clip|đồ họa)\s*:\s*"
    r"[A-ZÀ-ỸĐ0-9][^()\[\]:]{0,59}[)\]]?\s*[.]?$"
)
_CREDIT_WHOLE = re.compile(r"^[(\[]?\s*(ảnh|ảnh minh họa|nguồn ảnh|photo|nguồn)\s*:?\s*[^.:]{0,60}[)\]]?$", _FLAGS)
_IMAGE_N = re.compile(r"^(?P<head>.+?)\s+ảnh\s+\d{1,2}$", _FLAGS)
_WEEKDAY = r"(thứ\s*(hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s*nhật|cn|t[2-7])"
_DATE_LINE = re.compile(
    rf"^((cập nhật|đăng|đăng lúc|ngày đăng|xuất bản|updated|published)\s*:?\s*|{_WEEKDAY}|"
    r"\d{1,2}[/.-]\d{1,2}([/.-]\d{2,4})?|\d{1,2}:\d{2}(:\d{2})?|\(?gmt\s*[+-]\s*\d{1,2}\)?|"
    r"(sáng|trưa|chiều|tối)|\d{1,2}\s+giờ\s+\d{1,2}|[,|\-–—·•\s])+$",
    _FLAGS,
)
_HAS_DIGIT = re.compile(r"\d")
# Contact and legal lines of a site footer: removed wherever they occur.
_CONTACT = re.compile(
    r"^(e-?mail|điện thoại|đt|tel|telephone|phone|hotline|fax)\b.{0,120}$", _FLAGS
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_COPYRIGHT = re.compile(r"(©|\(c\)\s*\d{4}|^copyright\b|^bản quyền\b|giữ bản quyền|all rights reserved)", _FLAGS)
_LICENCE = re.compile(
    r"^(giấy|giấp)\s+phép\b|^gp\s*(số|:)|^gpkd\b|^đkkd\b|^mã số (thuế|doanh nghiệp)\b|đăng ký kinh doanh số"
    r"|^(cơ quan chủ quản|chịu trách nhiệm (nội dung|xuất bản)|tổng biên tập|phó tổng biên tập|"
    r"tòa soạn|trụ sở chính|văn phòng đại diện)\s*:",
    _FLAGS,
)
# Footer-only lines: recognised only inside the footer block at the end of the page.
_FOOTER_ONLY = re.compile(
    r"^(địa chỉ|trụ sở|chi nhánh|văn phòng|công ty|cơ quan|liên hệ|website|tòa soạn)\b.{0,200}$", _FLAGS
)
_FOLLOW_US = re.compile(r"^theo dõi\s.{0,40}\s?trên(\s+(google news|facebook|zalo|youtube|tiktok))?$", _FLAGS)
# News outlets, for mastheads ("Nhân Dân điện tử", "Tuổi Trẻ Online - Thời sự", "VietNamNet | ...").
OUTLETS = (
    "nhân dân", "tuổi trẻ", "thanh niên", "vietnamnet", "vnexpress", "dân trí", "vov", "vtv", "vtv news",
    "vietnamplus", "vietnam+", "báo quốc tế", "thế giới & việt nam", "tg&vn", "báo điện tử chính phủ",
    "baochinhphu", "ttxvn", "thông tấn xã việt nam", "quân đội nhân dân", "công an nhân dân", "tiền phong",
    "sài gòn giải phóng", "hà nội mới", "voh", "zing news", "znews", "vietnam news", "báo tin tức",
)
_OUTLET = re.compile(
    r"^((" + "|".join(re.escape(o) for o in OUTLETS) + r")|(báo|tạp chí)\s.{1,40}"
    r"|(cổng|trang) thông tin( điện tử)?.{0,40})(\s+(điện tử|online))?$"
)
_SKIP_LINK = re.compile(r"^(nhảy đến|chuyển đến|bỏ qua|skip to)\s[^.!?]{0,30}$", _FLAGS)
_META = re.compile(r"^(tags?|từ khóa|chủ đề|keywords?)\s*:|^bài viết thuộc chuyên mục\b", _FLAGS)
# An image file name anywhere in a short line that is not a sentence: a caption with its file.
_IMAGE_TOKEN = re.compile(r"\S+\.(jpe?g|png|gif|webp)\b", _FLAGS)
_INLINE_RELATED = re.compile(
    r"^(đọc thêm|đọc tiếp|xem thêm|xem tiếp|tin liên quan|bài liên quan|tin khác)\s*[:>»-]\s*\S.{0,200}$", _FLAGS
)
_CRUMB_SEP = re.compile(r"\s*(?:[|>›»/•·]|\s\"\s)\s*")
_SENTENCE_END = re.compile(r"[.!?…\"')]$")
_TABLE_EDGE = re.compile(r"^(\s*\|)+|(\s*\|)+$")
_DOTS = re.compile(r"[\s.:…]+$")


def _is_upper_heading(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters) and len(line) <= 120


def _covered_by(words: list[str], phrases: set[str]) -> bool:
    """Can the word sequence be split entirely into known phrases (of up to 5 words)?"""
    ok = [True] + [False] * len(words)
    for i in range(1, len(words) + 1):
        ok[i] = any(ok[j] and " ".join(words[j:i]) in phrases for j in range(max(0, i - 5), i))
    return ok[-1]


def _is_share_line(folded: str) -> bool:
    """Share/like/print buttons, with or without separators: "Chia sẻ Thích", "In bài | Gửi email"."""
    parts = [p.strip() for p in re.split(r"[|/·•,;:]+|\s{2,}", folded) if p.strip()]
    if not parts:
        return False
    for p in parts:
        if _FOLLOW_US.match(p):
            continue
        p = re.sub(r"\(?\d[\d.,]*[km]?\+?\)?", " ", p).strip()  # counters: "12", "1,2k", "(0)"
        if p and not _covered_by(p.split(), SHARE_WORDS):
            return False
    return True


def _is_breadcrumb(folded: str) -> bool:
    """Section menus and breadcrumbs: "Trang chủ | Thời sự | Thế giới", "Trang chủ > Chính trị"."""
    known = SECTION_NAMES | NAV_LINES | RELATED_HEADERS | SHARE_WORDS | set(OUTLETS)
    parts = [p.strip() for p in _CRUMB_SEP.split(folded) if p.strip()]
    if len(parts) >= 2 and all(len(p.split()) <= 5 and not _SENTENCE_END.search(p) for p in parts):
        return any(p in known for p in parts)
    return _covered_by(folded.split(), SECTION_NAMES) and len(folded.split()) >= 4


def _is_masthead(folded: str) -> bool:
    """A site name, alone or with sections/dates: "Nhân Dân điện tử", "Tuổi Trẻ Online - Thời sự"."""
    parts = [p.strip() for p in re.split(r"\s[-|•]\s|\|", folded) if p.strip()]
    if not parts:
        return False
    head = parts[0]
    outlet = head in OUTLETS or (_OUTLET.match(head) and re.search(r"(điện tử|online)$|^(cổng|trang) thông tin", head))
    if not outlet:
        return False
    return all(p in SECTION_NAMES or _PLAYER.match(p) or _DATE_LINE.match(p) or _LICENCE.search(p) for p in parts[1:])


def _looks_like_link_title(line: str) -> bool:
    """A related-article headline: short, no sentence-final punctuation."""
    return len(line) <= 160 and not _SENTENCE_END.search(line)


def is_noise(line: str, title: str | None = None) -> bool:
    """True when a single stripped line is page noise wherever it occurs."""
    folded = _fold(line)
    bare = _DOTS.sub("", folded)
    if bare in NAV_LINES or bare in RELATED_HEADERS:
        return True
    if _PLAYER.match(folded) or _IMAGE_FILE.match(line) or _SLUG.match(line) or _URL.match(line):
        return True
    short_unfinished = len(line) <= 150 and not _SENTENCE_END.search(line)
    if short_unfinished and (_IMAGE_TOKEN.search(line) or _is_masthead(folded)):
        return True
    if _META.match(line) or _SKIP_LINK.match(line):
        return True
    if _DATE_LINE.match(folded) and _HAS_DIGIT.search(folded):
        return True
    if _is_share_line(folded) or _is_breadcrumb(folded) or _FOLLOW_US.match(folded) or _INLINE_RELATED.match(line):
        return True
    if len(line) <= 300 and (_CREDIT_TAIL.search(line) or _CREDIT_WHOLE.match(line)):
        return True
    contact = _CONTACT.match(line) and (_HAS_DIGIT.search(line) or _EMAIL.search(line)) and not line.endswith(".")
    if contact or (_EMAIL.search(line) and len(line) <= 120 and not _SENTENCE_END.search(line)):
        return True
    if len(line) <= 300 and (_COPYRIGHT.search(line) or _LICENCE.search(line)):
        return True
    if title:
        m = _IMAGE_N.match(line)
        if _fold(line) == _fold(title) or (m and _fold(m.group("head")) == _fold(title)):
            return True
    return False


def _is_footer_line(line: str) -> bool:
    if _SENTENCE_END.search(line):  # a finished sentence is never taken for a footer line
        return False
    return bool(_FOOTER_ONLY.match(line)) or _is_upper_heading(line)


_HTML_HINT = re.compile(r"<\s*(?:html|body|head|div|p|br|script|style|span|article|section|meta|a)\b[^>]*>", _FLAGS)


class _TextOfHtml(HTMLParser):
    """The visible text of an HTML page: script, style and head content dropped, block tags become lines."""

    BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "article", "section", "figcaption",
              "title", "header", "footer", "ul", "ol", "table", "blockquote"}
    HIDDEN = {"script", "style", "noscript", "template", "svg"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """The visible text of ``text`` if it is HTML (a saved page), else ``text`` unchanged."""
    if not _HTML_HINT.search(text):
        return text
    parser = _TextOfHtml()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def _kept(lines: list[str]) -> list[bool]:
    """Which of the (stripped, non-empty) lines of a page ``clean`` keeps."""
    keep = [True] * len(lines)
    title = None
    in_related = False
    for i, line in enumerate(lines):
        if in_related:
            if _looks_like_link_title(line) or is_noise(line):
                keep[i] = False
                continue
            in_related = False
        if _DOTS.sub("", _fold(line)) in RELATED_HEADERS:
            in_related = True
            keep[i] = False
            continue
        if is_noise(line, title):
            keep[i] = False
        elif title is None:
            title = line
    # Footer block: the trailing run of footer-like or noise lines.
    for i in range(len(lines) - 1, -1, -1):
        if not keep[i]:
            continue
        if _is_footer_line(lines[i]):
            keep[i] = False
        else:
            break
    return keep


def _tidy(line: str) -> str:
    return _TABLE_EDGE.sub("", line.strip()).strip()


def _is_text_line(line: str) -> bool:
    return bool(line) and any(c.isalnum() for c in line)


def clean(text: str) -> str:
    """Article text without page noise (HTML markup included): one kept line per output line. Idempotent."""
    text = strip_html(text)
    lines = [line for line in map(_tidy, text.splitlines()) if _is_text_line(line)]
    return "\n".join(line for line, k in zip(lines, _kept(lines), strict=True) if k)


# a line between the breaks normalize maps to "\n" (those str.splitlines breaks at), so line numbers agree
_LINE = re.compile("[^\n" + re.escape("".join(_LINE_BREAKS)) + "]+")


def kept_spans(text: str, *, normalized: bool = True) -> list[tuple[int, int]] | None:
    """Character spans of ``text`` as written holding the lines that ``clean`` keeps, so that evidence
    found in the raw text can be restricted to what a model read. ``normalized``: decide on each line as
    ``preprocess`` does, after ``normalize`` (cleaning rules are written for normalised text).

    None for an HTML page: its markup has no line-for-line correspondence with the cleaned text.
    """
    if _HTML_HINT.search(text):
        return None
    spans, lines = [], []
    for m in _LINE.finditer(text):
        line = _tidy(normalize(m.group()) if normalized else m.group())
        if _is_text_line(line):
            spans.append(m.span())
            lines.append(line)
    return [span for span, k in zip(spans, _kept(lines), strict=True) if k]
