"""Fetcher against local servers: one fault of the real web per test."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import time

import pytest
from conftest import Response
from crawl_helpers import article_html, html_page

from crawlers.discovery import parse_feed, parse_sitemap
from crawlers.extraction import extract_article, join_pages, next_page_urls
from crawlers.fetching import Fetcher, RetryPolicy, decode_body, parse_retry_after, retry_delay
from crawlers.types import FetchedPage, FetchFailure, Validators


def fetch(config, url, **kwargs):
    async def go():
        async with Fetcher(config) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(go())


def fetch_many(config, urls, **kwargs):
    async def go():
        async with Fetcher(config) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(u, **kwargs) for u in urls))

    return asyncio.run(go())


OK_PAGE = Response(200, article_html().encode())


# ---------------------------------------------------------------- retries and errors


def test_500_twice_then_200_is_retried_to_success(site, crawler_config):
    site.route("/a", lambda req: Response(500, b"error") if req.hit <= 2 else OK_PAGE)
    result = fetch(crawler_config, site.url("/a"))
    assert isinstance(result, FetchedPage) and result.status == 200
    assert site.hits["/a"] == 3


def test_500_beyond_max_retries_fails_temporarily(site, crawler_config):
    site.route("/a", Response(503, b"busy"))
    result = fetch(crawler_config, site.url("/a"))
    assert isinstance(result, FetchFailure)
    assert (result.reason, result.permanent, result.status) == ("http_5xx", False, 503)
    assert site.hits["/a"] == crawler_config.max_retries + 1


def test_retry_policy_switched_off_tries_once(site, crawler_config):
    site.route("/a", Response(500))

    async def go():
        async with Fetcher(crawler_config) as fetcher:
            fetcher.retry = RetryPolicy(5, 0.01, enabled=False)
            return await fetcher.fetch(site.url("/a"))

    assert asyncio.run(go()).reason == "http_5xx"
    assert site.hits["/a"] == 1


def test_stalled_response_times_out(site, crawler_config):
    site.route("/slow", Response(200, b"<html>late</html>", stall_after_headers=3.0))
    config = dataclasses.replace(crawler_config, timeout=0.4, max_retries=1)
    started = time.monotonic()
    result = fetch(config, site.url("/slow"))
    assert isinstance(result, FetchFailure) and result.reason == "timeout" and not result.permanent
    assert site.hits["/slow"] == 2  # retried once
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(("status", "reason"), [(404, "http_404"), (410, "http_410")])
def test_404_and_410_are_permanent_and_not_retried(site, crawler_config, status, reason):
    site.route("/gone", Response(status, b"gone"))
    result = fetch(crawler_config, site.url("/gone"))
    assert (result.reason, result.permanent, result.status) == (reason, True, status)
    assert site.hits["/gone"] == 1


def test_connection_refused_is_a_temporary_connect_error(crawler_config):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = fetch(dataclasses.replace(crawler_config, max_retries=0), f"http://127.0.0.1:{port}/x")
    assert (result.reason, result.permanent) == ("connect_error", False)


def test_429_with_retry_after_is_honoured(site, crawler_config):
    site.route("/a", lambda req: Response(429, headers={"Retry-After": "1"}) if req.hit == 1 else OK_PAGE)
    result = fetch(crawler_config, site.url("/a"))
    assert isinstance(result, FetchedPage)
    gap = site.times["/a"][1] - site.times["/a"][0]
    assert 0.9 <= gap < 3.0


def test_long_retry_after_is_returned_not_slept(site, crawler_config):
    site.route("/a", Response(429, headers={"Retry-After": "3600"}))
    result = fetch(crawler_config, site.url("/a"))
    assert (result.reason, result.retry_after, result.permanent) == ("http_429", 3600.0, False)
    assert site.hits["/a"] == 1


def test_retry_delay_is_exponential_with_bounded_jitter():
    assert retry_delay(0, backoff_base=1.0, rng=lambda: 0.0) == 1.0
    assert retry_delay(3, backoff_base=1.0, rng=lambda: 0.0) == 8.0
    assert retry_delay(3, backoff_base=1.0, rng=lambda: 1.0) == 12.0
    assert retry_delay(20, backoff_base=1.0) == 60.0  # capped
    assert retry_delay(2, 7.0) == 7.0  # Retry-After wins


def test_parse_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# ---------------------------------------------------------------- redirects


def test_301_to_the_canonical_url_is_followed(site, crawler_config):
    site.route("/old", Response(301, headers={"Location": "/berita/2023/12/asn-gowa"}))
    site.route("/berita/2023/12/asn-gowa", OK_PAGE)
    result = fetch(crawler_config, site.url("/old"))
    assert isinstance(result, FetchedPage)
    assert result.requested_url == site.url("/old")
    assert result.final_url == site.url("/berita/2023/12/asn-gowa")


def test_redirect_loop_stops_at_the_limit(site, crawler_config):
    site.route("/loop", Response(302, headers={"Location": "/loop"}))
    result = fetch(dataclasses.replace(crawler_config, max_redirects=3), site.url("/loop"))
    assert (result.reason, result.permanent) == ("too_many_redirects", True)
    assert site.hits["/loop"] == 4


# ---------------------------------------------------------------- content types, size, charset


def test_pdf_listed_in_a_feed_is_recorded_and_skipped(site, crawler_config):
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Daerah</title>'
        f"<item><title>Laporan</title><link>{site.url('/files/laporan.pdf')}</link></item>"
        f"<item><title>Berita</title><link>{site.url('/berita/1')}</link></item>"
        "</channel></rss>"
    )
    site.route("/rss", Response(200, feed.encode(), {"Content-Type": "application/rss+xml"}))
    site.route("/files/laporan.pdf", Response(200, b"%PDF-1.4 ...", {"Content-Type": "application/pdf"}))
    site.route("/berita/1", OK_PAGE)
    listing = fetch(crawler_config, site.url("/rss"), kind="feed")
    urls = [item.url for item in parse_feed(listing.content, site.url("/rss"))]
    results = fetch_many(crawler_config, urls)
    assert results[0].reason == "not_html" and results[0].permanent
    assert isinstance(results[1], FetchedPage)


def test_image_is_not_html(site, crawler_config):
    site.route("/foto.jpg", Response(200, b"\xff\xd8\xff\xe0", {"Content-Type": "image/jpeg"}))
    assert fetch(crawler_config, site.url("/foto.jpg")).reason == "not_html"


def test_oversized_page_is_aborted_while_streaming(site, crawler_config):
    big = html_page("<p>" + "kata " * 100_000 + "</p>").encode()
    site.route("/big", Response(200, big, chunked=True))
    site.route("/big-declared", Response(200, big))
    config = dataclasses.replace(crawler_config, max_page_bytes=100_000)
    streamed, declared = fetch_many(config, [site.url("/big"), site.url("/big-declared")])
    assert (streamed.reason, streamed.permanent) == ("too_large", True)
    assert "more than 100000 bytes" in streamed.detail
    assert declared.reason == "too_large" and "declares" in declared.detail


def test_windows_1252_page_keeps_its_accented_characters(site, crawler_config):
    text = "Kafé di Kota Tua, “kata” Bupati Désirée Siregar — naïve"
    site.route("/meta", Response(200, html_page(f"<p>{text}</p>", charset="windows-1252").encode("cp1252"), {"Content-Type": "text/html"}))
    site.route("/header", Response(200, html_page(f"<p>{text}</p>", charset=None).encode("cp1252"), {"Content-Type": "text/html; charset=ISO-8859-1"}))
    by_meta, by_header = fetch_many(crawler_config, [site.url("/meta"), site.url("/header")])
    assert text in by_meta.text and by_meta.encoding == "cp1252"
    assert text in by_header.text  # ISO-8859-1 label read as windows-1252 (curly quotes survive)


def test_charset_detected_when_nothing_is_declared():
    paragraph = "Pemerintah daerah menggelar pertemuan di kafé dekat alun-alun; Désirée dan René hadir. " * 20
    text, encoding = decode_body(html_page(f"<p>{paragraph}</p>", charset=None).encode("cp1252"), "text/html")
    assert "kafé" in text and "Désirée" in text, encoding


def test_wrong_header_charset_falls_back_to_detection():
    text, _ = decode_body("<p>Rp 5.000 — harga naik</p>".encode(), "text/html; charset=us-ascii")
    assert "—" in text


# ---------------------------------------------------------------- conditional GET


def test_conditional_get_gives_not_modified(site, crawler_config):
    feed = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'

    def handler(req):
        if req.headers.get("if-none-match") == '"v1"':
            return Response(304, headers={"ETag": '"v1"'})
        return Response(200, feed, {"ETag": '"v1"', "Last-Modified": "Tue, 19 Dec 2023 07:05:00 GMT", "Content-Type": "application/xml"})

    site.route("/rss", handler)
    first = fetch(crawler_config, site.url("/rss"), kind="feed")
    assert first.validators == Validators(etag='"v1"', last_modified="Tue, 19 Dec 2023 07:05:00 GMT")
    second = fetch(crawler_config, site.url("/rss"), validators=first.validators, kind="feed")
    assert isinstance(second, FetchedPage) and second.not_modified and second.status == 304
    assert second.validators.etag == '"v1"'
    assert site.hits["/rss"] == 2


# ---------------------------------------------------------------- robots.txt, throttling


def test_robots_disallow_is_respected_and_cached(site, crawler_config):
    site.route("/robots.txt", Response(200, b"User-agent: *\nDisallow: /rahasia/\n", {"Content-Type": "text/plain"}))
    site.route("/rahasia/x", OK_PAGE)
    site.route("/berita/1", OK_PAGE)
    blocked, allowed, again = fetch_many(crawler_config, [site.url("/rahasia/x"), site.url("/berita/1"), site.url("/berita/1")])
    assert (blocked.reason, blocked.permanent) == ("robots_disallowed", True)
    assert isinstance(allowed, FetchedPage) and isinstance(again, FetchedPage)
    assert site.hits["/rahasia/x"] == 0
    assert site.hits["/robots.txt"] == 1


def test_robots_switched_off_fetches_anyway(site, crawler_config):
    site.route("/robots.txt", Response(200, b"User-agent: *\nDisallow: /\n", {"Content-Type": "text/plain"}))
    site.route("/a", OK_PAGE)
    result = fetch(dataclasses.replace(crawler_config, respect_robots_txt=False), site.url("/a"))
    assert isinstance(result, FetchedPage) and site.hits["/robots.txt"] == 0


def test_missing_robots_txt_allows_everything(site, crawler_config):
    site.route("/a", OK_PAGE)
    assert isinstance(fetch(crawler_config, site.url("/a")), FetchedPage)
    assert site.hits["/robots.txt"] == 1


def test_crawl_delay_spaces_requests_to_the_host(site, crawler_config):
    site.route("/robots.txt", Response(200, b"User-agent: *\nCrawl-delay: 0.3\n", {"Content-Type": "text/plain"}))
    for i in range(3):
        site.route(f"/b{i}", OK_PAGE)
    fetch_many(crawler_config, [site.url(f"/b{i}") for i in range(3)])
    starts = sorted(t for i in range(3) for t in site.times[f"/b{i}"])
    assert all(b - a >= 0.28 for a, b in zip(starts, starts[1:], strict=False)), starts


def test_per_host_interval_spaces_requests(site, crawler_config):
    for i in range(3):
        site.route(f"/c{i}", OK_PAGE)
    fetch_many(dataclasses.replace(crawler_config, per_host_interval=0.2), [site.url(f"/c{i}") for i in range(3)])
    starts = sorted(t for i in range(3) for t in site.times[f"/c{i}"])
    assert all(b - a >= 0.18 for a, b in zip(starts, starts[1:], strict=False)), starts


def test_global_concurrency_is_bounded(site, crawler_config):
    for i in range(6):
        site.route(f"/d{i}", Response(200, article_html().encode(), stall_after_headers=0.15))
    fetch_many(dataclasses.replace(crawler_config, concurrency=2), [site.url(f"/d{i}") for i in range(6)])
    assert site.max_in_flight == 2


# ---------------------------------------------------------------- SSRF guard


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_addresses_are_refused_by_default(site, crawler_config, host):
    site.route("/a", OK_PAGE)
    url = site.url("/a").replace("127.0.0.1", host)
    result = fetch(dataclasses.replace(crawler_config, allow_private_addresses=False), url)
    assert (result.reason, result.permanent) == ("private_address", True)
    assert site.hits["/a"] == 0 and site.hits["/robots.txt"] == 0


@pytest.mark.parametrize(
    ("address", "public"),
    [("10.1.2.3", False), ("169.254.169.254", False), ("::1", False), ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("100.64.0.1", False), ("8.8.8.8", True), ("2001:4860:4860::8888", True)],
)
def test_address_classification(address, public):
    from crawlers.fetching import AddressGuard

    assert AddressGuard.is_public(address) is public


def test_invalid_urls_fail_permanently(crawler_config):
    assert fetch(crawler_config, "ftp://example.org/x").reason == "invalid_url"
    assert fetch(crawler_config, "http://example.org:99999/x").reason == "invalid_url"


# ---------------------------------------------------------------- sitemaps and multi-page over HTTP


def test_gzip_sitemap_over_http(site, crawler_config):
    xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{site.url("/berita/1")}</loc></url></urlset>'
    site.route("/sitemap.xml.gz", Response(200, gzip.compress(xml.encode()), {"Content-Type": "application/x-gzip"}))
    site.route("/sitemap-encoded.xml", Response(200, gzip.compress(xml.encode()), {"Content-Type": "application/xml", "Content-Encoding": "gzip"}))
    raw, encoded = fetch_many(crawler_config, [site.url("/sitemap.xml.gz"), site.url("/sitemap-encoded.xml")], kind="feed")
    assert [u.url for u in parse_sitemap(raw.content, raw.final_url).urls] == [site.url("/berita/1")]
    assert [u.url for u in parse_sitemap(encoded.content, encoded.final_url).urls] == [site.url("/berita/1")]


def test_two_page_article_is_joined(site, crawler_config):
    page1 = article_html(
        ["SURABAYA - Seorang camat di Kabupaten Sidoarjo dilaporkan ke Bawaslu karena menghadiri deklarasi pasangan calon."],
        extra_body='<div class="pagination">Halaman <a href="?page=1">1</a> <a href="?page=2">2</a> <a href="?page=2">Halaman selanjutnya</a></div>',
    )
    page2 = article_html(
        ["Kepala Badan Kepegawaian Daerah Sidoarjo, Wahyu Kurniawan Hadi, berjanji memeriksa camat tersebut pekan depan."],
        extra_body='<div class="pagination"><a href="?page=1">1</a> <a href="?page=2">2</a></div>',
    )
    site.route("/berita/camat", lambda req: Response(200, (page2 if "page=2" in req.query else page1).encode()))

    async def go():
        async with Fetcher(crawler_config) as fetcher:
            first = await fetcher.fetch(site.url("/berita/camat"))
            pages = [extract_article(first.text, first.final_url)]
            for url in next_page_urls(first.text, first.final_url):
                more = await fetcher.fetch(url)
                pages.append(extract_article(more.text, more.final_url))
            return join_pages(pages)

    article = asyncio.run(go())
    assert article.pages == 2
    assert "menghadiri deklarasi" in article.text and "Wahyu Kurniawan Hadi" in article.text
    assert article.url == site.url("/berita/camat")


def test_one_request_in_flight_per_host_with_an_interval() -> None:
    """A slow answer never lets the next request to that host start before it is complete."""
    import asyncio

    from crawlers.fetching import HostThrottle

    events: list[tuple[str, int, float]] = []

    async def request(throttle: HostThrottle, n: int) -> None:
        await throttle.acquire("a.example")
        loop = asyncio.get_running_loop()
        events.append(("start", n, loop.time()))
        await asyncio.sleep(0.05)  # a slow response
        events.append(("end", n, loop.time()))
        throttle.release("a.example")

    async def main() -> None:
        throttle = HostThrottle(0.01, 8)
        await asyncio.gather(*(request(throttle, n) for n in range(3)))

    asyncio.run(main())
    kinds = [e[0] for e in events]
    assert kinds == ["start", "end"] * 3  # never two in flight
    starts = [e[2] for e in events if e[0] == "start"]
    assert all(b - a >= 0.05 for a, b in zip(starts, starts[1:], strict=False))
