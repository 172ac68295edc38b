"""One round: discover -> frontier -> fetch -> extract -> dedupe -> score -> enrich -> queue.

The stage functions here (`discover_source`, `process_url`) are shared by both drivers: the
in-process round below (asyncio, the embedded default) and the Procrastinate jobs of
monitor/tasks.py. Each stage commits its outcome per URL, so a killed process resumes where it
stopped and a rerun neither loses nor duplicates anything.

Config keys read: crawler.* (via crawlers.fetching), crawler.max_age_days,
crawler.max_urls_per_round, crawler.lease_seconds, crawler.max_attempts, classifier.threshold
(an admin's override in the `settings` table comes first: monitor/settings.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from crawlers import discovery, extraction
from crawlers.fetching import Fetcher
from crawlers.types import DiscoveredUrl, ExtractedArticle, FetchedPage, FetchFailure, Validators
from monitor import frontier, queue, regions, settings
from monitor.config import Config, Source
from monitor.db import (
    Article,
    FeedState,
    FrontierUrl,
    RawPage,
    Run,
    ScoreRow,
    SourceRow,
    UrlState,
    session_scope,
    utcnow,
)
from monitor.dedupe import NearDuplicateIndex

log = logging.getLogger(__name__)

MAX_EXTRA_PAGES = 9  # a multi-page article is joined from at most this many further pages
MAX_SITEMAP_DEPTH = 2


@dataclass
class RoundSummary:
    """What a round did; printed by `monitor run` and stored in `runs.counts`."""

    discovered: int = 0
    fetched: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    extracted: int = 0
    duplicates: int = 0
    scored: int = 0
    flagged: int = 0
    sources_failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "discovered": self.discovered,
            "fetched": self.fetched,
            "failed": dict(self.failed),
            "extracted": self.extracted,
            "duplicates": self.duplicates,
            "scored": self.scored,
            "flagged": self.flagged,
            "sources_failed": self.sources_failed,
            "seconds": round(self.seconds, 2),
        }

    def format(self) -> str:
        failed = ", ".join(f"{k} {v}" for k, v in sorted(self.failed.items())) or "none"
        lines = [
            f"round {self.run_id if self.run_id is not None else '-'}: "
            f"discovered {self.discovered}, fetched {self.fetched}, failed {sum(self.failed.values())} ({failed}), "
            f"extracted {self.extracted}, duplicates {self.duplicates}, scored {self.scored}, "
            f"flagged {self.flagged}, {self.seconds:.1f} s"
        ]
        for name, reason in sorted(self.sources_failed.items()):
            lines.append(f"  source failed: {name}: {reason}")
        return "\n".join(lines)


@dataclass
class StageContext:
    """What the stages share during a round (or in a worker)."""

    config: Config
    engine: Engine
    fetcher: Fetcher
    model: Any  # models.registry.LoadedModel
    extract: Callable[..., Any]  # async (html, url, cleanup) -> ExtractedArticle | None
    owner: str
    summary: RoundSummary
    sources_by_id: dict[int, Source]
    near_dupes: NearDuplicateIndex | None = None


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- discovery


async def discover_source(ctx: StageContext, source: Source, source_id: int) -> list[DiscoveredUrl]:
    """All recent article URLs of one source's feeds and sitemaps; a failing feed is logged and
    recorded on the source, and the others go on."""
    found: list[DiscoveredUrl] = []
    errors: list[str] = []
    now = datetime.now(UTC)
    for feed_url in source.feeds:
        items, err = await _read_listing(ctx, feed_url, source_id, kind="feed")
        found.extend(items)
        if err:
            errors.append(err)
    sitemaps = list(source.sitemaps)
    if not source.feeds and not sitemaps:
        # A source given by homepage only: its robots.txt `Sitemap:` lines say where to look.
        robots_url = discovery.canonicalize(urljoin(source.homepage, "/robots.txt")) or urljoin(source.homepage, "/robots.txt")
        page, err = await _fetch_listing(ctx, robots_url, source_id)
        if page is not None:
            sitemaps = discovery.sitemaps_from_robots(page.text, source.homepage)
        elif err:
            errors.append(err)
    queue_: list[tuple[str, int]] = [(u, 0) for u in sitemaps]
    while queue_:
        sitemap_url, depth = queue_.pop(0)
        items, err, children = await _read_sitemap(ctx, sitemap_url, source_id)
        found.extend(items)
        if err:
            errors.append(err)
        if depth < MAX_SITEMAP_DEPTH:
            queue_.extend((c, depth + 1) for c in children)
    recent = [d for d in found if discovery.is_recent(d, ctx.config.crawler.max_age_days, now)]
    with session_scope(ctx.engine) as session:
        row = session.get(SourceRow, source_id)
        if row is not None:
            if errors and not found:
                row.last_error, row.last_error_at = "; ".join(errors)[:2000], utcnow()
                ctx.summary.sources_failed[source.name] = errors[0]
            else:
                row.last_success_at = utcnow()
                if not errors:
                    row.last_error = None
    return recent


async def _fetch_listing(ctx: StageContext, url: str, source_id: int) -> tuple[FetchedPage | None, str | None]:
    with session_scope(ctx.engine) as session:
        state = session.get(FeedState, url)
        validators = Validators(etag=state.etag, last_modified=state.last_modified) if state else None
    result = await ctx.fetcher.fetch(url, validators=validators, kind="feed")
    with session_scope(ctx.engine) as session:
        state = session.get(FeedState, url) or FeedState(url=url, source_id=source_id)
        state.last_fetched_at = utcnow()
        if isinstance(result, FetchFailure):
            state.last_status = result.reason
            session.merge(state)
            log.warning("listing failed: %s: %s (%s)", url, result.reason, result.detail)
            return None, f"{url}: {result.reason}"
        state.last_status = "not_modified" if result.not_modified else "ok"
        if not result.not_modified:
            state.etag, state.last_modified = result.validators.etag, result.validators.last_modified
        session.merge(state)
    return (None if result.not_modified else result), None


async def _read_listing(ctx: StageContext, url: str, source_id: int, kind: str) -> tuple[list[DiscoveredUrl], str | None]:
    page, err = await _fetch_listing(ctx, url, source_id)
    if page is None:
        return [], err
    items = discovery.parse_feed(page.content, page.final_url)
    if not items:
        # Some outlets list a sitemap under "feeds"; a feed that parses to nothing gets a second look.
        items = discovery.parse_sitemap(page.content, page.final_url).urls
    return items, None


async def _read_sitemap(ctx: StageContext, url: str, source_id: int) -> tuple[list[DiscoveredUrl], str | None, list[str]]:
    page, err = await _fetch_listing(ctx, url, source_id)
    if page is None:
        return [], err, []
    contents = discovery.parse_sitemap(page.content, page.final_url)
    return contents.urls, None, contents.sitemaps


# ---------------------------------------------------------------- per-URL stages


async def process_url(ctx: StageContext, row_id: int) -> str:
    """Carry one frontier row forward from whatever state it reached; returns its final state."""
    with session_scope(ctx.engine) as session:
        row = session.get(FrontierUrl, row_id)
        if row is None:
            return "missing"
        state, url, source_id = UrlState(row.state), row.url, row.source_id
        attempts = row.attempts
    source = ctx.sources_by_id.get(source_id) if source_id else None
    cleanup = source.cleanup if source else []

    if state in (UrlState.DISCOVERED, UrlState.FAILED):
        result = await ctx.fetcher.fetch(_with_one_page_param(url, source), kind="page")
        with session_scope(ctx.engine) as session:
            row = session.get(FrontierUrl, row_id)
            if isinstance(result, FetchFailure):
                ctx.summary.failed[result.reason] += 1
                return frontier.record_failure(session, row, result, max_attempts=ctx.config.crawler.max_attempts).value
            session.merge(RawPage(frontier_id=row_id, content=result.content, encoding=result.encoding, content_type=result.content_type, fetched_at=result.fetched_at))
            frontier.advance(session, row_id, UrlState.FETCHED, http_status=result.status, final_url=result.final_url, attempts=attempts + 1, last_error=None, last_error_detail=None)
        ctx.summary.fetched += 1
        state = UrlState.FETCHED

    if state == UrlState.FETCHED:
        state = await _extract_stage(ctx, row_id, url, source_id, cleanup)

    if state == UrlState.EXTRACTED:
        state = _score_stage(ctx, row_id)
    return state.value


def _with_one_page_param(url: str, source: Source | None) -> str:
    if not source or not source.one_page_param:
        return url
    return url + ("&" if "?" in url else "?") + source.one_page_param


async def _extract_stage(ctx: StageContext, row_id: int, url: str, source_id: int | None, cleanup: list[str]) -> UrlState:
    with session_scope(ctx.engine) as session:
        raw = session.get(RawPage, row_id)
        row = session.get(FrontierUrl, row_id)
        final_url = row.final_url or url
        html = raw.content.decode(raw.encoding or "utf-8", errors="replace") if raw else None
    if html is None:  # raw HTML dropped by retention before extraction: fetch again
        with session_scope(ctx.engine) as session:
            frontier.advance(session, row_id, UrlState.DISCOVERED)
        return UrlState.DISCOVERED

    article = await ctx.extract(html, final_url, cleanup)
    if article is not None:
        article = await _join_further_pages(ctx, html, final_url, article, cleanup)
    if article is None:
        with session_scope(ctx.engine) as session:
            frontier.advance(session, row_id, UrlState.SKIPPED, last_error="no_article")
        ctx.summary.failed["no_article"] += 1
        return UrlState.SKIPPED

    canonical = extraction.canonical_link(html, final_url) or discovery.canonicalize(final_url) or url
    province, regency = regions.locate(article.title + "\n" + article.text, fallback=ctx.sources_by_id[source_id].region if source_id in ctx.sources_by_id else None)
    with session_scope(ctx.engine) as session:
        if session.scalar(select(Article.id).where(Article.frontier_id == row_id)) is not None:
            # Already extracted by a concurrent run of this same job: its outcome stands.
            return UrlState(session.get(FrontierUrl, row_id).state)
        if canonical != url:
            other = session.scalar(select(Article.id).where(Article.url == canonical))
            if other is not None:  # the same article reached under another URL
                frontier.advance(session, row_id, UrlState.SKIPPED, last_error="duplicate_url", last_error_detail=canonical)
                ctx.summary.duplicates += 1
                return UrlState.SKIPPED
        same_text = session.scalar(select(Article).where(Article.content_hash == article.content_hash).limit(1))
        cluster_id = (same_text.cluster_id or same_text.id) if same_text is not None else None
        if cluster_id is None and ctx.near_dupes is not None:
            cluster_id = ctx.near_dupes.find(article.text)
        row = Article(
            frontier_id=row_id, source_id=source_id, url=canonical, title=article.title, text=article.text,
            published_at=article.published_at, author=article.author, language=article.language,
            content_hash=article.content_hash, cluster_id=cluster_id, province=province, regency=regency, pages=article.pages,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            with session_scope(ctx.engine) as s2:
                if s2.scalar(select(Article.id).where(Article.frontier_id == row_id)) is not None:
                    # This very row was extracted by a concurrent run of the same job (a worker
                    # taken for dead): its outcome stands, whatever state it has reached.
                    return UrlState(s2.get(FrontierUrl, row_id).state)
                # Another URL's row stored the same canonical article first.
                frontier.advance(s2, row_id, UrlState.SKIPPED, last_error="duplicate_url", last_error_detail=canonical)
            ctx.summary.duplicates += 1
            return UrlState.SKIPPED
        if row.cluster_id is None:
            row.cluster_id = row.id
        if cluster_id is not None:
            ctx.summary.duplicates += 1
        if ctx.near_dupes is not None:
            ctx.near_dupes.add(row.cluster_id, article.text)
        frontier.advance(session, row_id, UrlState.EXTRACTED)
    ctx.summary.extracted += 1
    return UrlState.EXTRACTED


async def _join_further_pages(ctx: StageContext, html: str, url: str, first: ExtractedArticle, cleanup: list[str]) -> ExtractedArticle:
    pages = [first]
    seen = {url}
    next_urls = extraction.next_page_urls(html, url)
    while next_urls and len(pages) <= MAX_EXTRA_PAGES:
        nxt = next_urls[0]
        if nxt in seen:
            break
        seen.add(nxt)
        result = await ctx.fetcher.fetch(nxt, kind="page")
        if isinstance(result, FetchFailure):
            log.info("page %s of %s not fetched: %s", len(pages) + 1, url, result.reason)
            break
        part = await ctx.extract(result.text, result.final_url, cleanup)
        if part is None:
            break
        pages.append(part)
        next_urls = [u for u in extraction.next_page_urls(result.text, result.final_url) if u not in seen]
    return extraction.join_pages(pages) if len(pages) > 1 else first


def _score_stage(ctx: StageContext, row_id: int) -> UrlState:
    with session_scope(ctx.engine) as session:
        article = session.scalar(select(Article).where(Article.frontier_id == row_id))
        if article is None:
            frontier.advance(session, row_id, UrlState.FETCHED)
            return UrlState.FETCHED
        score = ctx.model.score(article.title, article.text, threshold=settings.effective_threshold(session, ctx.config))
        # INSERT .. ON CONFLICT DO NOTHING: a stage run twice at once (a worker thought dead) keeps one score.
        session.execute(
            frontier.dialect_insert(session)(ScoreRow)
            .values(
                article_id=article.id, model_version=score.model_version, probability=score.probability,
                threshold=score.threshold, flagged=score.flagged, created_at=utcnow(),
                evidence={"top_terms": [list(t) for t in score.top_terms], "sentences": list(score.evidence_sentences)},
            )
            .on_conflict_do_nothing(index_elements=["article_id", "model_version"])
        )
        row = session.scalar(select(ScoreRow).where(ScoreRow.article_id == article.id, ScoreRow.model_version == score.model_version))
        if row.flagged and queue.enqueue(session, article, row) is not None:
            ctx.summary.flagged += 1
        frontier.advance(session, row_id, UrlState.SCORED)
    ctx.summary.scored += 1
    return UrlState.SCORED


# ---------------------------------------------------------------- the in-process round


async def run_round_async(config: Config, engine: Engine, model: Any, *, transport: Any = None, extractor_processes: int = 0) -> RoundSummary:
    """Run one full round in this process and record it in `runs`."""
    started = time.monotonic()
    summary = RoundSummary()
    with session_scope(engine) as session:
        run = Run(kind="round", started_at=utcnow(), status="running")
        session.add(run)
        session.flush()
        summary.run_id = run.id
        ids = frontier.sync_sources(session, config.sources)
        resumed = frontier.release_dead_local_leases(session)
    if resumed:
        log.info("resuming %d URLs left leased by a process that died", resumed)
    sources_by_id = {ids[s.name]: s for s in config.sources}
    owner = new_owner()
    pool = extraction.ExtractorPool(processes=extractor_processes) if extractor_processes > 0 else None

    async def extract(html: str, url: str, cleanup: list[str]) -> ExtractedArticle | None:
        if pool is not None:
            return await pool.extract(html, url, cleanup)
        return extraction.extract_article(html, url, cleanup=cleanup)

    status, error = "ok", None
    try:
        async with Fetcher(config.crawler, transport=transport) as fetcher:
            ctx = StageContext(config=config, engine=engine, fetcher=fetcher, model=model, extract=extract, owner=owner, summary=summary, sources_by_id=sources_by_id, near_dupes=NearDuplicateIndex.from_recent(engine, days=7))
            listings = await asyncio.gather(*(discover_source(ctx, s, ids[s.name]) for s in config.enabled_sources()))
            with session_scope(engine) as session:
                for source, found in zip(config.enabled_sources(), listings, strict=True):
                    summary.discovered += frontier.add_discovered(session, found, ids[source.name])
            await _drain_frontier(ctx)
    except BaseException as exc:
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if pool is not None:
            pool.close()
        summary.seconds = time.monotonic() - started
        with session_scope(engine) as session:
            frontier.release(session, owner)
            run = session.get(Run, summary.run_id)
            run.finished_at, run.status, run.counts, run.seconds, run.error = utcnow(), status, summary.as_dict(), summary.seconds, error
    return summary


async def _drain_frontier(ctx: StageContext) -> None:
    budget = ctx.config.crawler.max_urls_per_round
    batch = max(ctx.config.crawler.concurrency * 4, 32)
    while budget > 0:
        with session_scope(ctx.engine) as session:
            rows = frontier.claim(session, ctx.owner, limit=min(batch, budget), lease_seconds=ctx.config.crawler.lease_seconds)
            ids = [r.id for r in rows]
        if not ids:
            return
        budget -= len(ids)
        results = await asyncio.gather(*(process_url(ctx, i) for i in ids), return_exceptions=True)
        for row_id, result in zip(ids, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                log.error("frontier row %s failed in a stage: %r", row_id, result, exc_info=result)
                ctx.summary.failed["internal_error"] += 1
                with session_scope(ctx.engine) as session:
                    row = session.get(FrontierUrl, row_id)
                    frontier.record_failure(session, row, FetchFailure(row.url, "internal_error", repr(result), False), max_attempts=ctx.config.crawler.max_attempts)


def run_round(config: Config, engine: Engine, model: Any, **kwargs: Any) -> RoundSummary:
    return asyncio.run(run_round_async(config, engine, model, **kwargs))


def last_rounds(engine: Engine, n: int = 5) -> list[Run]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Run).order_by(Run.id.desc()).limit(n)))


def since(hours: float) -> datetime:
    return utcnow() - timedelta(hours=hours)
