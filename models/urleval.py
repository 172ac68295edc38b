"""Evaluate a model on live pages listed in a labelled-URL manifest (`monitor evaluate --urls`).

Each manifest line is `{"url", "headline"?, "label", "category", "unsure"?, ...}` (the format of
`models/realset/manifest.jsonl`). Pages are fetched through the project's own `crawlers.fetching
.Fetcher` (robots.txt, per-host interval, retries, size limit, address guard: all from the
`crawler:` config) and read by `crawlers.extraction.extract_article`. Every extracted page is kept
in a local cache folder (one JSON file per URL, named by the URL's sha256) so a rerun fetches
nothing. Pages that fail to fetch or have no article text are skipped and counted by reason.

Config keys read: `crawler.*` (through the Fetcher), by the CLI: `classifier.*`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.training import Example
from monitor.config import CrawlerConfig
from monitor.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path("var/url_cache")


@dataclass
class UrlEvalData:
    examples: list[Example]
    skipped: Counter[str] = field(default_factory=Counter)
    fetched: int = 0
    from_cache: int = 0


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """The manifest's records; a malformed line raises InputError naming FILE:LINE."""
    out = []
    path = Path(path)
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("url"), str):
            raise InputError(f'{path}:{n}: expected an object with "url"')
        if rec.get("label") not in (0, 1):
            raise InputError(f'{path}:{n}: "label" must be 0 or 1')
        out.append(rec)
    return out


def _cache_file(cache: Path, url: str) -> Path:
    return cache / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()}.json"


async def _fetch_all(urls: list[str], config: CrawlerConfig, transport: Any = None) -> dict[str, dict[str, str] | str]:
    """url -> {"title", "text", "final_url"} or a failure reason code."""
    from crawlers.extraction import extract_article
    from crawlers.fetching import Fetcher
    from crawlers.types import FetchFailure

    results: dict[str, dict[str, str] | str] = {}
    gate = asyncio.Semaphore(max(1, config.concurrency))

    async with Fetcher(config, transport=transport) as fetcher:

        async def one(url: str) -> None:
            async with gate:
                page = await fetcher.fetch(url)
            if isinstance(page, FetchFailure):
                log.warning("skipped %s: %s (%s)", url, page.reason, page.detail)
                results[url] = page.reason
                return
            article = await asyncio.to_thread(extract_article, page.text, page.final_url)
            if article is None:
                log.warning("skipped %s: no article text", url)
                results[url] = "no_text"
                return
            results[url] = {"title": article.title, "text": article.text, "final_url": page.final_url}

        await asyncio.gather(*(one(u) for u in urls))
    return results


def load_pages(
    manifest: str | Path, config: CrawlerConfig, cache_dir: str | Path = DEFAULT_CACHE, *, transport: Any = None
) -> UrlEvalData:
    """Examples for every manifest URL that could be fetched (from the cache when there)."""
    records = read_manifest(manifest)
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    data = UrlEvalData(examples=[])
    pages: dict[str, dict[str, str]] = {}
    missing = []
    for rec in records:
        f = _cache_file(cache, rec["url"])
        if f.is_file():
            pages[rec["url"]] = json.loads(f.read_text(encoding="utf-8"))
            data.from_cache += 1
        else:
            missing.append(rec["url"])
    if missing:
        fetched = asyncio.run(_fetch_all(sorted(set(missing)), config, transport))
        for url, result in fetched.items():
            if isinstance(result, dict):
                _cache_file(cache, url).write_text(json.dumps({"url": url, **result}, ensure_ascii=False), encoding="utf-8")
                pages[url] = result
                data.fetched += 1
    for rec in records:
        page = pages.get(rec["url"])
        if page is None:
            data.skipped[_reason(rec["url"], missing, fetched if missing else {})] += 1
            continue
        data.examples.append(
            Example(
                id=str(rec.get("id") or rec["url"]),
                title=page.get("title") or rec.get("headline") or "",
                text=page["text"],
                label=int(rec["label"]),
                category=rec.get("category"),
                difficulty=rec.get("difficulty"),
                province=rec.get("province"),
                source=rec["url"],
                file=Path(manifest).name,
                unsure=bool(rec.get("unsure", False)),
            )
        )
    return data


def _reason(url: str, missing: list[str], fetched: dict[str, Any]) -> str:
    result = fetched.get(url)
    return result if isinstance(result, str) else "not_fetched"
