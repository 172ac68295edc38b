"""Fetching: the only module that touches the network (httpx).

`Fetcher(config)` is an async context manager; `await fetcher.fetch(url)` returns a `FetchedPage`
or a `FetchFailure` (never raises for a network or HTTP problem). Policies are small classes, each
with its own switch (scrapy downloader-middleware style):

- `AddressGuard`   refuses hosts resolving to private, loopback, link-local, reserved, multicast
                   or unspecified addresses (`crawler.allow_private_addresses` turns it off).
- `RobotsPolicy`   robots.txt via protego, cached per host for `ttl` seconds, `Crawl-delay`
                   honoured (capped at `max_crawl_delay`) (`crawler.respect_robots_txt`).
                   A missing robots.txt (4xx) or one that cannot be fetched allows everything
                   (scrapy's behaviour); the outcome is logged.
- `HostThrottle`   at least `crawler.per_host_interval` seconds (or the host's Crawl-delay)
                   between the starts of two requests to one host; `crawler.concurrency`
                   requests in flight overall.
- `RetryPolicy`    `crawler.max_retries` retries within one `fetch` on timeouts, connection
                   errors, 429 and 5xx, waiting `retry_delay(attempt, retry_after)`: exponential
                   from `crawler.backoff_base` with jitter, or the server's `Retry-After`. A
                   Retry-After longer than `max_wait` is not slept on: the failure carries it so
                   the frontier can schedule the next try. 404 and 410 are permanent.
- `SizeLimit`      `crawler.max_page_bytes` checked against Content-Length and while streaming.

Also read: `crawler.user_agent`, `crawler.timeout` (whole request, and each read),
`crawler.connect_timeout`, `crawler.max_redirects` (redirects are followed here, hop by hop, so
every hop passes robots.txt and the address guard).

Content types: `kind="page"` accepts HTML/XHTML only (PDF, images, ... -> `not_html`, permanent);
`kind="feed"` accepts anything (XML, gzip, text). Text is decoded with the charset of the
Content-Type header, else the page's `<meta>`, else charset-normalizer's detection; ISO-8859-1
and ASCII labels are read as windows-1252 (the WHATWG rule browsers follow).
"""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import ipaddress
import logging
import random
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx

from crawlers.types import FetchedPage, FetchFailure, Validators
from monitor.config import CrawlerConfig

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml+xhtml", "application/vnd.wap.xhtml+xml")
MAX_RETRY_DELAY = 60.0  # seconds: a computed backoff never exceeds this
KEEPALIVE_PER_HOST = 8  # idle keep-alive connections kept per host (for `keepalive_expiry` seconds)


def retry_delay(
    attempt: int,
    retry_after: float | None = None,
    *,
    backoff_base: float = 1.0,
    max_delay: float = MAX_RETRY_DELAY,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (0 = the first retry).

    The server's Retry-After wins when given; otherwise `backoff_base * 2**attempt` plus up to 50 %
    jitter, capped at `max_delay`. Reusable by the frontier for its round-to-round backoff.
    """
    if retry_after is not None and retry_after >= 0:
        return float(retry_after)
    base = backoff_base * (2 ** max(0, attempt))
    return min(max_delay, base + base * 0.5 * rng())


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After: 120` or an HTTP date -> seconds from now (None when absent or unreadable)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


# ---------------------------------------------------------------- policies


class AddressGuard:
    """Refuses hosts that resolve to non-public addresses (SSRF guard). `enabled=False` allows all."""

    def __init__(self, enabled: bool = True, *, cache_seconds: float = 300.0) -> None:
        self.enabled = enabled
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, str | None]] = {}

    @staticmethod
    def is_public(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return not (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_reserved
            or ip.is_multicast
            or ip.is_unspecified
            or not ip.is_global
        )

    async def check(self, host: str, port: int) -> str | None:
        """None when `host` may be contacted, else the reason it may not."""
        if not self.enabled:
            return None
        now = time.monotonic()
        cached = self._cache.get(host)
        if cached and now - cached[0] < self.cache_seconds:
            return cached[1]
        try:
            ipaddress.ip_address(host.strip("[]"))
            addresses = [host.strip("[]")]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                return f"cannot resolve {host}: {exc}"  # not cached: DNS failures are transient
            addresses = [info[4][0] for info in infos]
        bad = [a for a in addresses if not self.is_public(a)]
        verdict = f"{host} resolves to non-public address {bad[0]}" if bad or not addresses else None
        self._cache[host] = (now, verdict)
        return verdict


class RobotsPolicy:
    """robots.txt rules per host (protego), cached for `ttl` seconds. `enabled=False` allows all."""

    def __init__(
        self, user_agent: str, enabled: bool = True, *, ttl: float = 86400.0, max_crawl_delay: float = 60.0
    ) -> None:
        self.user_agent = user_agent
        self.enabled = enabled
        self.ttl = ttl
        self.max_crawl_delay = max_crawl_delay
        self._cache: dict[str, tuple[float, Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    async def rules(self, url: str, download: Callable[[str], Any]) -> Any:
        """The parsed robots.txt of `url`'s host (None = allow all), downloading it once per ttl."""
        origin = self.origin(url)
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._cache.get(origin)
            if cached and time.monotonic() - cached[0] < self.ttl:
                return cached[1]
            from protego import Protego

            rules = None
            body = await download(origin + "/robots.txt")
            if body is not None:
                try:
                    rules = Protego.parse(body)
                except Exception as exc:  # protego is lenient; be safe anyway
                    log.warning("robots.txt of %s unreadable: %s", origin, exc)
            self._cache[origin] = (time.monotonic(), rules)
            return rules

    def allowed(self, rules: Any, url: str) -> bool:
        return rules is None or bool(rules.can_fetch(url, self.user_agent))

    def crawl_delay(self, rules: Any) -> float | None:
        if rules is None:
            return None
        delay = rules.crawl_delay(self.user_agent)
        if delay is None:
            rate = rules.request_rate(self.user_agent)
            if rate is not None and rate.requests:
                delay = rate.seconds / rate.requests
        return min(float(delay), self.max_crawl_delay) if delay is not None else None


class HostThrottle:
    """At least `interval` seconds between request starts per host, `concurrency` in flight overall."""

    def __init__(
        self, interval: float, concurrency: int, *, clock: Callable[[], float] = time.monotonic, enabled: bool = True
    ) -> None:
        self.interval = interval
        self.enabled = enabled
        self.clock = clock
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._next_start: dict[str, float] = {}
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._delays: dict[str, float] = {}
        self._serialised: set[str] = set()

    def set_delay(self, host: str, delay: float | None) -> None:
        """A host-specific minimum interval (robots.txt Crawl-delay)."""
        if delay is not None:
            self._delays[host] = delay

    def interval_for(self, host: str) -> float:
        return max(self.interval, self._delays.get(host, 0.0)) if self.enabled else 0.0

    async def acquire(self, host: str) -> None:
        """Wait for `host`'s next slot and a global slot. Pair with `release(host)`.

        With an interval, one request to a host is in flight at a time: the host's lock is held
        until `release`, so a slow answer never lets the next request arrive on its heels."""
        lock = self._host_locks.setdefault(host, asyncio.Lock())
        await lock.acquire()
        try:
            wait = self._next_start.get(host, 0.0) - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._semaphore.acquire()
        except BaseException:
            lock.release()
            raise
        interval = self.interval_for(host)
        self._next_start[host] = self.clock() + interval
        if interval > 0:
            self._serialised.add(host)
        else:
            lock.release()

    def release(self, host: str) -> None:
        self._semaphore.release()
        if host in self._serialised:
            self._serialised.discard(host)
            self._host_locks[host].release()


class RetryPolicy:
    """Which outcomes are retried within one fetch, and how long to wait. `enabled=False`: no retries."""

    def __init__(
        self, max_retries: int, backoff_base: float, *, enabled: bool = True, max_wait: float = MAX_RETRY_DELAY
    ) -> None:
        self.max_retries = max_retries if enabled else 0
        self.backoff_base = backoff_base
        self.enabled = enabled
        self.max_wait = max_wait

    def should_retry(self, failure: FetchFailure, attempt: int) -> bool:
        if failure.permanent or attempt >= self.max_retries:
            return False
        if (
            failure.reason not in ("timeout", "connect_error", "http_429", "http_5xx")
            and failure.status not in RETRYABLE_STATUSES
        ):
            return False
        return failure.retry_after is None or failure.retry_after <= self.max_wait

    def delay(self, attempt: int, retry_after: float | None) -> float:
        return retry_delay(attempt, retry_after, backoff_base=self.backoff_base, max_delay=self.max_wait)


class SizeLimit:
    """Aborts a response body above `max_bytes` (declared or streamed). `enabled=False`: no limit."""

    def __init__(self, max_bytes: int, *, enabled: bool = True) -> None:
        self.max_bytes = max_bytes
        self.enabled = enabled

    def declared_too_large(self, headers: httpx.Headers) -> bool:
        try:
            return self.enabled and int(headers.get("content-length", "-1")) > self.max_bytes
        except ValueError:
            return False

    def exceeded(self, received: int) -> bool:
        return self.enabled and received > self.max_bytes


# ---------------------------------------------------------------- charset


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-.]+)["']""")
_WINDOWS_1252_ALIASES = {"iso8859-1", "latin-1", "ascii", "latin1", "iso-8859-1", "us-ascii", "l1", "cp819"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in _WINDOWS_1252_ALIASES or label in _WINDOWS_1252_ALIASES:
        return "cp1252"
    return name


def decode_body(content: bytes, content_type: str | None) -> tuple[str, str]:
    """(text, encoding): BOM, then the header's charset, then `<meta>`/XML declaration, then detection.

    A latin label (ISO-8859-1, ASCII, windows-1252) on a body that is valid UTF-8 is read as UTF-8.
    """
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if content.startswith(bom):
            return content[len(bom) :].decode(enc, "replace"), enc
    candidates: list[str] = []
    if content_type:
        m = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.IGNORECASE)
        if m:
            candidates.append(m.group(1))
    head = content[:4096]
    for pattern in (_META_CHARSET, _XML_ENCODING):
        m = pattern.search(head)
        if m:
            candidates.append(m.group(1).decode("ascii", "ignore"))
    for label in candidates:
        enc = _codec(label)
        if enc is None or enc.startswith("utf-16"):
            continue
        if enc == "cp1252":
            # Servers often label UTF-8 as ISO-8859-1 (a default); real cp1252 text is never valid
            # multi-byte UTF-8, so valid UTF-8 wins.
            try:
                return content.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        try:
            return content.decode(enc), enc
        except UnicodeDecodeError:
            continue
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(content[:200_000]).best()
    enc = _codec(best.encoding) if best is not None else None
    enc = enc or "cp1252"
    return content.decode(enc, "replace"), enc


# ---------------------------------------------------------------- the fetcher


class _CountedStream(httpx.AsyncByteStream):
    """A response body that tells its host pool when it is closed (the pool is then idle)."""

    def __init__(self, stream: Any, done: Callable[[], None]) -> None:
        self._stream, self._done = stream, done

    async def __aiter__(self) -> Any:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        done, self._done = self._done, None
        try:
            await self._stream.aclose()
        finally:
            if done is not None:
                done()


class HostPoolTransport(httpx.AsyncBaseTransport):
    """One small httpx connection pool per origin (scheme, host, port).

    httpcore's pool re-examines every pooled connection (a `poll()` on each socket and a scan of
    the pool per connection) on every request, so a single pool holding keep-alive connections to
    many hosts costs O(connections^2) per request, and with fewer idle slots than hosts each
    request evicts another host's connection. Separate pools keep that cost to the few
    connections of one host. A host's pool is closed once nothing uses it for
    `keepalive_expiry` seconds (its connections would have expired anyway), so open sockets stay
    bounded by the hosts fetched recently. One TLS context is shared by all pools.
    """

    def __init__(
        self,
        *,
        max_connections_per_host: int = 32,
        keepalive_per_host: int = 8,
        keepalive_expiry: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = httpx.Limits(
            max_connections=max(1, max_connections_per_host),
            max_keepalive_connections=max(1, min(keepalive_per_host, max_connections_per_host)),
            keepalive_expiry=keepalive_expiry,
        )
        self._expiry = keepalive_expiry
        self._clock = clock
        self._ssl_context: Any = None
        self._pools: dict[tuple[bytes, bytes, int | None], httpx.AsyncHTTPTransport] = {}
        self._busy: dict[tuple[bytes, bytes, int | None], int] = {}
        self._last_used: dict[tuple[bytes, bytes, int | None], float] = {}
        self._next_sweep = 0.0

    def _pool(self, key: tuple[bytes, bytes, int | None]) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get(key)
        if pool is None:
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context(trust_env=False)
            pool = httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=self._limits, trust_env=False)
            self._pools[key] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pool(key)
        self._busy[key] = self._busy.get(key, 0) + 1  # before any await: the sweep skips busy pools

        def done() -> None:
            self._busy[key] -= 1
            self._last_used[key] = self._clock()

        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            done()
            raise
        response.stream = _CountedStream(response.stream, done)
        await self._sweep()
        return response

    async def _sweep(self) -> None:
        now = self._clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self._expiry
        stale = [
            key
            for key, busy in self._busy.items()
            if busy == 0 and now - self._last_used.get(key, now) >= self._expiry
        ]
        for key in stale:
            pool = self._pools.pop(key, None)
            self._busy.pop(key, None)
            self._last_used.pop(key, None)
            if pool is not None:
                await pool.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        self._busy.clear()
        self._last_used.clear()
        for pool in pools:
            await pool.aclose()


class _Redirect:
    __slots__ = ("location", "status")

    def __init__(self, location: str, status: int) -> None:
        self.location, self.status = location, status


class Fetcher:
    """Polite async HTTP fetching with the policies above. Use as `async with Fetcher(cfg) as f:`.

    `transport` replaces httpx's network transport (tests: `httpx.MockTransport`); `clock` is the
    monotonic clock the throttle uses. The policy objects are attributes (`robots`, `throttle`,
    `retry`, `size_limit`, `address_guard`) and can be switched off one by one (`.enabled = False`).
    """

    def __init__(
        self,
        config: CrawlerConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.clock = clock
        self._transport = transport
        self.address_guard = AddressGuard(enabled=not config.allow_private_addresses)
        self.robots = RobotsPolicy(config.user_agent, enabled=config.respect_robots_txt)
        self.throttle = HostThrottle(config.per_host_interval, config.concurrency, clock=clock)
        self.retry = RetryPolicy(config.max_retries, config.backoff_base)
        self.size_limit = SizeLimit(config.max_page_bytes)
        self.stats: dict[str, int] = {}
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        timeout = httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout)
        # Keep-alive connections per host (HostPoolTransport): in-flight requests are bounded by
        # the throttle's semaphore, not by the pools.
        concurrency = max(1, self.config.concurrency)
        transport = self._transport or HostPoolTransport(
            max_connections_per_host=concurrency, keepalive_per_host=KEEPALIVE_PER_HOST
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={
                "User-Agent": self.config.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Language": "id,en;q=0.8",
            },
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ------------------------------------------------------------ public

    async def fetch(
        self, url: str, *, validators: Validators | None = None, kind: Literal["page", "feed"] = "page"
    ) -> FetchedPage | FetchFailure:
        """GET `url`, following redirects (each hop checked), with retries. Never raises for I/O."""
        if self._client is None:
            raise RuntimeError("Fetcher is not open: use `async with Fetcher(config) as fetcher:`")
        current = url
        for _hop in range(self.config.max_redirects + 1):
            result = await self._fetch_with_retries(url, current, validators, kind)
            if isinstance(result, _Redirect):
                current = result.location
                continue
            self._count(
                result.reason if isinstance(result, FetchFailure) else ("not_modified" if result.not_modified else "ok")
            )
            return result
        self._count("too_many_redirects")
        return FetchFailure(
            url, "too_many_redirects", f"more than {self.config.max_redirects} redirects (last: {current})", True
        )

    # ------------------------------------------------------------ internals

    def _count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    async def _fetch_with_retries(
        self, requested: str, url: str, validators: Validators | None, kind: str
    ) -> FetchedPage | FetchFailure | _Redirect:
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return FetchFailure(requested, "invalid_url", f"bad port in {url}", True)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return FetchFailure(requested, "invalid_url", f"not an http(s) URL: {url}", True)
        refused = await self.address_guard.check(parts.hostname, port)
        if refused:
            permanent = "non-public" in refused
            return FetchFailure(requested, "private_address" if permanent else "connect_error", refused, permanent)
        if self.robots.enabled:
            rules = await self.robots.rules(url, self._download_robots)
            self.throttle.set_delay(parts.netloc, self.robots.crawl_delay(rules))
            if not self.robots.allowed(rules, url):
                return FetchFailure(
                    requested, "robots_disallowed", f"robots.txt of {parts.netloc} disallows {url}", True
                )
        attempt = 0
        while True:
            result = await self._attempt(requested, url, parts.netloc, validators, kind)
            if not isinstance(result, FetchFailure) or not self.retry.should_retry(result, attempt):
                return result
            delay = self.retry.delay(attempt, result.retry_after)
            log.info("retrying %s in %.1fs after %s (attempt %d)", url, delay, result.reason, attempt + 1)
            self._count("retries")
            await asyncio.sleep(delay)
            attempt += 1

    async def _download_robots(self, robots_url: str) -> str | None:
        """robots.txt text, or None (allow all) when missing or unreachable."""
        host = urlsplit(robots_url).netloc
        await self.throttle.acquire(host)
        try:
            assert self._client is not None
            async with asyncio.timeout(self.config.timeout):
                response = await self._client.get(robots_url, follow_redirects=True)
            if response.status_code >= 400 or len(response.content) > 512_000:
                log.info("robots.txt %s: HTTP %d, allowing all", robots_url, response.status_code)
                return None
            return response.content.decode("utf-8", "replace")
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            log.info("robots.txt %s unreachable (%s), allowing all", robots_url, exc)
            return None
        finally:
            self.throttle.release(host)

    async def _attempt(
        self, requested: str, url: str, host: str, validators: Validators | None, kind: str
    ) -> FetchedPage | FetchFailure | _Redirect:
        headers: dict[str, str] = {}
        if validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        assert self._client is not None
        await self.throttle.acquire(host)
        try:
            async with asyncio.timeout(self.config.timeout):
                return await self._request(requested, url, headers, validators, kind)
        except TimeoutError:
            return FetchFailure(
                requested, "timeout", f"no complete answer from {url} within {self.config.timeout}s", False
            )
        except httpx.TimeoutException as exc:
            return FetchFailure(requested, "timeout", f"{type(exc).__name__} on {url}", False)
        except (httpx.TransportError, OSError) as exc:
            return FetchFailure(requested, "connect_error", f"{type(exc).__name__} on {url}: {exc}", False)
        except httpx.HTTPError as exc:
            return FetchFailure(requested, "connect_error", f"{type(exc).__name__} on {url}: {exc}", False)
        finally:
            self.throttle.release(host)

    async def _request(
        self, requested: str, url: str, headers: dict[str, str], validators: Validators | None, kind: str
    ) -> FetchedPage | FetchFailure | _Redirect:
        assert self._client is not None
        async with self._client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if not location:
                    return FetchFailure(
                        requested, "http_3xx", f"HTTP {status} without Location from {url}", False, status
                    )
                return _Redirect(urljoin(url, location.strip()), status)
            if status == 304:
                fresh = _validators(response.headers)
                return FetchedPage(
                    requested_url=requested,
                    final_url=url,
                    status=304,
                    content_type=response.headers.get("content-type", ""),
                    content=b"",
                    text="",
                    encoding="",
                    fetched_at=datetime.now(UTC),
                    validators=fresh if (fresh.etag or fresh.last_modified) else (validators or Validators()),
                    not_modified=True,
                )
            if status >= 400:
                return _http_failure(requested, url, status, response.headers.get("retry-after"))
            if status < 200 or status >= 300:
                return FetchFailure(requested, "http_other", f"HTTP {status} from {url}", False, status)
            content_type = response.headers.get("content-type", "")
            mime = content_type.split(";", 1)[0].strip().lower()
            if kind == "page" and mime and mime not in HTML_TYPES:
                return FetchFailure(requested, "not_html", f"{url} is {mime or 'untyped'}, not HTML", True, status)
            if self.size_limit.declared_too_large(response.headers):
                return FetchFailure(
                    requested,
                    "too_large",
                    f"{url} declares {response.headers.get('content-length')} bytes > {self.size_limit.max_bytes}",
                    True,
                    status,
                )
            chunks: list[bytes] = []
            received = 0
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if self.size_limit.exceeded(received):
                    return FetchFailure(
                        requested, "too_large", f"{url} sent more than {self.size_limit.max_bytes} bytes", True, status
                    )
                chunks.append(chunk)
            content = b"".join(chunks)
        if (
            kind == "page"
            and not mime
            and not re.search(rb"<(!doctype html|html|head|body)", content[:2048], re.IGNORECASE)
        ):
            return FetchFailure(
                requested, "not_html", f"{url} has no content type and does not look like HTML", True, status
            )
        if kind == "page":
            text, encoding = decode_body(content, content_type)
        elif content.startswith(b"\x1f\x8b"):
            text, encoding = "", ""  # gzip sitemap: parsed from bytes
        else:
            text, encoding = content.decode("utf-8", "replace"), "utf-8"  # feeds are parsed from bytes
        return FetchedPage(
            requested_url=requested,
            final_url=url,
            status=status,
            content_type=content_type,
            content=content,
            text=text,
            encoding=encoding,
            fetched_at=datetime.now(UTC),
            validators=_validators(response.headers),
        )


def _validators(headers: httpx.Headers) -> Validators:
    return Validators(etag=headers.get("etag"), last_modified=headers.get("last-modified"))


def _http_failure(requested: str, url: str, status: int, retry_after_header: str | None) -> FetchFailure:
    retry_after = parse_retry_after(retry_after_header)
    if status == 404:
        return FetchFailure(requested, "http_404", f"HTTP 404 from {url}", True, status)
    if status == 410:
        return FetchFailure(requested, "http_410", f"HTTP 410 from {url}", True, status)
    if status == 429:
        return FetchFailure(requested, "http_429", f"HTTP 429 from {url}", False, status, retry_after)
    if status >= 500:
        return FetchFailure(requested, "http_5xx", f"HTTP {status} from {url}", False, status, retry_after)
    return FetchFailure(requested, "http_4xx", f"HTTP {status} from {url}", False, status, retry_after)
