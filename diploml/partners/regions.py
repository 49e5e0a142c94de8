"""ISO 3166-1 alpha-2 codes and ``ORG:`` partners mapped to the guide's region labels (UN M49)."""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

INTERNATIONAL = "international"


@lru_cache(maxsize=1)
def m49_table() -> dict[str, dict[str, str]]:
    """Rows of ``resources/m49_regions.csv`` keyed by ISO alpha-2 code."""
    text = resources.files("diploml").joinpath("resources/m49_regions.csv").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return {row["iso2"]: row for row in csv.DictReader(lines)}


def region_of(partner: str) -> str:
    """Region label of one partner: an ISO code or ``ORG:<name>``.

    Raises KeyError naming the partner when the code is unknown.
    """
    if partner.startswith("ORG:"):
        if len(partner) <= 4:
            raise KeyError(f"empty organisation name in partner {partner!r}")
        return INTERNATIONAL
    row = m49_table().get(partner)
    if row is None:
        raise KeyError(f"unknown partner code {partner!r} (expected ISO 3166-1 alpha-2 or ORG:<name>)")
    return row["region"]


def regions_of(partners) -> list[str]:
    """Sorted, de-duplicated region labels of a list of partners."""
    return sorted({region_of(p) for p in partners})
