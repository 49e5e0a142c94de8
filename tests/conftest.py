"""Shared fixtures: the tiny config (random 2-layer BERT, committed tokenizer) and in-memory articles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
TINY_ENCODER = ROOT / "diploml" / "resources" / "encoders" / "tiny-bert"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    # configs name paths relative to the repository root
    monkeypatch.chdir(ROOT)


def tiny_config(tmp_path: Path, **sections):
    """configs/tiny.yaml with overrides given as {section: {key: value}}."""
    from diploml.config import load_config

    overrides = [f"training.output_dir={tmp_path / 'run'}", "training.logging_steps=1000"]
    for section, values in sections.items():
        for key, value in values.items():
            overrides.append(f"{section}.{key}={value}")
    return load_config(ROOT / "configs" / "tiny.yaml", overrides)


# Eight short, distinct articles: enough for a tiny model to memorise. Two mention a country that is
# no partner (Korea as an example, the USA as a venue), so the partners task has negatives to learn.
EASY = [
    ("Thủ tướng thăm chính thức Lào, hội đàm về đường sắt và thương mại.", "visit", ["southeast_asia"],
     ["transport", "economy_trade"], ["LA"]),
    ("Chủ tịch nước tiếp Đại sứ Pháp trình quốc thư tại Hà Nội.", "meeting", ["europe"], ["politics_diplomacy"],
     ["FR"]),
    ("Bộ trưởng điện đàm với người đồng cấp Nhật Bản về đầu tư và lao động, như Hàn Quốc từng làm.", "phone_call",
     ["northeast_asia"], ["investment_finance", "labour_migration"], ["JP"]),
    ("Việt Nam phát biểu tại phiên họp Đại hội đồng Liên hợp quốc về khí hậu.", "multilateral", ["international"],
     ["climate_environment"], ["ORG:UN"]),
    ("Hai nước ký hiệp định miễn thị thực và hợp tác giáo dục với Brazil tại hội nghị ở Mỹ.", "agreement",
     ["latin_america"], ["education", "labour_migration"], ["BR"]),
    ("Người phát ngôn trả lời câu hỏi về Biển Đông và an ninh khu vực với Ấn Độ.", "statement", ["south_asia"],
     ["defense_security"], ["IN"]),
    ("Điện mừng Quốc khánh gửi Tổng thống Nam Phi, chúc hợp tác y tế phát triển.", "message", ["africa"], ["health"],
     ["ZA"]),
    ("Bảo hộ công dân Việt Nam tại Australia sau bão, hỗ trợ du lịch trở lại.", "consular", ["oceania"],
     ["tourism", "climate_environment"], ["AU"]),
]


def easy_articles(prefix: str = "a"):
    from diploml.data import Article

    return [Article(id=f"{prefix}{i}", title="", text=text, partners=list(partners),
                    labels={"topic": topic, "regions": regions, "sectors": sectors, "partners": list(partners)})
            for i, (text, topic, regions, sectors, partners) in enumerate(EASY)]
