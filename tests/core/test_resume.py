"""A round killed with SIGKILL mid-way resumes on the next run with nothing lost and nothing done
twice: every URL ends with exactly one article, one score and at most one review item."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import func, select

from monitor import db, demosite
from monitor.db import Article, FrontierUrl, ReviewItem, ScoreRow, session_scope

from .test_end_to_end import write_config


class SlowSite(ThreadingHTTPServer):
    daemon_threads = True


def serve_slow_demo(delay: float):  # noqa: ANN201
    """The demo site, but every article page takes `delay` seconds."""
    articles = demosite.load_articles()
    state: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

        def do_GET(self) -> None:  # noqa: N802
            base = state["base"]
            path = self.path.split("?")[0]
            if path == "/rss.xml":
                body, ctype = demosite.render_rss(articles, base), "application/rss+xml"
            elif path.startswith("/berita/"):
                time.sleep(delay)
                a = next(a for a in articles if a.slug == path.removeprefix("/berita/"))
                body, ctype = demosite.render_article(a, articles[:3], base), "text/html; charset=utf-8"
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = SlowSite(("127.0.0.1", 0), Handler)
    state["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state["base"], len(articles)


def test_sigkill_mid_round_then_resume(sqlite_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    server, base, n = serve_slow_demo(delay=0.4)
    try:
        cfg = tmp_path / "c.yaml"
        write_config(cfg, sqlite_url, model_dir)
        cfg.write_text(cfg.read_text().replace("concurrency: 8", "concurrency: 2") + f"sources:\n  - name: Lambat\n    homepage: {base}/\n    feeds: [{base}/rss.xml]\n")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        subprocess.run([sys.executable, "-m", "monitor", "--config", str(cfg), "init"], check=True, env=env, capture_output=True)
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(cfg), "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        eng = db.make_engine(sqlite_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill once some, but not all, articles are stored
            with session_scope(eng) as s:
                done = s.scalar(select(func.count()).select_from(Article))
            if done >= 4:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with session_scope(eng) as s:
            assert 4 <= s.scalar(select(func.count()).select_from(Article)) < n
            assert s.scalar(select(func.count()).select_from(FrontierUrl).where(FrontierUrl.lease_owner.is_not(None))) > 0

        rerun = subprocess.run([sys.executable, "-m", "monitor", "--config", str(cfg), "run"], env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert "resuming" in rerun.stderr
        with session_scope(eng) as s:
            assert s.scalar(select(func.count()).select_from(FrontierUrl)) == n
            assert s.scalar(select(func.count()).select_from(FrontierUrl).where(FrontierUrl.state != "scored")) == 0
            assert s.scalar(select(func.count()).select_from(Article)) == n
            assert s.scalar(select(func.count(func.distinct(ScoreRow.article_id)))) == n
            assert s.scalar(select(func.count()).select_from(ScoreRow)) == n
            items = s.scalars(select(ReviewItem.article_id)).all()
            assert len(items) == len(set(items))
        eng.dispose()
    finally:
        server.shutdown()
