"""Enrichment: which province and kabupaten/kota an article is about, from the gazetteer.

Counts mentions of regency names ("Kabupaten Bone", "Kab. Bone", "Kota Makassar", or the bare
name after a dateline) and of province names; the most-mentioned regency wins and brings its
province. Falls back to the source's configured region.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from pathlib import Path

WILAYAH = Path(__file__).resolve().parent.parent / "models" / "data" / "wilayah"


@functools.cache
def _gazetteer() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str, str, float]]]:
    provinces: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str, str, float]] = []
    if not (WILAYAH / "provinces.csv").exists():
        return provinces, patterns
    with open(WILAYAH / "provinces.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            provinces[row["code"]] = row["name"]
    with open(WILAYAH / "regencies.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    bare_names = Counter(re.sub(r"^(Kabupaten|Kota)\s+", "", r["name"]) for r in rows)
    for row in rows:
        full = row["name"]
        bare = re.sub(r"^(Kabupaten|Kota)\s+", "", full)
        prefix = "Kota" if row["kind"] == "kota" else r"(?:Kabupaten|Kab\.)"
        province = provinces[row["province_code"]]
        patterns.append((re.compile(rf"\b{prefix}\s+{re.escape(bare)}\b", re.IGNORECASE), full, province, 1.0))
        # A bare, capitalised name ("di Lombok Timur") counts less, and only when it is unambiguous.
        if bare_names[bare] == 1 and bare not in provinces.values():
            patterns.append((re.compile(rf"(?<![\w.]){re.escape(bare)}\b"), full, province, 0.5))
    return provinces, patterns


def locate(text: str, fallback: str | None = None) -> tuple[str | None, str | None]:
    """(province, regency) mentioned most in `text`, else the fallback region."""
    provinces, patterns = _gazetteer()
    counts: Counter[tuple[str, str]] = Counter()
    for pattern, regency, province, weight in patterns:
        n = len(pattern.findall(text))
        if n:
            counts[(province, regency)] += n * weight
    if counts:
        (province, regency), _ = counts.most_common(1)[0]
        return province, regency
    prov_counts = Counter({name: text.count(name) for name in provinces.values()})
    prov_counts = +prov_counts
    if prov_counts:
        return prov_counts.most_common(1)[0][0], None
    if fallback and fallback in provinces.values():
        return fallback, None
    return fallback, None
