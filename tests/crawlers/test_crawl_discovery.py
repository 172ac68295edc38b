"""Discovery parsers: feeds, sitemaps, robots.txt, canonical URLs, the age filter."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from crawlers.discovery import (
    canonicalize,
    is_recent,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)
from crawlers.types import DiscoveredUrl

FEED_URL = "https://jateng.example.id/rss"

RSS2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Berita Jateng</title>
<item><title>ASN Kudus Dilaporkan ke Bawaslu</title><link>https://jateng.example.id/berita/1/asn-kudus?utm_source=rss&amp;utm_medium=feed</link>
<pubDate>Tue, 19 Dec 2023 07:05:00 GMT</pubDate></item>
<item><title>Sama, Lewat Tautan Lain</title><link>https://JATENG.example.id:443/berita/1/asn-kudus#komentar</link></item>
<item><title>Relatif</title><link>/berita/2/relatif</link><pubDate>Tue, 19 Dec 2023 14:05:00 +0700</pubDate></item>
</channel></rss>"""

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://x.example.id/"><title>X</title><link>https://x.example.id/</link></channel>
<item rdf:about="https://x.example.id/a"><title>A</title><link>https://x.example.id/a</link><dc:date>2023-12-19T14:05:00+07:00</dc:date></item>
</rdf:RDF>"""

RSS091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>Lama</title><link>https://lama.example.id/</link>
<item><title>Satu</title><link>https://lama.example.id/satu</link></item></channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title><id>urn:x</id><updated>2023-12-19T07:05:00Z</updated>
<entry><title>Entri</title><link rel="alternate" href="https://atom.example.id/entri"/><id>urn:1</id>
<published>2023-12-18T01:00:00Z</published><updated>2023-12-19T07:05:00Z</updated></entry></feed>"""


def test_rss2_entries_are_canonical_deduplicated_and_dated():
    items = parse_feed(RSS2, FEED_URL)
    assert [i.url for i in items] == ["https://jateng.example.id/berita/1/asn-kudus", "https://jateng.example.id/berita/2/relatif"]
    assert items[0].title == "ASN Kudus Dilaporkan ke Bawaslu"
    assert items[0].published_at == datetime(2023, 12, 19, 7, 5, tzinfo=UTC)
    assert items[1].published_at == datetime(2023, 12, 19, 7, 5, tzinfo=UTC)
    assert all(i.found_in == FEED_URL for i in items)


@pytest.mark.parametrize(("content", "url"), [(RSS1, "https://x.example.id/a"), (RSS091, "https://lama.example.id/satu"), (ATOM, "https://atom.example.id/entri")])
def test_other_feed_formats(content, url):
    assert [i.url for i in parse_feed(content, "https://feeds.example.id/")] == [url]


def test_atom_prefers_published_over_updated():
    assert parse_feed(ATOM, "https://atom.example.id/feed")[0].published_at == datetime(2023, 12, 18, 1, 0, tzinfo=UTC)


def test_truncated_feed_gives_the_entries_before_the_break():
    truncated = RSS2[: RSS2.index(b"<item><title>Relatif")] + b"<item><title>Putus di teng"
    items = parse_feed(truncated, FEED_URL)
    assert [i.url for i in items] == ["https://jateng.example.id/berita/1/asn-kudus"]


@pytest.mark.parametrize("junk", [b"", b"<html><body>Maintenance</body></html>", b"\x00\xff\xfe", b"<?xml version='1.0'?><rss><channel>"])
def test_non_feeds_give_nothing(junk):
    assert parse_feed(junk, FEED_URL) == []


# ---------------------------------------------------------------- canonical URLs


@pytest.mark.parametrize(
    "variant",
    [
        "https://kabar.example.id/berita/123/asn-gowa",
        "HTTPS://Kabar.Example.ID/berita/123/asn-gowa",
        "https://kabar.example.id:443/berita/123/asn-gowa",
        "https://kabar.example.id/berita/123/asn-gowa#baca",
        "https://kabar.example.id/berita/123/asn-gowa?utm_source=facebook&utm_campaign=x",
        "https://kabar.example.id/berita/123/asn-gowa?fbclid=IwAR0abc",
        "https://kabar.example.id/berita/./123/asn-gowa",
        " https://kabar.example.id/berita/123/asn-gowa?gclid=1 ",
    ],
)
def test_one_article_one_canonical_url(variant):
    assert canonicalize(variant) == "https://kabar.example.id/berita/123/asn-gowa"


def test_content_selecting_query_parameters_are_kept_and_sorted():
    assert canonicalize("https://k.example.id/read?page=2&id=9&utm_medium=x") == "https://k.example.id/read?id=9&page=2"


@pytest.mark.parametrize("bad", ["", "ftp://x.example/a", "javascript:alert(1)", "mailto:a@b.c", "http://", "https://exa mple.com/", "http://x.example:999999/", None])
def test_unusable_urls_give_none(bad):
    assert canonicalize(bad) is None


# ---------------------------------------------------------------- sitemaps

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://s.example.id/berita/1?utm_source=sitemap</loc><lastmod>2023-12-19T14:05:00+07:00</lastmod></url>
<url><loc>https://s.example.id/berita/2</loc><lastmod>2023-12-18</lastmod></url>
<url><loc>https://s.example.id/berita/1</loc></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://s.example.id/sitemap-news.xml</loc><lastmod>2023-12-19</lastmod></sitemap>
<sitemap><loc>/sitemap-2023-12.xml.gz</loc></sitemap>
</sitemapindex>"""

NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://s.example.id/berita/3</loc><lastmod>2023-12-20T00:00:00Z</lastmod>
<news:news><news:publication><news:name>Kabar S</news:name><news:language>id</news:language></news:publication>
<news:publication_date>2023-12-19T14:05:00+07:00</news:publication_date><news:title>Camat Hadiri Deklarasi</news:title></news:news></url>
</urlset>"""


def test_urlset_with_lastmod():
    contents = parse_sitemap(URLSET, "https://s.example.id/sitemap.xml")
    assert [u.url for u in contents.urls] == ["https://s.example.id/berita/1", "https://s.example.id/berita/2"]
    assert contents.urls[0].published_at == datetime(2023, 12, 19, 7, 5, tzinfo=UTC)
    assert contents.urls[1].published_at == datetime(2023, 12, 18, tzinfo=UTC)
    assert contents.sitemaps == []


def test_sitemap_index_lists_children():
    contents = parse_sitemap(INDEX, "https://s.example.id/sitemap_index.xml")
    assert contents.urls == []
    assert contents.sitemaps == ["https://s.example.id/sitemap-news.xml", "https://s.example.id/sitemap-2023-12.xml.gz"]


def test_google_news_sitemap_title_and_publication_date():
    (item,) = parse_sitemap(NEWS, "https://s.example.id/sitemap-news.xml").urls
    assert item.title == "Camat Hadiri Deklarasi"
    assert item.published_at == datetime(2023, 12, 19, 7, 5, tzinfo=UTC)  # publication_date beats lastmod


def test_gzip_sitemap_detected_by_magic_bytes():
    contents = parse_sitemap(gzip.compress(URLSET), "https://s.example.id/sitemap.xml")  # name says nothing
    assert len(contents.urls) == 2


def test_truncated_gzip_sitemap_keeps_what_decompresses():
    data = gzip.compress(URLSET * 1)
    contents = parse_sitemap(data[: len(data) - 12], "https://s.example.id/sitemap.xml.gz")
    assert len(contents.urls) >= 1


def test_plain_text_sitemap():
    contents = parse_sitemap(b"https://s.example.id/a\n\nhttps://s.example.id/b\nnot a url\n", "https://s.example.id/sitemap.txt")
    assert [u.url for u in contents.urls] == ["https://s.example.id/a", "https://s.example.id/b"]


def test_xml_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("RAHASIA")
    xxe = f"""<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file://{secret}">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://s.example.id/&x;</loc></url></urlset>""".encode()
    assert all("RAHASIA" not in u.url for u in parse_sitemap(xxe, "https://s.example.id/s.xml").urls)
    laughs = b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://s.example.id/&e;</loc></url></urlset>"""
    assert all(len(u.url) < 1000 for u in parse_sitemap(laughs, "https://s.example.id/s.xml").urls)


# ---------------------------------------------------------------- robots.txt and recency


def test_sitemaps_from_robots():
    robots = "User-agent: *\nDisallow: /cari\nSitemap: https://r.example.id/sitemap.xml\nsitemap: /news-sitemap.xml # berita\nSitemap: https://r.example.id/sitemap.xml\n"
    assert sitemaps_from_robots(robots, "https://r.example.id/robots.txt") == ["https://r.example.id/sitemap.xml", "https://r.example.id/news-sitemap.xml"]
    assert sitemaps_from_robots("", "https://r.example.id/") == []


def test_is_recent():
    now = datetime(2023, 12, 20, tzinfo=UTC)
    item = lambda when: DiscoveredUrl(url="https://x.id/a", found_in="f", published_at=when)  # noqa: E731
    assert is_recent(item(None), 7, now)
    assert is_recent(item(now - timedelta(days=6)), 7, now)
    assert not is_recent(item(now - timedelta(days=8)), 7, now)
    assert is_recent(item(datetime(2023, 12, 19)), 7, now)  # naive read as UTC
