"""Headline words that name the diplomatic activity (the title shortcut the corpus must avoid in most titles).

A headline with one of ``CUES`` gives its topic away (``điện đàm`` -> phone_call, ``điện mừng`` -> message,
``ký kết`` -> agreement...). Used by ``scripts/check_v2_part.py`` (writers' check) and
``scripts/data_card.py`` (share of cue headlines per split). Matching is a lowercase substring test.
"""

from __future__ import annotations

CUES = ("điện đàm", "điện mừng", "thư mừng", "chia buồn", "hội đàm", "tiếp đại sứ", "tiếp bộ trưởng", "hội kiến",
        "thăm chính thức", "thăm cấp nhà nước", "thăm làm việc", "ký kết", "ký hiệp định", "ký thỏa thuận",
        "bản ghi nhớ", "người phát ngôn", "trả lời phỏng vấn", "công dân", "bảo hộ", "sơ tán", "trình quốc thư",
        "hội nghị cấp cao", "điện thoại", "trực tuyến", "phỏng vấn", "họp báo", "miễn thị thực")


def has_activity_cue(title: str) -> bool:
    """Whether a headline contains one of ``CUES``."""
    low = title.lower()
    return any(c in low for c in CUES)
