"""Regenerate the golden extraction files in tests/crawlers/golden/ (fundus generate_parser_test_files style).

Each case is a gzipped HTML snapshot (`NAME.html.gz`) and the expected article (`NAME.json`: url,
crawl date, title, text, published_at, author, language, content_hash). Snapshots are written
from the benchmark's outlet templates (detik-, kompas-, tribun-, antara-, WordPress-like; fictional
people) only when missing or with `--snapshots`; expected JSON is always rewritten from the
current extractor, so review the diff before committing.

    .venv/bin/python scripts/make_golden.py              # refresh expected JSON
    .venv/bin/python scripts/make_golden.py --snapshots  # also rewrite the HTML snapshots
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

GOLDEN = ROOT / "tests" / "crawlers" / "golden"
CASES = {"detik": 0, "kompas": 1, "tribun": 2, "antara": 3, "wordpress": 4}
CRAWL_DATE = "2024-12-20"


def case_url(name: str, index: int) -> str:
    return f"https://{name}.example.id/berita/{index}/asn-tak-netral"


def expected(html: str, url: str) -> dict:
    from crawlers.extraction import extract_article

    article = extract_article(html, url)
    if article is None:
        raise SystemExit(f"{url}: no article extracted")
    return {
        "url": url,
        "crawl_date": CRAWL_DATE,
        "expected": {
            "url": article.url,
            "title": article.title,
            "text": article.text,
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "author": article.author,
            "language": article.language,
            "content_hash": article.content_hash,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snapshots", action="store_true", help="rewrite the HTML snapshots too")
    args = parser.parse_args()
    from bench_crawl import make_page

    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, index in CASES.items():
        snapshot = GOLDEN / f"{name}.html.gz"
        url = case_url(name, index)
        if args.snapshots or not snapshot.exists():
            snapshot.write_bytes(gzip.compress(make_page(index, host=f"{name}.example.id").encode(), mtime=0))
        html = gzip.decompress(snapshot.read_bytes()).decode("utf-8")
        (GOLDEN / f"{name}.json").write_text(json.dumps(expected(html, url), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {name}.json")


if __name__ == "__main__":
    main()
