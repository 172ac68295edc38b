"""`monitor evaluate --urls`: fetch a labelled manifest through the crawler into a cache; pages
that fail are skipped and counted; a rerun fetches nothing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from monitor import demosite
from monitor.config import CrawlerConfig
from monitor.errors import InputError
from monitor.url_eval import gather_manifest, read_manifest


def _manifest(path: Path, site: demosite.DemoSite) -> Path:
    lines = [
        {"id": f"t-{i}", "url": f"{site.base_url}/berita/{a.slug}", "headline": a.title, "label": a.expected_label,
         "category": "incident" if a.expected_label else ("ordinary" if a.kind == "ordinary" else "appeal")}
        for i, a in enumerate(site.articles[:12])
    ]
    lines.append({"id": "t-gone", "url": f"{site.base_url}/berita/tidak-ada", "headline": "hilang", "label": 0, "category": "ordinary"})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_gather_skips_failures_and_caches(tmp_path: Path) -> None:
    crawler = dataclasses.replace(CrawlerConfig(), allow_private_addresses=True, per_host_interval=0.0)
    with demosite.serve() as site:
        manifest = _manifest(tmp_path / "m.jsonl", site)
        first = gather_manifest(manifest, crawler, tmp_path / "cache")
        second = gather_manifest(manifest, crawler, tmp_path / "cache")
    assert len(first.rows) == 12 and first.skipped == {"http_404": 1}
    assert first.fetched == 13 and second.fetched == 0
    assert [r["id"] for r in second.rows] == [r["id"] for r in first.rows]
    row = first.rows[0]
    assert row["title"] == site.articles[0].title and row["label"] == site.articles[0].expected_label
    assert "Baca juga" not in row["text"]


def test_malformed_manifest_line(tmp_path: Path) -> None:
    bad = tmp_path / "m.jsonl"
    bad.write_text('{"url": "http://x", "label": 1}\n{not json\n')
    with pytest.raises(InputError, match=r"m.jsonl:2: not valid JSON"):
        read_manifest(bad)
