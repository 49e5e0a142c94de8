"""Cue phrases of the annotation guide's sectors, and a check for sectors a record likely omits.

The table ``CUES`` maps each sector to Vietnamese phrases taken from the guide's sector table
(``shared/annotation-guide.md``, column *covers*) and its rulings (vaccine donations -> health; relief
aid after a disaster -> climate_environment and investment_finance; dioxin clean-up ->
climate_environment; a peacekeeping field hospital -> defense_security and health).

Matching is on normalised (``diploml.text.normalize``), lowercased text, whole words only.
``EXCLUDE`` lists phrases that contain a cue without meaning the sector ("môi trường đầu tư" is the
investment climate, "giờ địa phương" is local time); they are blanked before that sector is matched.

A cue is reported as a *likely omission* only when its sentence reads as cooperation between
Vietnam and the partner: the sentence carries a relation marker (``hợp tác``, ``hai bên``, ``thúc đẩy``,
``nhất trí``, ``lĩnh vực``...) and no background marker (``nước chủ nhà``, ``trong nước``, ``của nước bạn``...).
The guide asks for a sector only when the article names it as an area of cooperation, also as one
item of a list, and not for background (a partner's domestic matter, the venue's economy, praise of
Vietnam's record). The check is a filter for a human reviewer, not a labeller.

Conventions fixed while reviewing the corpus with this check (2026-12, issue #10): products in a
trade list count for their sector (``dệt may`` -> industry, ``dược phẩm`` -> health, like ``thủy sản`` ->
agriculture); customs tariffs are trade, not the taxation agreements of investment_finance;
semiconductors are science_technology (the guide's table), so ``công nghiệp bán dẫn`` alone does not
make industry; evacuation flights and transit in consular items stay labour_migration (no transport);
Vietnam's own record at a forum (its growth drivers, its net-zero pledge) is background.
"""

from __future__ import annotations

import re
from functools import cache

from diploml.text import normalize

CUES: dict[str, tuple[str, ...]] = {
    "politics_diplomacy": (
        "tin cậy chính trị", "trao đổi đoàn", "tiếp xúc cấp cao", "trao đổi cấp cao", "kênh đảng",
        "kênh quốc hội", "hợp tác giữa hai đảng", "hợp tác giữa hai quốc hội", "nâng cấp quan hệ",
        "phối hợp chặt chẽ tại các diễn đàn", "ủng hộ lẫn nhau tại các diễn đàn", "cơ chế tham vấn chính trị",
    ),
    "defense_security": (
        "quốc phòng", "gìn giữ hòa bình", "an ninh mạng", "tội phạm mạng", "tội phạm xuyên quốc gia", "khủng bố",
        "chống khủng bố", "biển đông", "unclos", "công ước liên hợp quốc về luật biển năm 1982", "bán đảo triều tiên",
        "hợp tác an ninh", "công an", "cảnh sát",
    ),
    "economy_trade": (
        "thương mại", "kim ngạch", "xuất khẩu", "nhập khẩu", "mở cửa thị trường", "hiệp định thương mại tự do",
        "fta", "xúc tiến thương mại",
    ),
    "investment_finance": (
        "đầu tư", "oda", "viện trợ", "ngân hàng", "tài chính", "thuế", "bảo hộ đầu tư", "tránh đánh thuế hai lần",
        "cứu trợ",
    ),
    "industry": (
        "công nghiệp", "công nghiệp chế biến", "chế biến, chế tạo", "chế tạo", "dệt may", "ô tô", "khu công nghiệp",
        "chuỗi cung ứng", "công nghiệp hỗ trợ",
    ),
    "energy": (
        "năng lượng", "dầu khí", "điện lực", "chuyển đổi năng lượng", "jetp", "điện hạt nhân", "năng lượng tái tạo",
        "điện gió", "điện mặt trời", "khí đốt",
    ),
    "agriculture": (
        "nông nghiệp", "nông sản", "thủy sản", "nghề cá", "an ninh lương thực", "iuu",
    ),
    "transport": (
        "giao thông", "vận tải", "logistics", "quá cảnh", "hàng không", "đường bay thẳng", "bay thẳng", "cảng biển",
        "đường sắt", "kết nối hạ tầng", "cơ sở hạ tầng",
    ),
    "science_technology": (
        "khoa học", "công nghệ", "đổi mới sáng tạo", "chuyển đổi số", "viễn thông", "công nghệ thông tin", "fintech",
        "thương mại điện tử", "bán dẫn", "trí tuệ nhân tạo", "kinh tế số",
    ),
    "education": (
        "giáo dục", "đào tạo", "nguồn nhân lực", "học bổng", "trường đại học",
    ),
    "culture_sports": (
        "văn hóa", "thể thao", "nghệ thuật", "di sản", "truyền thông", "hợp tác báo chí",
    ),
    "tourism": (
        "du lịch", "du khách", "khách du lịch",
    ),
    "labour_migration": (
        "hợp tác lao động", "người lao động", "lao động việt nam", "cộng đồng người việt", "kiều bào",
        "bảo hộ công dân", "miễn thị thực",
    ),
    "people_to_people": (
        "giao lưu nhân dân", "ngoại giao nhân dân", "hợp tác địa phương", "giữa các địa phương", "hội hữu nghị",
        "giao lưu thanh niên", "giao lưu giữa nhân dân",
    ),
    "climate_environment": (
        "biến đổi khí hậu", "môi trường", "chuyển đổi xanh", "tăng trưởng xanh", "thiên tai", "ứng phó thiên tai",
        "tài nguyên nước", "mekong", "mê công", "cứu trợ", "dioxin",
    ),
    "health": (
        "y tế", "dược phẩm", "vắc xin", "vắc-xin", "vaccine", "đại dịch", "chăm sóc sức khỏe", "bệnh viện dã chiến",
    ),
}

# Phrases blanked before a sector's cues are matched: they contain a cue but mean something else (a
# ministry's name, local time, the investment climate, customs tariffs, "before the pandemic").
EXCLUDE: dict[str, tuple[str, ...]] = {
    "politics_diplomacy": (),
    "defense_security": ("an ninh lương thực", "an ninh năng lượng", "an ninh nguồn nước"),
    "economy_trade": ("thương mại điện tử", "thương mại số", "xuất khẩu lao động", "chuyến bay thương mại",
                      "dòng dầu thương mại", "nước xuất khẩu gạo", "nhà xuất khẩu gạo"),
    "investment_finance": ("thuế quan", "thuế nhập khẩu", "dòng thuế", "thuế đối ứng", "áp thuế", "xóa bỏ thuế",
                           "giảm thuế", "thuế 0%", "ưu đãi thuế", "khủng hoảng tài chính", "đầu tư nước ngoài cuba",
                           "ngoại thương và đầu tư"),
    "industry": ("cách mạng công nghiệp", "công nghiệp bán dẫn", "công nghiệp hóa", "kinh tế và công nghiệp",
                 "thương mại, công nghiệp và năng lượng", "nhóm các nước công nghiệp", "nước công nghiệp phát triển",
                 "bằng xe ô tô", "bằng ô tô", "tiền công nghiệp", "cây công nghiệp", "công nghiệp văn hóa"),
    "energy": ("thương mại, công nghiệp và năng lượng",),
    "agriculture": ("bộ trưởng nông nghiệp và phát triển nông thôn", "bộ nông nghiệp và phát triển nông thôn"),
    "transport": ("ngoại giao thông", "bộ giao thông vận tải", "hàng hải và hàng không", "hàng hải, hàng không",
                  "hạ tầng dữ liệu", "hạ tầng số", "chuyến bay thương mại"),
    "science_technology": ("khoa học xã hội", "tội phạm công nghệ cao", "tội phạm sử dụng công nghệ cao",
                           "hội thảo khoa học"),
    "education": ("bộ nguồn nhân lực", "bộ trưởng nguồn nhân lực", "đào tạo bóng đá"),
    "culture_sports": ("văn hóa - xã hội", "văn hóa-xã hội", "nhà văn hóa"),
    "tourism": ("tài nguyên cơ bản và du lịch",),
    "labour_migration": (),
    "people_to_people": ("giờ địa phương",),
    "climate_environment": ("môi trường đầu tư", "môi trường kinh doanh", "môi trường hòa bình", "môi trường an ninh",
                            "môi trường thuận lợi", "môi trường chính trị", "môi trường quốc tế", "môi trường khu vực",
                            "môi trường ổn định", "môi trường đa quốc gia", "mekong - sông hằng",
                            "mê công - sông hằng"),
    "health": ("trước đại dịch", "sau đại dịch", "bất chấp đại dịch", "bối cảnh đại dịch", "đại dịch qua đi"),
}

# A sentence that names cooperation between the two sides (one of these words) may be a cooperation area.
RELATION_MARKERS = (
    "hợp tác", "hai bên", "hai nước", "hai phía", "song phương", "thúc đẩy", "tăng cường", "mở rộng", "nhất trí",
    "đề nghị", "đề xuất", "cam kết", "thỏa thuận", "bản ghi nhớ", "hiệp định", "lĩnh vực", "phối hợp", "hỗ trợ",
    "giúp đỡ", "viện trợ", "trao tặng", "tài trợ", "kết nối", "đối tác", "kim ngạch", "đầu tư vào việt nam",
    "doanh nghiệp hai", "hai nền kinh tế", "việt nam và", "giữa việt nam", "với việt nam", "cùng nhau",
    "chia sẻ kinh nghiệm", "mong muốn", "sẵn sàng", "hoan nghênh", "cảm ơn", "ký kết", "triển khai", "dự án",
    "xuất khẩu", "nhập khẩu", "mở cửa", "tăng mua", "có thể bán", "học hỏi", "khuyến khích", "đầu tư vào",
    "có mặt tại", "bàn về", "trao đổi về",
)
# Words that mark a sentence as background (the partner's or the venue's own affairs).
BACKGROUND_MARKERS = (
    "nước chủ nhà", "trong nước", "thị trường nội địa", "của nước bạn", "của nước này", "của quốc gia này",
    "thành tựu của", "thành tựu mà việt nam", "thành tựu phát triển", "ngành công nghiệp của", "nền kinh tế của",
)

_SENTENCE_END = re.compile(r"[.!?;:\n]+")


def normalise(text: str) -> str:
    """Normalised lowercase text with single spaces inside lines (the form cues are matched on)."""
    return "\n".join(" ".join(line.split()) for line in normalize(text).lower().split("\n"))


def _alternation(phrases) -> re.Pattern | None:
    """Whole-word regex matching any of ``phrases`` (longest first; spaces match any whitespace)."""
    if not phrases:
        return None
    alts = sorted({normalise(p) for p in phrases}, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in alts)
    return re.compile(r"(?<!\w)(?:" + body + r")(?!\w)")


@cache
def _patterns(sector: str) -> tuple[re.Pattern, re.Pattern | None]:
    return _alternation(CUES[sector]), _alternation(EXCLUDE.get(sector, ()))


_RELATION = _alternation(RELATION_MARKERS)
_BACKGROUND = _alternation(BACKGROUND_MARKERS)


def sentences(text: str) -> list[str]:
    """The sentences of normalised ``text`` (split at . ! ? ; : and line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def is_cooperation(sentence: str) -> bool:
    """Whether a (normalised) sentence reads as cooperation rather than background."""
    return bool(_RELATION.search(sentence)) and not _BACKGROUND.search(sentence)


def _masked(sent: str, sector: str) -> str:
    excl_re = _patterns(sector)[1]
    return excl_re.sub(lambda m: " " * len(m.group()), sent) if excl_re else sent


def cue_hits(text: str, sector: str) -> list[tuple[str, str]]:
    """(cue, sentence) for every cue of ``sector`` in ``text``, exclusion phrases blanked first."""
    cue_re = _patterns(sector)[0]
    return [(" ".join(m.group().split()), sent) for sent in sentences(normalise(text))
            for m in cue_re.finditer(_masked(sent, sector))]


def cue_sectors(text: str) -> set[str]:
    """The sectors one of whose cues occurs anywhere in ``text`` (background or not)."""
    sents = sentences(normalise(text))
    return {sector for sector in CUES if any(_patterns(sector)[0].search(_masked(s, sector)) for s in sents)}


def likely_omissions(record: dict) -> list[tuple[str, str, str]]:
    """(sector, cue, snippet) for each sector the guide likely asks for but ``record["sectors"]`` lacks.

    One entry per missing sector: the first cue found in a sentence that reads as cooperation. A cue
    found only in background sentences (or inside an excluded phrase) is not reported.
    """
    sents = sentences(normalise(f"{record.get('title', '')}\n{record.get('text', '')}"))
    coop = [s for s in sents if is_cooperation(s)]
    have = set(record.get("sectors") or [])
    out = []
    for sector in CUES:
        if sector in have:
            continue
        cue_re = _patterns(sector)[0]
        for sent in coop:
            m = cue_re.search(_masked(sent, sector))
            if m:
                out.append((sector, " ".join(m.group().split()), _snippet(sent, m.start(), m.end())))
                break
    return out


def _snippet(sentence: str, start: int, end: int, width: int = 90) -> str:
    lo, hi = max(0, start - width), min(len(sentence), end + width)
    return ("…" if lo else "") + sentence[lo:hi] + ("…" if hi < len(sentence) else "")
