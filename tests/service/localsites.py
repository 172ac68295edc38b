"""Many small news sites on 127.0.0.1 (one port = one host), each with an RSS feed of tiny
articles, logging every request's arrival time per host so that tests can check politeness.

Used by tests/service and scripts/bench_workers.py. Every person named in the articles is
fictional; the regions are real.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

FIRST = ["Sutrisno", "Wahyuningsih", "Bambang", "Retno", "Darmaji", "Lestari", "Hendra", "Yuliani", "Agus", "Fitriani"]
LAST = ["Prasetyo", "Handayani", "Saputra", "Kusumawati", "Nugroho", "Rahmawati", "Wibisono", "Purnamasari"]
PLACES = ["Kabupaten Banyumas", "Kota Semarang", "Kabupaten Sleman", "Kabupaten Garut", "Kota Makassar", "Kabupaten Lombok Timur"]
TOPICS = ["jembatan desa", "pasar tradisional", "irigasi sawah", "posyandu", "jalan kabupaten", "festival budaya", "harga cabai", "sekolah dasar"]


def article_text(host_no: int, i: int) -> tuple[str, str]:
    """A tiny, unique, fictional story; every 25th one is an ASN-neutrality incident."""
    who = f"{FIRST[(host_no + i) % len(FIRST)]} {LAST[(i * 7 + host_no) % len(LAST)]}"
    place = PLACES[(host_no * 3 + i) % len(PLACES)]
    topic = TOPICS[(i + host_no * 5) % len(TOPICS)]
    if i % 25 == 7:
        title = f"Camat di {place} dilaporkan ke Bawaslu ({host_no}-{i})"
        body = (
            f"Camat berinisial {who[0]} di {place} dilaporkan ke Bawaslu karena berfoto mengacungkan dua jari bersama calon bupati "
            f"saat kampanye. Bawaslu memanggilnya untuk klarifikasi soal netralitas ASN. Laporan {host_no}{i:04d}."
        )
    else:
        title = f"Perbaikan {topic} tahap {i % 9 + 1} ({host_no}-{i})"
        body = (
            f"Pemerintah {place} memulai perbaikan {topic} tahap {i % 9 + 1}, ditargetkan selesai dalam {i % 11 + 2} pekan, "
            f"kata {who}. Catatan {host_no}-{i}-{(i * 31) % 97}."
        )
    return title, f"<p>{escape(body)}</p>"


def page_html(host_no: int, i: int) -> bytes:
    title, body = article_text(host_no, i)
    return (
        f"<!doctype html><html lang='id'><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><header><a href='/'>Warta {host_no}</a></header><article><h1>{escape(title)}</h1>{body}</article>"
        f"<footer>Redaksi Warta {host_no}</footer></body></html>"
    ).encode()


@dataclass
class LocalSites:
    """`hosts` servers with `per_host` articles each; `requests[host]` = [(arrival, path), ...]."""

    hosts: int = 20
    per_host: int = 100
    servers: list[ThreadingHTTPServer] = field(default_factory=list)
    requests: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    flaky: set[str] = field(default_factory=set)  # paths answered 503 the first time
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def netlocs(self) -> list[str]:
        return [f"127.0.0.1:{s.server_address[1]}" for s in self.servers]

    def feed_url(self, n: int) -> str:
        return f"http://{self.netlocs[n]}/feed.xml"

    def article_urls(self) -> list[str]:
        return [f"http://{host}/a/{i}.html" for host in self.netlocs for i in range(self.per_host)]

    def sources_yaml(self) -> str:
        lines = ["sources:"]
        for n in range(self.hosts):
            lines += [f"  - name: Warta Lokal {n}", f"    homepage: http://{self.netlocs[n]}/", f"    feeds: [{self.feed_url(n)}]"]
        return "\n".join(lines) + "\n"

    def article_requests(self) -> dict[str, int]:
        """How often each article URL was requested."""
        counts: dict[str, int] = defaultdict(int)
        with self._lock:
            for host, reqs in self.requests.items():
                for _, path in reqs:
                    if path.startswith("/a/"):
                        counts[f"http://{host}{path}"] += 1
        return counts

    def smallest_gaps(self) -> dict[str, float]:
        """Per host, the smallest time between two request arrivals (seconds)."""
        gaps = {}
        with self._lock:
            for host, reqs in self.requests.items():
                times = sorted(t for t, _ in reqs)
                if len(times) > 1:
                    gaps[host] = min(b - a for a, b in zip(times, times[1:], strict=False))
        return gaps

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _handler(self, host_no: int) -> type[BaseHTTPRequestHandler]:
        sites = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                arrived = time.monotonic()
                host = f"127.0.0.1:{self.server.server_address[1]}"
                with sites._lock:
                    sites.requests[host].append((arrived, self.path))
                with sites._lock:
                    fail_once = self.path in sites.flaky
                    sites.flaky.discard(self.path)
                if fail_once:
                    self._send(503, b"try again", "text/plain")
                    return
                if self.path == "/feed.xml":
                    body, ctype = sites._feed(host_no, host), "application/rss+xml"
                elif self.path.startswith("/a/") and self.path.endswith(".html"):
                    try:
                        i = int(self.path[3:-5])
                    except ValueError:
                        i = -1
                    if not 0 <= i < sites.per_host:
                        self._send(404, b"not found", "text/plain")
                        return
                    body, ctype = page_html(host_no, i), "text/html; charset=utf-8"
                else:
                    self._send(404, b"not found", "text/plain")
                    return
                self._send(200, body, ctype)

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def _feed(self, host_no: int, host: str) -> bytes:
        now = datetime.now(UTC)
        items = []
        for i in range(self.per_host):
            title, _ = article_text(host_no, i)
            items.append(
                f"<item><title>{escape(title)}</title><link>http://{host}/a/{i}.html</link>"
                f"<pubDate>{format_datetime(now - timedelta(minutes=i))}</pubDate></item>"
            )
        return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Warta {host_no}</title>"
                f"{''.join(items)}</channel></rss>").encode()

    def start(self) -> LocalSites:
        for n in range(self.hosts):
            server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(n))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@contextmanager
def serve(hosts: int = 20, per_host: int = 100) -> Iterator[LocalSites]:
    sites = LocalSites(hosts=hosts, per_host=per_host).start()
    try:
        yield sites
    finally:
        sites.stop()
