"""Discovery: feeds, sitemaps and robots.txt in, candidate article URLs out.

Pure parsers (scrapy `utils/sitemap.py` style): bytes in, frozen records out, nothing fetched here and
nothing raised on bad input. A truncated or garbage document yields what could be read (possibly
nothing). XML is parsed with entity resolution and network access off.

Config keys read (by the caller, passed as plain values): `crawler.max_age_days` (`is_recent`).

- `canonicalize(url)`: one spelling per article (tracking parameters and fragments dropped,
  scheme and host lower-cased, default ports removed).
- `parse_feed(content, feed_url)`: RSS 0.9x/1.0/2.0 and Atom via feedparser.
- `parse_sitemap(content, sitemap_url)`: urlsets, sitemap indexes, Google News sitemaps
  (`news:publication_date`, `news:title`), gzip detected by magic bytes, plain-text sitemaps.
- `sitemaps_from_robots(robots_txt, base_url)`: the `Sitemap:` lines of a robots.txt.
- `is_recent(item, max_age_days, now)`: undated items count as recent.
"""

from __future__ import annotations

import calendar
import gzip
import io
import logging
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree

from crawlers.types import DiscoveredUrl

log = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one (uncompressed) file
MAX_URLS_PER_DOCUMENT = 50_000  # the sitemaps.org limit; more is ignored

# Query parameters that never select content: analytics, ad clicks, share buttons.
_TRACKING_PARAM = re.compile(
    r"^(?:utm_|mc_|pk_|mtm_|ga_|_ga|_gl|hsa_|itm_|oly_|vero_|ref_?src)"
    r"|^(?:fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid|mc_cid|mc_eid|_hsenc|_hsmi"
    r"|ref|referrer|source|from|src|share|amp_js_v|usqp|cmpid|spm|tracking|trk|at_medium|at_campaign"
    r"|_branch_match_id|s_cid|wt_mc|wt\.mc_id)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonicalize(url: str) -> str | None:
    """The canonical spelling of an http(s) URL, or None when it is not a usable one.

    Lower-cases scheme and host, drops default ports, the fragment, tracking parameters (utm_*,
    fbclid, gclid, ...) and empty queries; sorts the remaining query; normalises the path
    (`/a/./b/../c` -> `/a/c`, percent-escapes upper-cased by courlan). Keeps `www.` and trailing
    slashes as published: outlets serve different pages on those.
    """
    try:
        from courlan import normalize_url

        if not isinstance(url, str):
            return None
        url = url.strip()
        if not url or len(url) > 4096 or any(c in url for c in "\x00\n\r\t "):
            return None
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            return None
        host = parts.hostname.lower().rstrip(".")
        if not host or ".." in host or not re.fullmatch(r"[a-z0-9.\-_\[\]:]+|[^\x00-\x20/?#@]+", host):
            return None
        port = parts.port  # raises ValueError on a bad port
        netloc = f"[{host}]" if ":" in host else host
        if port is not None and port != _DEFAULT_PORTS[scheme]:
            netloc = f"{netloc}:{port}"
        query = urlencode(
            sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAM.search(k)),
        )
        path = _remove_dot_segments(parts.path or "/")
        normalized = normalize_url(urlunsplit((scheme, netloc, path, query, "")), strict=False)
        normalized = urlunsplit(urlsplit(normalized)._replace(fragment=""))
        return normalized
    except (ValueError, UnicodeError, TypeError):
        return None


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4: `/a/./b/../c` -> `/a/c` (a trailing slash is kept)."""
    if "/." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for seg in segments[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    trailing = "/" if segments[-1] in (".", "..") else ""
    return "/" + "/".join(out) + trailing


# ---------------------------------------------------------------- feeds


def parse_feed(content: bytes, feed_url: str) -> list[DiscoveredUrl]:
    """Entries of an RSS or Atom feed, in feed order, one per canonical URL.

    A truncated feed gives the entries before the break (feedparser's "bozo" mode); anything that
    is not a feed gives []. Dates come from `published`, then `updated`, as aware UTC datetimes.
    """
    try:
        import feedparser

        if not content:
            return []
        parsed = feedparser.parse(
            content,
            sanitize_html=False,
            resolve_relative_uris=False,
            response_headers={"content-location": feed_url},
        )
        out: list[DiscoveredUrl] = []
        seen: set[str] = set()
        for entry in parsed.get("entries", [])[:MAX_URLS_PER_DOCUMENT]:
            link = _entry_link(entry)
            if not link:
                continue
            url = canonicalize(urljoin(feed_url, link))
            if url is None or url in seen:
                continue
            seen.add(url)
            title = entry.get("title")
            out.append(
                DiscoveredUrl(
                    url=url,
                    found_in=feed_url,
                    title=" ".join(title.split()) or None if isinstance(title, str) else None,
                    published_at=_struct_to_datetime(entry.get("published_parsed") or entry.get("updated_parsed")),
                )
            )
        return out
    except Exception as exc:  # a parser must never take a round down
        log.warning("feed %s could not be parsed: %s", feed_url, exc)
        return []


def _entry_link(entry: dict) -> str | None:
    link = entry.get("link")
    if isinstance(link, str) and link.strip():
        return link.strip()
    for candidate in entry.get("links", []) or []:
        href = candidate.get("href") if isinstance(candidate, dict) else None
        if href and candidate.get("rel", "alternate") == "alternate":
            return href.strip()
    guid = entry.get("id")
    if isinstance(guid, str) and guid.startswith(("http://", "https://")):
        return guid.strip()
    return None


def _struct_to_datetime(value: object) -> datetime | None:
    try:
        if value is None:
            return None
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# ---------------------------------------------------------------- sitemaps


@dataclass(frozen=True, slots=True)
class SitemapContents:
    """What one sitemap document lists: article URLs (a urlset) and child sitemaps (an index)."""

    urls: list[DiscoveredUrl] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def maybe_gunzip(content: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """Decompress gzip content (detected by its magic bytes), at most `limit` bytes of output."""
    if not content.startswith(b"\x1f\x8b"):
        return content
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(content)) as fh:
            return fh.read(limit)
    except (OSError, EOFError, zlib.error):
        # truncated gzip: keep what decompresses
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            return d.decompress(content, limit)
        except zlib.error:
            return b""


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def parse_sitemap(content: bytes, sitemap_url: str) -> SitemapContents:
    """A sitemap urlset, a sitemap index, a Google News sitemap or a plain-text URL list.

    Dates: `news:publication_date`, else `lastmod`. Titles: `news:title`. Child sitemaps are
    absolutised but not canonicalised (some servers care about their exact spelling).
    """
    try:
        data = maybe_gunzip(content)[:MAX_SITEMAP_BYTES]
        stripped = data.lstrip()
        if not stripped:
            return SitemapContents()
        if not stripped.startswith(b"<"):
            return _parse_text_sitemap(data, sitemap_url)
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            recover=True,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        root = etree.fromstring(data, parser=parser)
        if root is None:
            return SitemapContents()
        kind = _local(root.tag)
        urls: list[DiscoveredUrl] = []
        children: list[str] = []
        seen: set[str] = set()
        for node in root:
            name = _local(node.tag)
            if name not in ("url", "sitemap"):
                continue
            loc = lastmod = news_date = news_title = None
            for child in node.iter():
                cname = _local(child.tag)
                text = (child.text or "").strip() if isinstance(child.tag, str) else ""
                if cname == "loc" and loc is None:
                    loc = text
                elif cname == "lastmod":
                    lastmod = text
                elif cname == "publication_date":
                    news_date = text
                elif cname == "title" and child.getparent() is not None and _local(child.getparent().tag) == "news":
                    news_title = text
            if not loc:
                continue
            absolute = urljoin(sitemap_url, loc)
            if name == "sitemap" or kind == "sitemapindex":
                if absolute.startswith(("http://", "https://")) and absolute not in seen:
                    seen.add(absolute)
                    children.append(absolute)
                continue
            url = canonicalize(absolute)
            if url is None or url in seen:
                continue
            seen.add(url)
            urls.append(
                DiscoveredUrl(
                    url=url,
                    found_in=sitemap_url,
                    title=" ".join(news_title.split()) or None if news_title else None,
                    published_at=parse_w3c_datetime(news_date) or parse_w3c_datetime(lastmod),
                )
            )
            if len(urls) >= MAX_URLS_PER_DOCUMENT:
                break
        return SitemapContents(urls=urls, sitemaps=children[:MAX_URLS_PER_DOCUMENT])
    except Exception as exc:  # never raise on bad input
        log.warning("sitemap %s could not be parsed: %s", sitemap_url, exc)
        return SitemapContents()


def _parse_text_sitemap(data: bytes, sitemap_url: str) -> SitemapContents:
    urls: list[DiscoveredUrl] = []
    seen: set[str] = set()
    for raw in data.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if not line.startswith(("http://", "https://")):
            continue
        url = canonicalize(line)
        if url and url not in seen:
            seen.add(url)
            urls.append(DiscoveredUrl(url=url, found_in=sitemap_url))
            if len(urls) >= MAX_URLS_PER_DOCUMENT:
                break
    return SitemapContents(urls=urls)


_W3C = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_w3c_datetime(value: str | None) -> datetime | None:
    """`2023-12-19`, `2023-12-19T14:05+07:00`, `2023-12-19 14:05:00Z` -> aware datetime (UTC if no zone)."""
    if not value:
        return None
    m = _W3C.match(value.strip())
    if not m:
        return None
    try:
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        hour, minute, second = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
        tz = UTC
        if m[7] and m[7] != "Z":
            sign = 1 if m[7][0] == "+" else -1
            digits = m[7][1:].replace(":", "")
            from datetime import timezone

            tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None


# ---------------------------------------------------------------- robots.txt


def sitemaps_from_robots(robots_txt: str, base_url: str) -> list[str]:
    """The `Sitemap:` URLs of a robots.txt, absolutised against `base_url`, in order, deduplicated."""
    out: list[str] = []
    try:
        for line in (robots_txt or "").splitlines():
            line = line.split("#", 1)[0].strip()
            key, sep, value = line.partition(":")
            if not sep or key.strip().lower() not in ("sitemap", "site-map"):
                continue
            url = urljoin(base_url, value.strip())
            if url.startswith(("http://", "https://")) and url not in out:
                out.append(url)
    except (ValueError, TypeError):
        pass
    return out


# ---------------------------------------------------------------- age filter


def is_recent(item: DiscoveredUrl, max_age_days: int, now: datetime) -> bool:
    """True when `item` was published within `max_age_days` of `now` (undated items count as recent).

    Naive datetimes are read as UTC. Items dated up to a day in the future are recent (clock skew,
    time zones); further in the future they are treated as undated, hence recent too.
    """
    published = item.published_at
    if published is None:
        return True
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return published >= now - timedelta(days=max_age_days)
