"""Frozen records passed between the crawler's stages.

discovery -> DiscoveredUrl; fetching -> FetchedPage (or FetchFailure); extraction -> ExtractedArticle.
No bare dicts cross a stage boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DiscoveredUrl:
    """A candidate article URL found in a feed, sitemap or robots.txt."""

    url: str  # canonical form (crawlers.discovery.canonicalize)
    found_in: str  # the feed / sitemap URL it came from
    title: str | None = None
    published_at: datetime | None = None  # timezone-aware when known


@dataclass(frozen=True, slots=True)
class Validators:
    """Conditional-GET state of a feed or sitemap."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One successful HTTP response, decoded."""

    requested_url: str
    final_url: str
    status: int
    content_type: str
    content: bytes
    text: str  # decoded with the charset from header, then meta, then detection
    encoding: str
    fetched_at: datetime
    validators: Validators = field(default_factory=Validators)
    not_modified: bool = False  # a 304 answer to a conditional GET


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """Why a URL could not be fetched. `reason` is a short stable code used in counts and metrics.

    Codes: timeout, connect_error, http_4xx, http_404, http_410, http_429, http_5xx,
    too_large, not_html, robots_disallowed, private_address, too_many_redirects, invalid_url.
    """

    url: str
    reason: str
    detail: str
    permanent: bool  # True: never retry (404, 410, robots, not_html, private_address)
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """The article as the extractor read it (multi-page articles already joined)."""

    url: str  # canonical URL (rel=canonical honoured)
    title: str
    text: str
    published_at: datetime | None
    author: str | None
    language: str | None
    content_hash: str  # sha256 of the normalised text
    pages: int = 1
