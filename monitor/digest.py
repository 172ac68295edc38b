"""The daily digest: the last 24 hours' flagged items and yesterday's review decisions, as HTML
and CSV written to `digest.output_dir`, and e-mailed when `digest.smtp` is set.

Window: for day D (in `schedule.timezone`), the 24 hours ending at D's `schedule.digest_at`
(06:30 WIB by default), or ending now when that moment is still ahead (a digest run by hand
earlier in the day). "Yesterday's decisions" are those made on the calendar day before D.

Files: `digest-D.html` (items and decisions), `digest-D.csv` (items), `digest-D-decisions.csv`.
Every value in the HTML is escaped; CSV cells that a spreadsheet would read as a formula are
prefixed with an apostrophe.

E-mail: STARTTLS (required when `digest.smtp.starttls` is true, the default), login when
`username` is set (password from the environment via `"${MONITOR_SMTP_PASSWORD}"`), an HTML body
with a plain-text alternative, the two CSV files attached. A failed send is an error: the files
stay written and `monitor digest` exits 1 naming the SMTP problem.

Config keys read: digest.output_dir, digest.smtp.*, digest.subject_prefix, schedule.digest_at,
schedule.timezone.
"""

from __future__ import annotations

import csv
import html
import io
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from monitor import queue
from monitor.config import Config, SmtpConfig
from monitor.db import Article, Decision, ReviewItem, Run, session_scope, utcnow
from monitor.errors import MonitorError

log = logging.getLogger(__name__)

ITEM_FIELDS = ["id", "score", "status", "title", "source", "region", "published_at", "flagged_at", "url"]
DECISION_FIELDS = ["item_id", "decided_at", "user", "action", "previous_status", "new_status", "violation_type", "note", "title", "url"]


class DigestError(MonitorError):
    """The digest was written but could not be e-mailed (the message names the SMTP problem)."""


@dataclass
class DigestResult:
    day: date
    start: datetime
    end: datetime
    items: list[dict[str, str]]
    decisions: list[dict[str, str]]
    files: list[Path] = field(default_factory=list)
    emailed_to: list[str] = field(default_factory=list)

    def format(self) -> str:
        lines = [
            f"digest {self.day}: {len(self.items)} flagged items ({self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC), "
            f"{len(self.decisions)} decisions the day before"
        ]
        lines += [f"  wrote {p}" for p in self.files]
        if self.emailed_to:
            lines.append(f"  e-mailed to {', '.join(self.emailed_to)}")
        return "\n".join(lines)


def window(config: Config, day: date | None = None, now: datetime | None = None) -> tuple[date, datetime, datetime]:
    """(day, start, end) in UTC for the digest of `day` (default: today in schedule.timezone)."""
    tz = ZoneInfo(config.schedule.timezone)
    now = now or utcnow()
    day = day or now.astimezone(tz).date()
    hour, minute = (int(x) for x in (config.schedule.digest_at or "00:00").split(":"))
    end = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)
    end = min(end, now)
    return day, end - timedelta(hours=24), end


def collect(config: Config, engine: Engine, day: date | None = None, now: datetime | None = None) -> DigestResult:
    day, start, end = window(config, day, now)
    tz = ZoneInfo(config.schedule.timezone)
    yesterday = day - timedelta(days=1)
    d_start = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=tz).astimezone(UTC)
    d_end = d_start + timedelta(days=1)
    with session_scope(engine) as session:
        q = queue.list_query(queue.Filters()).where(ReviewItem.created_at >= start, ReviewItem.created_at < end)
        items = [
            {
                "id": str(item.id),
                "score": f"{item.probability:.3f}",
                "status": item.status,
                "title": article.title,
                "source": source or "",
                "region": ", ".join(x for x in (article.regency, article.province) if x),
                "published_at": _local(article.published_at, tz),
                "flagged_at": _local(item.created_at, tz),
                "url": article.url,
            }
            for item, article, source, _model in session.execute(q)
        ]
        rows = session.execute(
            select(Decision, Article.title, Article.url)
            .join(ReviewItem, ReviewItem.id == Decision.review_item_id)
            .join(Article, Article.id == ReviewItem.article_id)
            .where(Decision.created_at >= d_start, Decision.created_at < d_end, Decision.action != "claim")
            .order_by(Decision.created_at, Decision.id)
        )
        decisions = [
            {
                "item_id": str(d.review_item_id),
                "decided_at": _local(d.created_at, tz),
                "user": d.user,
                "action": d.action,
                "previous_status": d.previous_status,
                "new_status": d.new_status,
                "violation_type": d.violation_type or "",
                "note": d.note or "",
                "title": title,
                "url": url,
            }
            for d, title, url in rows
        ]
    return DigestResult(day=day, start=start, end=end, items=items, decisions=decisions)


def _local(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def _csv_safe(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(rows: list[dict[str, str]], fields: list[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_safe(row.get(k, "")) for k in fields})
    return buf.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheet programs read UTF-8


def to_html(result: DigestResult, config: Config) -> str:
    e = html.escape
    tz = config.schedule.timezone
    parts = [
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>",
        f"<title>Digest netralitas ASN {e(str(result.day))}</title>",
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>",
        "</head><body>",
        f"<h1>Digest netralitas ASN, {e(str(result.day))}</h1>",
        f"<p>{len(result.items)} berita ditandai antara {e(_local(result.start, ZoneInfo(tz)))} dan {e(_local(result.end, ZoneInfo(tz)))} ({e(tz)}).</p>",
        "<h2>Berita ditandai</h2>",
    ]
    if result.items:
        parts.append("<table><tr><th>Skor</th><th>Status</th><th>Judul</th><th>Sumber</th><th>Wilayah</th><th>Terbit</th></tr>")
        for it in result.items:
            parts.append(
                f"<tr><td>{e(it['score'])}</td><td>{e(it['status'])}</td>"
                f"<td><a href=\"{e(it['url'], quote=True)}\">{e(it['title'])}</a></td>"
                f"<td>{e(it['source'])}</td><td>{e(it['region'])}</td><td>{e(it['published_at'])}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>Tidak ada berita baru yang ditandai.</p>")
    parts.append("<h2>Keputusan kemarin</h2>")
    if result.decisions:
        parts.append("<table><tr><th>Waktu</th><th>Peninjau</th><th>Keputusan</th><th>Jenis pelanggaran</th><th>Judul</th><th>Catatan</th></tr>")
        for d in result.decisions:
            parts.append(
                f"<tr><td>{e(d['decided_at'])}</td><td>{e(d['user'])}</td><td>{e(d['previous_status'])} &rarr; {e(d['new_status'])}</td>"
                f"<td>{e(d['violation_type'])}</td><td><a href=\"{e(d['url'], quote=True)}\">{e(d['title'])}</a></td><td>{e(d['note'])}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>Tidak ada keputusan.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def to_text(result: DigestResult) -> str:
    lines = [f"Digest netralitas ASN {result.day}: {len(result.items)} berita ditandai", ""]
    lines += [f"{it['score']}  {it['title']}\n      {it['url']}" for it in result.items]
    lines += ["", f"Keputusan kemarin: {len(result.decisions)}"]
    lines += [f"{d['decided_at']}  {d['user']}: {d['new_status']}  {d['title']}" for d in result.decisions]
    return "\n".join(lines) + "\n"


def write_files(result: DigestResult, config: Config) -> list[Path]:
    out = Path(config.digest.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"digest-{result.day}"
    files = {
        out / f"{stem}.html": to_html(result, config).encode("utf-8"),
        out / f"{stem}.csv": to_csv(result.items, ITEM_FIELDS),
        out / f"{stem}-decisions.csv": to_csv(result.decisions, DECISION_FIELDS),
    }
    for path, data in files.items():
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see a half-written file
    return list(files)


def build_message(result: DigestResult, config: Config, smtp: SmtpConfig) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"{config.digest.subject_prefix} digest {result.day}: {len(result.items)} flagged".strip()
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(smtp.recipients)
    msg.set_content(to_text(result))
    msg.add_alternative(to_html(result, config), subtype="html")
    msg.add_attachment(to_csv(result.items, ITEM_FIELDS), maintype="text", subtype="csv", filename=f"digest-{result.day}.csv")
    msg.add_attachment(to_csv(result.decisions, DECISION_FIELDS), maintype="text", subtype="csv", filename=f"digest-{result.day}-decisions.csv")
    return msg


def send(msg: EmailMessage, smtp: SmtpConfig) -> None:
    """Send over SMTP with STARTTLS (required unless `smtp.starttls` is false)."""
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            client.ehlo()
            if smtp.starttls:
                if not client.has_extn("starttls"):
                    raise DigestError(f"SMTP server {smtp.host}:{smtp.port} does not offer STARTTLS (digest.smtp.starttls is true)")
                context = ssl.create_default_context(cafile=smtp.ca_file)
                client.starttls(context=context)
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(msg)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DigestError(f"digest not e-mailed via {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}") from None


def run_digest(config: Config, engine: Engine, *, day: date | None = None, send_mail: bool = True, now: datetime | None = None) -> DigestResult:
    """Collect, write, and (when configured) e-mail the digest; recorded as a `runs` row."""
    started = time.monotonic()
    result = collect(config, engine, day, now)
    result.files = write_files(result, config)
    status, error = "ok", None
    try:
        smtp = config.digest.smtp
        if send_mail and smtp is not None and smtp.recipients:
            send(build_message(result, config, smtp), smtp)
            result.emailed_to = list(smtp.recipients)
    except DigestError as exc:
        status, error = "failed", str(exc)
        raise
    finally:
        with session_scope(engine) as session:
            session.add(
                Run(kind="digest", started_at=utcnow(), finished_at=utcnow(), status=status, seconds=time.monotonic() - started, error=error,
                    counts={"day": str(result.day), "items": len(result.items), "decisions": len(result.decisions), "emailed": len(result.emailed_to)})
            )
    log.info("digest %s: %d items, %d decisions", result.day, len(result.items), len(result.decisions))
    return result
