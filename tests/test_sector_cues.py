"""The sector cue check: omissions found, background and excluded phrases not reported."""

from __future__ import annotations

from diploml.data.sector_cues import CUES, EXCLUDE, cue_hits, cue_sectors, is_cooperation, likely_omissions, normalise
from diploml.tasks import DEFAULT_SCHEMA, load_task_schema


def _rec(text, sectors=(), title="Tin đối ngoại"):
    return {"id": "t1", "title": title, "text": text, "sectors": list(sectors)}


def test_cue_table_covers_exactly_the_schema_sectors():
    labels = next(t.labels for t in load_task_schema(DEFAULT_SCHEMA) if t.name == "sectors")
    assert list(CUES) == list(labels)
    assert set(EXCLUDE) <= set(CUES)
    assert all(cues for cues in CUES.values())


def test_supply_chain_cooperation_is_a_likely_industry_omission():
    rec = _rec("Hai bên nhất trí tăng cường hợp tác thương mại, kết nối chuỗi cung ứng và du lịch.",
               sectors=["economy_trade", "tourism"])
    found = likely_omissions(rec)
    assert [(s, c) for s, c, _ in found] == [("industry", "chuỗi cung ứng")]
    assert "chuỗi cung ứng" in found[0][2]


def test_one_item_of_a_list_is_enough_and_tagged_sectors_are_not_reported():
    rec = _rec("Thủ tướng khuyến khích các tập đoàn Ấn Độ đầu tư vào hạ tầng, dược phẩm, dệt may.",
               sectors=["investment_finance", "transport", "industry"])
    assert [s for s, _, _ in likely_omissions(rec)] == ["health"]
    rec["sectors"].append("health")
    assert likely_omissions(rec) == []


def test_background_mention_is_not_reported():
    # the partner's own economy, told without any cooperation marker
    rec = _rec("Thành phố đăng cai là một trung tâm công nghiệp ô tô, đóng tàu sầm uất. "
               "Nền kinh tế của nước chủ nhà phát triển nhờ chuỗi cung ứng điện tử.", sectors=[])
    assert cue_sectors(rec["text"]) >= {"industry"}
    assert likely_omissions(rec) == []


def test_excluded_phrases_do_not_count_as_cues():
    text = "Hai bên nhất trí cải thiện môi trường đầu tư. Lễ đón diễn ra lúc 9 giờ địa phương."
    assert cue_hits(text, "climate_environment") == []
    assert cue_hits(text, "people_to_people") == []
    assert likely_omissions(_rec(text, sectors=["investment_finance"])) == []
    # ... but the same cue outside the phrase does
    assert cue_hits("Hai bên hợp tác bảo vệ môi trường.", "climate_environment")[0][0] == "môi trường"


def test_whole_words_and_normalised_spelling():
    # "ô tô" must not match inside another word; tone placement and case are normalised
    assert cue_hits("Xe hơi được gọi là ôtôx.", "industry") == []
    assert cue_hits("HAI BÊN HỢP TÁC VỀ Y TẾ", "health") == [("y tế", "hai bên hợp tác về y tế")]
    assert normalise("Hoà  bình\nThuỵ Sĩ") == "hòa bình\nthụy sĩ"


def test_is_cooperation_needs_a_relation_marker_and_no_background_marker():
    assert is_cooperation("hai bên nhất trí thúc đẩy hợp tác dược phẩm")
    assert not is_cooperation("ngành dược phẩm phát triển mạnh")
    assert not is_cooperation("hợp tác phát triển dược phẩm trong nước")
