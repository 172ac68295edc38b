"""The bundled offline news site: ~30 articles of a fictional regional outlet, served on 127.0.0.1
with an RSS feed, a news sitemap, robots.txt and realistic article pages (navigation, share bars,
"Baca juga" boxes, an Indonesian date line). Used by `monitor demo`, the tests and benchmarks.

Dates are relative to "now" (each article has `days_ago` and `hour` in WIB), so the site always
looks current to `crawler.max_age_days`.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

WIB = timezone(timedelta(hours=7), "WIB")
SITE_NAME = "Warta Nusantara Daerah"
DAYS = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    title: str
    section: str
    author: str
    published: datetime
    province: str | None
    regency: str | None
    expected_label: int
    kind: str
    text: str


def load_articles(now: datetime | None = None) -> list[DemoArticle]:
    now = (now or datetime.now(WIB)).astimezone(WIB)
    out = []
    raw = resources.files(__package__).joinpath("articles.jsonl").read_text(encoding="utf-8")
    for i, line in enumerate(raw.splitlines()):
        if not line.strip():
            continue
        d = json.loads(line)
        day = (now - timedelta(days=int(d["days_ago"]))).date()
        published = datetime(day.year, day.month, day.day, int(d["hour"]), (i * 7) % 60, tzinfo=WIB)
        if published > now:
            published = now - timedelta(minutes=10 + i)
        out.append(
            DemoArticle(
                slug=d["slug"], title=d["title"], section=d["section"], author=d["author"], published=published,
                province=d.get("province"), regency=d.get("regency"), expected_label=int(d["expected_label"]),
                kind=d["kind"], text=d["text"],
            )
        )
    return out


def indonesian_date(dt: datetime) -> str:
    return f"{DAYS[dt.weekday()]}, {dt.day:02d} {MONTHS[dt.month - 1]} {dt.year} {dt:%H:%M} WIB"


def render_article(a: DemoArticle, others: list[DemoArticle], base: str) -> str:
    e = html.escape
    paragraphs = [p for p in a.text.split("\n") if p.strip()]
    body: list[str] = []
    for i, p in enumerate(paragraphs):
        body.append(f"<p>{e(p)}</p>")
        if i == 1 and others:
            o = others[0]
            body.append(f'<p class="baca-juga"><strong>Baca juga:</strong> <a href="{base}/berita/{o.slug}">{e(o.title)}</a></p>')
        if i == 3:
            body.append('<div class="ads">ADVERTISEMENT</div><p class="scroll">SCROLL TO CONTINUE WITH CONTENT</p>')
    related = "".join(f'<li><a href="{base}/berita/{o.slug}">{e(o.title)}</a></li>' for o in others[:4])
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8">
<title>{e(a.title)} - {SITE_NAME}</title>
<link rel="canonical" href="{base}/berita/{a.slug}">
<meta property="og:title" content="{e(a.title)}">
<meta property="article:published_time" content="{a.published.isoformat()}">
<meta name="author" content="{e(a.author)}">
</head><body>
<header><a href="{base}/">{SITE_NAME}</a>
<nav><a href="{base}/kanal/politik">Politik</a> | <a href="{base}/kanal/daerah">Daerah</a> | <a href="{base}/kanal/ekonomi">Ekonomi</a> | <a href="{base}/kanal/olahraga">Olahraga</a></nav></header>
<main><article>
<div class="breadcrumb">Beranda / {e(a.section.title())}</div>
<h1>{e(a.title)}</h1>
<div class="byline">Penulis: {e(a.author)} &middot; <time datetime="{a.published.isoformat()}">{indonesian_date(a.published)}</time></div>
<div class="share">Bagikan: Facebook | Twitter | WhatsApp | Salin tautan</div>
<div class="content">
{chr(10).join(body)}
</div>
<p class="editor">Editor: Redaksi {SITE_NAME}</p>
<p class="gnews">Ikuti kami di Google News</p>
</article>
<aside><h3>Berita Terkait</h3><ul>{related}</ul></aside></main>
<footer>&copy; {a.published.year} {SITE_NAME}. Seluruh hak cipta dilindungi.</footer>
</body></html>"""


def render_rss(articles: list[DemoArticle], base: str) -> str:
    e = html.escape
    items = "".join(
        f"<item><title>{e(a.title)}</title><link>{base}/berita/{a.slug}?utm_source=rss&amp;utm_medium=feed</link>"
        f"<guid>{base}/berita/{a.slug}</guid><pubDate>{format_datetime(a.published)}</pubDate>"
        f"<category>{e(a.section)}</category></item>"
        for a in articles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{SITE_NAME}</title><link>{base}/</link><description>Berita daerah terkini</description>{items}</channel></rss>"
    )


def render_sitemap(articles: list[DemoArticle], base: str) -> str:
    e = html.escape
    urls = "".join(
        f"<url><loc>{base}/berita/{a.slug}</loc><news:news><news:publication><news:name>{SITE_NAME}</news:name>"
        f"<news:language>id</news:language></news:publication><news:publication_date>{a.published.isoformat()}</news:publication_date>"
        f"<news:title>{e(a.title)}</news:title></news:news></url>"
        for a in articles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    )


class _Handler(BaseHTTPRequestHandler):
    server: _DemoServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the access log
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        site = self.server.site
        path = self.path.split("?", 1)[0]
        base = site.base_url
        if path in ("/", "/index.html"):
            links = "".join(f'<li><a href="{base}/berita/{a.slug}">{html.escape(a.title)}</a></li>' for a in site.articles)
            self._send(200, "text/html; charset=utf-8", f"<html><body><h1>{SITE_NAME}</h1><ul>{links}</ul></body></html>")
        elif path == "/rss.xml":
            self._send(200, "application/rss+xml; charset=utf-8", render_rss(site.articles, base))
        elif path == "/sitemap-news.xml":
            self._send(200, "application/xml; charset=utf-8", render_sitemap(site.articles, base))
        elif path == "/robots.txt":
            self._send(200, "text/plain", f"User-agent: *\nDisallow: /admin/\nSitemap: {base}/sitemap-news.xml\n")
        elif path.startswith("/berita/"):
            slug = path.removeprefix("/berita/")
            article = site.by_slug.get(slug)
            if article is None:
                self._send(404, "text/html; charset=utf-8", "<html><body>Halaman tidak ditemukan</body></html>")
                return
            others = [a for a in site.articles if a.slug != slug and a.section == article.section] or [a for a in site.articles if a.slug != slug]
            self._send(200, "text/html; charset=utf-8", render_article(article, others, base))
        else:
            self._send(404, "text/html; charset=utf-8", "<html><body>Halaman tidak ditemukan</body></html>")

    def _send(self, status: int, ctype: str, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    site: DemoSite


class DemoSite:
    def __init__(self, articles: list[DemoArticle] | None = None) -> None:
        self.articles = articles if articles is not None else load_articles()
        self.by_slug = {a.slug: a for a in self.articles}
        self.base_url = ""

    @property
    def feed_url(self) -> str:
        return f"{self.base_url}/rss.xml"

    @property
    def sitemap_url(self) -> str:
        return f"{self.base_url}/sitemap-news.xml"


@contextmanager
def serve(host: str = "127.0.0.1", port: int = 0, articles: list[DemoArticle] | None = None) -> Iterator[DemoSite]:
    """Serve the demo site in a background thread for the duration of the `with` block."""
    site = DemoSite(articles)
    server = _DemoServer((host, port), _Handler)
    server.site = site
    site.base_url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def demo_source(site: DemoSite) -> Any:
    from monitor.config import Source

    return Source(name=SITE_NAME, homepage=site.base_url + "/", feeds=[site.feed_url], sitemaps=[site.sitemap_url], region=None)
