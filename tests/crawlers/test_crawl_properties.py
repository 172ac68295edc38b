"""Property tests: the parsers never raise, whatever bytes the web sends."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlers.discovery import (
    SitemapContents,
    canonicalize,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)
from crawlers.extraction import (
    canonical_link,
    extract_article,
    next_page_urls,
    parse_indonesian_date,
)
from crawlers.fetching import decode_body

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Fragments that steer random input into the parsers' interesting paths.
XMLISH = st.lists(
    st.sampled_from(
        [b"<?xml version='1.0'?>", b"<rss version='2.0'>", b"<channel>", b"<item>", b"<link>", b"http://a.id/x", b"</link>",
         b"<urlset>", b"<sitemapindex>", b"<sitemap>", b"<url>", b"<loc>", b"</loc>", b"<lastmod>2023-13-45</lastmod>",
         b"<news:publication_date>", b"<feed xmlns='http://www.w3.org/2005/Atom'>", b"<entry>", b"&amp;", b"&x;",
         b"<!DOCTYPE x [<!ENTITY x 'y'>]>", b"\x1f\x8b\x08\x00", b"\x00", b"\xff\xfe", b"]]>", b"<![CDATA["]
    )
    | st.binary(max_size=40),
    max_size=30,
).map(b"".join)

HTMLISH = st.lists(
    st.sampled_from(
        ["<html>", "<head>", "<body>", "<article>", "<p>", "</p>", "<a href='?page=2'>", "<a href=\"//x\">", "</a>",
         "<link rel='next' href='", "<link rel=canonical href=", "'>", "Baca juga: ", "Halaman selanjutnya", "Selasa, 19 Des 2023 14:05 WIB",
         "<meta property='og:title' content='", "<script>", "</script>", "<!--", "-->", "\x00", "\ud7ff", "&#0;", "&amp;"]
    )
    | st.text(max_size=60),
    max_size=40,
).map("".join)


@FAST
@given(st.one_of(st.binary(max_size=500), XMLISH))
def test_parse_feed_never_raises(content):
    assert isinstance(parse_feed(content, "https://f.example.id/rss"), list)


@FAST
@given(st.one_of(st.binary(max_size=500), XMLISH))
def test_parse_sitemap_never_raises(content):
    assert isinstance(parse_sitemap(content, "https://f.example.id/sitemap.xml"), SitemapContents)


@FAST
@given(HTMLISH, st.sampled_from(["https://k.example.id/berita/1/asn", "https://k.example.id/", "not a url", ""]))
def test_html_functions_never_raise(html, url):
    article = extract_article(html, url)
    assert article is None or article.text
    assert isinstance(next_page_urls(html, url), list)
    canonical_link(html, url)
    parse_indonesian_date(html)


@FAST
@given(st.binary(max_size=300), st.sampled_from([None, "text/html", "text/html; charset=bogus", "text/html; charset=utf-16"]))
def test_decode_body_never_raises(content, content_type):
    text, encoding = decode_body(content, content_type)
    assert isinstance(text, str) and encoding


@FAST
@given(st.text(max_size=200))
def test_url_helpers_never_raise(text):
    canonicalize(text)
    sitemaps_from_robots(text, "https://r.example.id/")
