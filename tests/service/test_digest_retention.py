"""The daily digest (window, escaping, CSV, e-mail over STARTTLS to a local aiosmtpd) and
retention (raw HTML dropped, text/scores/decisions kept), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import email
import io
import ipaddress
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor import queue
from monitor.cli import main
from monitor.config import load_config
from monitor.db import (
    Article,
    Decision,
    FrontierUrl,
    RawPage,
    ReviewItem,
    Run,
    ScoreRow,
    session_scope,
)
from monitor.digest import collect, run_digest, window
from monitor.retention import run_retention
from tests.service.helpers import write_config

NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 07:00 WIB, after the 06:30 digest


def _story(session, n: int, *, title: str, flagged_at: datetime, fetched_at: datetime | None = None, prob: float = 0.9) -> ReviewItem:  # noqa: ANN001
    row = FrontierUrl(url=f"https://warta.example.id/{n}", host="warta.example.id", state="scored", discovered_at=flagged_at, updated_at=flagged_at)
    session.add(row)
    session.flush()
    if fetched_at is not None:
        session.add(RawPage(frontier_id=row.id, content=b"<html>...</html>", encoding="utf-8", content_type="text/html", fetched_at=fetched_at))
    art = Article(frontier_id=row.id, url=row.url, title=title, text=f"Isi berita {n}.", content_hash=f"h{n}", province="Jawa Tengah", regency="Kabupaten Banyumas", created_at=flagged_at)
    session.add(art)
    session.flush()
    score = ScoreRow(article_id=art.id, model_version="v1", probability=prob, threshold=0.5, flagged=True, evidence={}, created_at=flagged_at)
    session.add(score)
    session.flush()
    item = ReviewItem(article_id=art.id, score_id=score.id, probability=prob, status="new", created_at=flagged_at, updated_at=flagged_at)
    session.add(item)
    session.flush()
    return item


@pytest.fixture
def stories(engine: Engine) -> Engine:
    with session_scope(engine) as s:
        _story(s, 1, title="Camat <b>Suryo</b> & \"dua jari\" di Banyumas", flagged_at=NOW - timedelta(hours=2), fetched_at=NOW - timedelta(days=40))
        _story(s, 2, title="=HYPERLINK(\"http://evil\") Lurah diperiksa", flagged_at=NOW - timedelta(hours=20), fetched_at=NOW - timedelta(days=2))
        _story(s, 3, title="Berita lama, di luar jendela", flagged_at=NOW - timedelta(hours=30), fetched_at=NOW - timedelta(days=31))
        old = _story(s, 4, title="Keputusan kemarin", flagged_at=NOW - timedelta(days=3))
        # yesterday in WIB = 2026-11-24 (UTC 2026-11-23 17:00 .. 2026-11-24 17:00)
        s.add(Decision(review_item_id=old.id, user="rina", action="confirm", previous_status="in_review", new_status="confirmed",
                       violation_type="photo_hand_sign", note="<script>alert(1)</script>", created_at=datetime(2026, 11, 24, 3, 0, tzinfo=UTC)))
        s.add(Decision(review_item_id=old.id, user="rina", action="reopen", previous_status="confirmed", new_status="in_review",
                       created_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC)))
    return engine


def _config(tmp_path: Path, db_url: str, model_dir: Path, extra: str = ""):  # noqa: ANN202
    return load_config(write_config(tmp_path / "c.yaml", db_url, model_dir, extra=extra))


def test_window_is_the_24_hours_before_the_digest_time(tmp_path: Path, sqlite_url: str, model_dir: Path) -> None:
    config = _config(tmp_path, sqlite_url, model_dir)
    day, start, end = window(config, None, NOW)
    assert day == dt.date(2026, 11, 25)
    assert end == datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # 06:30 WIB
    assert end - start == timedelta(hours=24)
    early = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # 05:00 WIB: the digest time is still ahead
    assert window(config, None, early)[2] == early


def test_digest_lists_the_days_items_and_yesterdays_decisions_escaped(stories: Engine, tmp_path: Path, db_url: str, model_dir: Path) -> None:
    config = _config(tmp_path, db_url, model_dir)
    result = run_digest(config, stories, now=NOW)
    assert [it["title"][:5] for it in result.items] == ["Camat", "=HYPE"]  # highest score first, story 3 outside
    assert [(d["user"], d["action"]) for d in result.decisions] == [("rina", "confirm")]
    html_text = (tmp_path / "digests" / "digest-2026-11-25.html").read_text()
    assert "Camat &lt;b&gt;Suryo&lt;/b&gt; &amp; &quot;dua jari&quot;" in html_text
    assert "<script>" not in html_text and "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "Berita lama" not in html_text
    rows = list(csv.DictReader(io.StringIO((tmp_path / "digests" / "digest-2026-11-25.csv").read_text(encoding="utf-8-sig"))))
    assert [r["title"] for r in rows] == ['Camat <b>Suryo</b> & "dua jari" di Banyumas', "'=HYPERLINK(\"http://evil\") Lurah diperiksa"]
    assert rows[0]["region"] == "Kabupaten Banyumas, Jawa Tengah" and rows[0]["url"] == "https://warta.example.id/1"
    assert rows[0]["flagged_at"] == "2026-11-25 05:00"  # WIB
    decisions = list(csv.DictReader(io.StringIO((tmp_path / "digests" / "digest-2026-11-25-decisions.csv").read_text(encoding="utf-8-sig"))))
    assert decisions[0]["new_status"] == "confirmed" and decisions[0]["violation_type"] == "photo_hand_sign"
    with session_scope(stories) as s:
        run = s.scalars(select(Run).where(Run.kind == "digest")).one()
        assert run.status == "ok" and run.counts["items"] == 2


def test_digest_for_a_given_date(stories: Engine, tmp_path: Path, db_url: str, model_dir: Path) -> None:
    config = _config(tmp_path, db_url, model_dir)
    result = collect(config, stories, dt.date(2026, 11, 24), now=NOW)
    assert [it["title"] for it in result.items] == ["Berita lama, di luar jendela"]


# ---------------------------------------------------------------- e-mail


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: with `cryptography` when installed, else openssl."""
    cert_path, key_path = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ModuleNotFoundError:
        if not shutil.which("openssl"):
            pytest.skip("needs the cryptography package or the openssl command to make a test certificate")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key_path), "-out", str(cert_path)],
            check=True, capture_output=True,
        )
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=1)).not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[int, _Inbox, Path]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = _Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        inbox.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"monitor" and auth_data.password == b"rahasia-smtp")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=authenticator, auth_require_tls=True,
    )
    controller.start()
    try:
        yield port, inbox, cert
    finally:
        controller.stop()


def test_digest_is_emailed_over_starttls_with_the_csv(stories: Engine, tmp_path: Path, db_url: str, model_dir: Path, smtp_server, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    port, inbox, cert = smtp_server
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "rahasia-smtp")
    config = _config(tmp_path, db_url, model_dir, extra=f"""  smtp:
    host: 127.0.0.1
    port: {port}
    username: monitor
    password: "${{MONITOR_SMTP_PASSWORD}}"
    ca_file: {cert}
    sender: monitor@example.go.id
    recipients: [tim-netralitas@example.go.id]
""")
    result = run_digest(config, stories, now=NOW)
    assert result.emailed_to == ["tim-netralitas@example.go.id"]
    assert inbox.logins == [(b"monitor", b"rahasia-smtp")]
    (rcpts, raw), = inbox.messages
    assert rcpts == ["tim-netralitas@example.go.id"]
    msg = email.message_from_bytes(raw)
    assert msg["Subject"] == "[netralitas-monitor] digest 2026-11-25: 2 flagged"
    parts = {p.get_filename(): p for p in msg.walk() if p.get_filename()}
    assert set(parts) == {"digest-2026-11-25.csv", "digest-2026-11-25-decisions.csv"}
    rows = list(csv.DictReader(io.StringIO(parts["digest-2026-11-25.csv"].get_payload(decode=True).decode("utf-8-sig"))))
    assert [r["url"] for r in rows] == ["https://warta.example.id/1", "https://warta.example.id/2"]
    html_part = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    assert "Camat &lt;b&gt;Suryo&lt;/b&gt;" in html_part.get_payload(decode=True).decode()


def test_an_untrusted_certificate_is_an_error_and_the_files_stay(stories: Engine, tmp_path: Path, db_url: str, model_dir: Path, smtp_server) -> None:  # noqa: ANN001
    port, inbox, _cert = smtp_server
    cfg = write_config(tmp_path / "c.yaml", db_url, model_dir, extra=f"  smtp:\n    host: 127.0.0.1\n    port: {port}\n    recipients: [a@example.go.id]\n")
    result = CliRunner().invoke(main, ["--config", str(cfg), "digest", "--date", "2026-11-25"])
    assert result.exit_code == 1
    assert "Error: digest not e-mailed via 127.0.0.1:" in result.output and "CERTIFICATE_VERIFY_FAILED" in result.output
    assert (tmp_path / "digests" / "digest-2026-11-25.html").exists()
    assert inbox.messages == []


def test_digest_cli(tmp_path: Path, sqlite_url: str, model_dir: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", sqlite_url, model_dir)
    runner = CliRunner()
    runner.invoke(main, ["--config", str(cfg), "init"])
    result = runner.invoke(main, ["--config", str(cfg), "digest", "--date", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert "digest 2026-11-20: 0 flagged items (2026-11-18 23:30 to 2026-11-19 23:30 UTC), 0 decisions the day before" in result.output.splitlines()
    assert f"wrote {tmp_path / 'digests' / 'digest-2026-11-20.html'}" in result.output


# ---------------------------------------------------------------- retention


def test_retention_drops_old_raw_html_and_keeps_the_rest(stories: Engine, tmp_path: Path, db_url: str, model_dir: Path) -> None:
    config = _config(tmp_path, db_url, model_dir)
    with session_scope(stories) as s:
        before = {t: s.scalar(select(func.count()).select_from(t)) for t in (Article, ScoreRow, ReviewItem, Decision)}
    result = run_retention(config, stories, now=NOW)
    assert result.raw_pages_deleted == 2  # fetched 40 and 31 days ago; the 2-day-old page stays
    with session_scope(stories) as s:
        assert s.scalar(select(func.count()).select_from(RawPage)) == 1
        assert {t: s.scalar(select(func.count()).select_from(t)) for t in before} == before
        assert s.scalars(select(Run).where(Run.kind == "retention")).one().counts["raw_pages_deleted"] == 2
        assert len(queue.list_items(s)) == 4
    assert run_retention(config, stories, now=NOW).raw_pages_deleted == 0


def test_retention_cli(tmp_path: Path, sqlite_url: str, model_dir: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", sqlite_url, model_dir, extra="retention:\n  raw_html_days: 7\n")
    runner = CliRunner()
    runner.invoke(main, ["--config", str(cfg), "init"])
    result = runner.invoke(main, ["--config", str(cfg), "retention"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("retention: deleted"))
    assert line.startswith("retention: deleted 0 raw pages fetched before ") and line.endswith("; article text, scores and decisions kept")
