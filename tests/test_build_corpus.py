"""Corpus v2 build: the shortest corpus-v1 articles are retired down to the target, corpus-v2 ones never."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("build_corpus", ROOT / "scripts" / "build_corpus.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


def test_retire_short_v1_keeps_the_target_and_every_v2_article():
    v1 = [{"id": f"a{i}", "text": "x " * (10 + i)} for i in range(5)]
    v2 = [{"id": f"g{i}", "text": "y", "event": f"e{i}"} for i in range(3)]  # short, but never retired
    kept, retired = build.retire_short_v1(v1 + v2, target=6)
    assert retired == ["a0", "a1"] and len(kept) == 6 and all(r in kept for r in v2)
    kept, retired = build.retire_short_v1(v1 + v2, target=2)
    assert len(retired) == 5 and [r["id"] for r in kept] == ["g0", "g1", "g2"]  # below target: v2 stays
    assert build.retire_short_v1(v1 + v2, target=100)[1] == []
