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

_FLAGS = re.IGNORECASE | re.UNICODE


def _fold(line: str) -> str:
    """Casefolded NFC line with plain dots (for matching only)."""
    return unicodedata.normalize("NFC", line).replace("…", "...").casefold()


# Whole-line widgets (compared after casefolding, trailing dots/colons ignored).
NAV_LINES = {
    "chờ", "đang tải", "loading", "nhảy đến nội dung", "bỏ qua nội dung", "skip to content",
    "trang chủ", "menu", "logo", "quay lại", "về đầu trang", "lên đầu trang", "nghe bài viết",
    "nghe đọc bài", "tự động phát", "in bài", "in bài viết", "theo dõi", "đăng nhập", "đăng ký",
    "tìm kiếm", "quảng cáo", "advertisement", "video", "audio", "photo", "ảnh", "infographic",
}
# Headers that open a list of links to other articles; the list below goes with them.
RELATED_HEADERS = {
    "tin cùng chuyên mục", "tin liên quan", "bài liên quan", "tin khác", "các tin khác",
    "tin mới", "tin mới nhất", "tin đọc nhiều", "đọc nhiều", "đọc thêm", "xem thêm", "xem tiếp",
    "có thể bạn quan tâm", "bạn có thể quan tâm", "tin nổi bật", "tin tức liên quan",
    "bài viết liên quan", "related", "related news", "more news", "cùng chuyên mục",
}
SHARE_WORDS = {
    "chia sẻ", "share", "thích", "like", "tweet", "bình luận", "gửi bình luận", "lưu", "lưu bài",
    "in", "email", "gửi email", "facebook", "zalo", "twitter", "x", "copy link", "sao chép liên kết",
    "linkedin", "telegram", "messenger", "bookmark", "báo lỗi", "góp ý", "font", "cỡ chữ", "a+",
    "a-", "a", "google news", "theo dõi trên google news",
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
    r"^(e-?mail|điện thoại|đt|tel|telephone|phone|hotline|fax|đường dây nóng)\b.{0,120}$", _FLAGS
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
_SENTENCE_END = re.compile(r"[.!?…\"')]$")
_TABLE_EDGE = re.compile(r"^(\s*\|)+|(\s*\|)+$")
_DOTS = re.compile(r"[\s.:…]+$")


def _is_upper_heading(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters) and len(line) <= 120


def _is_share_line(folded: str) -> bool:
    parts = [p.strip() for p in re.split(r"[|/·•,;]+|\s{2,}", folded) if p.strip()]
    if not parts:
        return False
    for p in parts:
        p = re.sub(r"\(?\d[\d.,]*[km]?\+?\)?", " ", p).strip()  # counters: "12", "1,2k"
        if p and p not in SHARE_WORDS:
            return False
    return True


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
    if _DATE_LINE.match(folded) and _HAS_DIGIT.search(folded):
        return True
    if _is_share_line(folded):
        return True
    if len(line) <= 300 and (_CREDIT_TAIL.search(line) or _CREDIT_WHOLE.match(line)):
        return True
    contact = _CONTACT.match(line) and (_HAS_DIGIT.search(line) or _EMAIL.search(line))
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


def clean(text: str) -> str:
    """Article text without page noise: one kept line per output line. Idempotent."""
    lines = [_TABLE_EDGE.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and any(c.isalnum() for c in line)]
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
    return "\n".join(line for line, k in zip(lines, keep, strict=True) if k)
