"""Local HTTP servers on 127.0.0.1 (random ports) reproducing the faults of the real web.

`site` is a fresh threaded server per test. Register routes with `site.route(path, handler)`
where `handler(req)` gets a `Request` (path, query, headers, hit count) and returns a `Response`
(or sleeps first: a stalled server). `site.hits[path]` counts requests, `site.times[path]` their
arrival times, `site.max_in_flight` the most concurrent requests seen.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from monitor.config import CrawlerConfig


@dataclass
class Request:
    path: str
    query: str
    headers: dict[str, str]
    hit: int  # 1 for the first request to this path


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False  # no Content-Length; body sent in 64 KB chunks
    stall_after_headers: float = 0.0  # seconds to wait after the headers (a stalled response)


Handler = Callable[[Request], Response]


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: dict[str, int] = defaultdict(int)
        self.times: dict[str, list[float]] = defaultdict(list)
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with site._lock:
                    site.hits[parts.path] += 1
                    site.times[parts.path].append(time.monotonic())
                    site.in_flight += 1
                    site.max_in_flight = max(site.max_in_flight, site.in_flight)
                    hit = site.hits[parts.path]
                try:
                    handler = site.routes.get(parts.path)
                    if handler is None:
                        response = Response(404, b"<html><body>Halaman tidak ditemukan</body></html>", {"Content-Type": "text/html"})
                    else:
                        response = handler(Request(parts.path, parts.query, {k.lower(): v for k, v in self.headers.items()}, hit))
                    self._send(response)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with site._lock:
                        site.in_flight -= 1

            def _send(self, response: Response) -> None:
                self.send_response(response.status)
                headers = {"Content-Type": "text/html; charset=utf-8", **response.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                if response.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                elif "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if response.stall_after_headers:
                    self.wfile.flush()
                    time.sleep(response.stall_after_headers)
                if response.chunked:
                    for i in range(0, len(response.body), 65536):
                        chunk = response.body[i : i + 65536]
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(response.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path: str, handler: Handler | Response) -> None:
        self.routes[path] = handler if callable(handler) else (lambda _req, r=handler: r)

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


@pytest.fixture
def crawler_config() -> CrawlerConfig:
    """Fast settings for local servers: no interval, tiny backoff, short timeouts."""
    return CrawlerConfig(
        allow_private_addresses=True,
        per_host_interval=0.0,
        backoff_base=0.01,
        timeout=2.0,
        connect_timeout=1.0,
        max_retries=2,
        concurrency=8,
    )
