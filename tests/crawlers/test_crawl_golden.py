"""Golden extraction tests: gzipped HTML snapshots of Indonesian outlet layouts -> expected JSON.

Regenerate after an intended extractor change with `.venv/bin/python scripts/make_golden.py`
and review the diff of tests/crawlers/golden/*.json.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from crawlers.extraction import extract_article

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name.removesuffix(".json") for p in GOLDEN.glob("*.json"))
BOILERPLATE = ["Baca juga", "ADVERTISEMENT", "SCROLL TO CONTINUE", "Simak Video", "Gambas", "Ikuti kami", "Artikel ini telah tayang",
               "COPYRIGHT", "Pewarta:", "Editor:", "Bagikan", "Terpopuler", "Facebook", "Beranda", "All rights reserved"]  # fmt: skip


def test_there_are_golden_cases():
    assert len(CASES) >= 5


@pytest.mark.parametrize("name", CASES)
def test_golden_extraction(name):
    case = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    html = gzip.decompress((GOLDEN / f"{name}.html.gz").read_bytes()).decode("utf-8")
    article = extract_article(html, case["url"])
    assert article is not None, f"{name}: no article; if the layout changed, run scripts/make_golden.py"
    got = {
        "url": article.url,
        "title": article.title,
        "text": article.text,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "author": article.author,
        "language": article.language,
        "content_hash": article.content_hash,
    }
    assert got == case["expected"], f"{name} differs from its golden file; if intended, run scripts/make_golden.py and review the diff"


@pytest.mark.parametrize("name", CASES)
def test_golden_text_has_no_boilerplate(name):
    text = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))["expected"]["text"]
    assert not [b for b in BOILERPLATE if b.lower() in text.lower()]
    assert text.split(" - ", 1)[0].isupper()  # starts at the dateline city, not in the navigation
