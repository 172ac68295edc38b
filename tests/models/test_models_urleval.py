"""`monitor evaluate --urls`: fetch labelled pages from a local server, cache them, report."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main

PAGES = {
    "/berita/camat-deklarasi": (
        "Camat Diduga Ikut Deklarasi Paslon",
        [
            "Camat Sukamaju, Kabupaten Bekasi, Hendra Wibowo Saputra, diduga ikut menghadiri deklarasi pasangan calon bupati pada Minggu malam.",
            "Foto dirinya berpose dengan salam dua jari bersama paslon beredar di grup WhatsApp warga dan memicu protes.",
            "Bawaslu Kabupaten Bekasi memanggil yang bersangkutan untuk klarifikasi atas dugaan pelanggaran netralitas ASN tersebut.",
        ],
    ),
    "/berita/harga-cabai": (
        "Harga Cabai Rawit Naik di Pasar Induk",
        [
            "Harga cabai rawit di pasar induk naik menjadi Rp80.000 per kilogram menjelang akhir pekan ini.",
            "Pedagang bernama Siti Rahmawati Lestari menyebut pasokan dari petani berkurang karena hujan deras sepekan terakhir.",
            "Dinas perdagangan setempat berjanji menggelar operasi pasar agar harga kembali stabil bagi warga.",
        ],
    ),
    "/berita/apel-netralitas": (
        "Ratusan ASN Ikuti Apel Netralitas",
        [
            "Ratusan aparatur sipil negara mengikuti apel dan ikrar netralitas yang dipimpin penjabat bupati di halaman kantor.",
            "Penjabat bupati mengingatkan seluruh pegawai agar menjaga netralitas selama tahapan pilkada berlangsung.",
            "Kegiatan itu ditutup dengan penandatanganan pakta integritas oleh para kepala dinas dan camat.",
        ],
    ),
}


class Handler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        Handler.hits.append(self.path)
        if self.path == "/robots.txt":
            body, status, ctype = b"User-agent: *\nAllow: /\n", 200, "text/plain"
        elif self.path in PAGES:
            title, paras = PAGES[self.path]
            html = f"<html lang='id'><head><title>{title}</title></head><body><nav>Beranda | Politik</nav><article><h1>{title}</h1>"
            html += "".join(f"<p>{p}</p>" for p in paras) + "</article><footer>Hak cipta</footer></body></html>"
            body, status, ctype = html.encode("utf-8"), 200, "text/html; charset=utf-8"
        else:
            body, status, ctype = b"not found", 404, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_evaluate_urls_fetches_caches_and_reports(tmp_path: Path, site: str, small_registry: Path) -> None:
    manifest = tmp_path / "manifest.jsonl"
    rows = [
        {"url": f"{site}/berita/camat-deklarasi", "label": 1, "category": "incident"},
        {"url": f"{site}/berita/harga-cabai", "label": 0, "category": "ordinary"},
        {"url": f"{site}/berita/apel-netralitas", "label": 0, "category": "pledge"},
        {"url": f"{site}/berita/hilang", "label": 0, "category": "ordinary"},
    ]
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"classifier:\n  model_dir: {small_registry}\n"
        "crawler:\n  allow_private_addresses: true\n  per_host_interval: 0\n  max_retries: 0\n",
        encoding="utf-8",
    )
    cache = tmp_path / "cache"
    args = ["--config", str(cfg), "evaluate", "--urls", str(manifest), "--cache", str(cache)]
    Handler.hits.clear()
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "3 pages read (4 fetched now, the rest from" in first.stderr and "1 skipped" in first.stderr
    assert "3 articles (1 incidents)" in first.stdout
    assert "skipped pages: http_404 1" in first.stdout
    assert len(list(cache.glob("*.json"))) == 4  # the 404 is permanent: cached too

    Handler.hits.clear()
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "3 pages read (0 fetched now" in second.stderr
    assert "3 articles (1 incidents)" in second.stdout
    assert [h for h in Handler.hits if h.startswith("/berita/")] == []
