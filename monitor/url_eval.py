"""Evaluate on live pages: fetch each URL of a labelled manifest through the project's own fetcher
and extractor (robots.txt, per-host interval, retries, the SSRF guard) into a local cache, and
return the same rows `monitor evaluate --data` reads.

Manifest lines: {"id", "url", "headline", "label", "category", "unsure"?, ...} (models/realset).
The cache keeps one JSON file per URL under `cache_dir`, so a rerun fetches nothing; permanent
failures (404, robots, not HTML) are cached too, transient ones are tried again next time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawlers import extraction
from crawlers.fetching import Fetcher
from crawlers.types import FetchFailure
from monitor.config import CrawlerConfig
from monitor.errors import InputError


@dataclass
class Gathered:
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> pages
    fetched: int = 0  # pages fetched over the network this time (0 on a cached rerun)


def read_manifest(path: Path) -> list[dict[str, Any]]:
    entries = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
            if not isinstance(entry, dict) or "url" not in entry or "label" not in entry:
                raise InputError(f"{path}:{n}: a manifest line needs at least \"url\" and \"label\"")
            entries.append(entry)
    return entries


def _cache_file(cache_dir: Path, url: str) -> Path:
    return cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.json"


async def _gather(entries: list[dict[str, Any]], crawler: CrawlerConfig, cache_dir: Path, transport: Any = None) -> Gathered:
    out = Gathered()
    cache_dir.mkdir(parents=True, exist_ok=True)
    pending: list[dict[str, Any]] = []
    cached: dict[str, dict[str, Any]] = {}
    for e in entries:
        f = _cache_file(cache_dir, e["url"])
        if f.exists():
            cached[e["url"]] = json.loads(f.read_text(encoding="utf-8"))
        else:
            pending.append(e)

    async with Fetcher(crawler, transport=transport) as fetcher:

        async def one(e: dict[str, Any]) -> None:
            result = await fetcher.fetch(e["url"], kind="page")
            out.fetched += 1
            if isinstance(result, FetchFailure):
                record = {"failure": result.reason, "detail": result.detail}
                if result.permanent:
                    _cache_file(cache_dir, e["url"]).write_text(json.dumps(record), encoding="utf-8")
            else:
                record = {"final_url": result.final_url, "html": result.text}
                _cache_file(cache_dir, e["url"]).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            cached[e["url"]] = record

        await asyncio.gather(*(one(e) for e in pending))

    for e in entries:
        record = cached.get(e["url"], {"failure": "not_fetched"})
        if "failure" in record:
            out.skipped[record["failure"]] += 1
            continue
        article = extraction.extract_article(record["html"], record["final_url"])
        if article is None:
            out.skipped["no_article"] += 1
            continue
        out.rows.append(
            {
                "id": e.get("id"), "url": e["url"], "title": article.title or e.get("headline", ""), "text": article.text,
                "label": int(e["label"]), "category": e.get("category"), "unsure": bool(e.get("unsure", False)),
            }
        )
    return out


def gather_manifest(manifest: Path, crawler: CrawlerConfig, cache_dir: Path, transport: Any = None) -> Gathered:
    """Rows for `models.evaluation` from a manifest of labelled URLs (fetched or from the cache)."""
    return asyncio.run(_gather(read_manifest(manifest), crawler, cache_dir, transport))
