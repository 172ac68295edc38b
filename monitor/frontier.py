"""The URL frontier is the database: one row per canonical URL, moving
discovered -> fetched -> extracted -> scored (or failed / gave_up / skipped), claimed with leases.

A worker claims due rows by writing its lease; a process killed mid-round leaves leases that expire
after `crawler.lease_seconds`, and the next round picks those rows up from the state they reached,
so nothing is lost and no finished stage runs twice.

Config keys read: crawler.lease_seconds, crawler.max_attempts, crawler.backoff_base.
"""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crawlers.types import DiscoveredUrl, FetchFailure
from monitor.config import Source
from monitor.db import FrontierUrl, SourceRow, UrlState, utcnow

# States a claim may resume from, in pipeline order.
RESUMABLE = (UrlState.DISCOVERED, UrlState.FAILED, UrlState.FETCHED, UrlState.EXTRACTED)
# Between rounds a URL that failed transiently waits at least this long, doubling per attempt.
RETRY_BASE = timedelta(minutes=15)


def dialect_insert(session: Session):  # noqa: ANN201 - dialect-specific insert construct
    """`insert` with ON CONFLICT support for the session's backend (SQLite or PostgreSQL)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def sync_sources(session: Session, sources: Sequence[Source]) -> dict[str, int]:
    """Make the sources table mirror the config (by name); returns name -> id."""
    existing = {row.name: row for row in session.scalars(select(SourceRow))}
    for src in sources:
        row = existing.get(src.name)
        if row is None:
            row = SourceRow(name=src.name, homepage=src.homepage, region=src.region, enabled=src.enabled)
            session.add(row)
            existing[src.name] = row
        else:
            row.homepage, row.region, row.enabled = src.homepage, src.region, src.enabled
    session.flush()
    return {name: row.id for name, row in existing.items()}


def add_discovered(session: Session, items: Iterable[DiscoveredUrl], source_id: int | None) -> int:
    """Insert new URLs (duplicates ignored); returns how many were new."""
    rows = []
    seen: set[str] = set()
    for item in items:
        if item.url in seen:
            continue
        seen.add(item.url)
        rows.append(
            {
                "url": item.url,
                "host": urlsplit(item.url).hostname or "",
                "source_id": source_id,
                "state": UrlState.DISCOVERED.value,
                "found_in": item.found_in,
                "title_hint": item.title,
                "published_hint": item.published_at,
                "attempts": 0,
                "discovered_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    if not rows:
        return 0
    insert = dialect_insert(session)
    new = 0
    for start in range(0, len(rows), 500):
        stmt = insert(FrontierUrl).values(rows[start : start + 500]).on_conflict_do_nothing(index_elements=["url"]).returning(FrontierUrl.id)
        new += len(session.execute(stmt).all())
    return new


def claim(session: Session, owner: str, *, limit: int, lease_seconds: int, now: datetime | None = None) -> list[FrontierUrl]:
    """Lease up to `limit` due rows to `owner` and return them (committed by the caller)."""
    now = now or utcnow()
    due = and_(
        FrontierUrl.state.in_([s.value for s in RESUMABLE]),
        or_(FrontierUrl.next_attempt_at.is_(None), FrontierUrl.next_attempt_at <= now),
        or_(FrontierUrl.lease_expires_at.is_(None), FrontierUrl.lease_expires_at <= now),
    )
    query = select(FrontierUrl.id).where(due).order_by(FrontierUrl.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return []
    expires = now + timedelta(seconds=lease_seconds)
    session.execute(
        update(FrontierUrl)
        .where(FrontierUrl.id.in_(ids), due)
        .values(lease_owner=owner, lease_expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return list(session.scalars(select(FrontierUrl).where(FrontierUrl.id.in_(ids), FrontierUrl.lease_owner == owner)))


def advance(session: Session, row_id: int, state: UrlState, **fields: object) -> None:
    """Move a row to `state`; finishing states release the lease."""
    values: dict[str, object] = {"state": state.value, "updated_at": utcnow(), **fields}
    if state in (UrlState.SCORED, UrlState.GAVE_UP, UrlState.SKIPPED, UrlState.FAILED):
        values.update(lease_owner=None, lease_expires_at=None)
    session.execute(update(FrontierUrl).where(FrontierUrl.id == row_id).values(**values))


def record_failure(session: Session, row: FrontierUrl, failure: FetchFailure, *, max_attempts: int, now: datetime | None = None) -> UrlState:
    """A failed fetch: permanent errors give up at once; transient ones back off between rounds."""
    now = now or utcnow()
    attempts = row.attempts + 1
    if failure.permanent or attempts >= max_attempts:
        state, next_at = UrlState.GAVE_UP, None
    else:
        delay = RETRY_BASE * (2 ** (attempts - 1))
        delay += timedelta(seconds=random.uniform(0, delay.total_seconds() * 0.1))
        state, next_at = UrlState.FAILED, now + delay
    advance(
        session,
        row.id,
        state,
        attempts=attempts,
        last_error=failure.reason,
        last_error_detail=failure.detail[:2000],
        http_status=failure.status,
        next_attempt_at=next_at,
    )
    return state


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_local_leases(session: Session, now: datetime | None = None) -> int:
    """Release leases held by processes of this host that no longer exist (killed mid-round), so
    the next round resumes their rows at once instead of waiting for the leases to expire.
    Owners are "host:pid:nonce" (monitor.pipeline.new_owner)."""
    now = now or utcnow()
    host = socket.gethostname()
    owners = session.scalars(
        select(FrontierUrl.lease_owner).where(FrontierUrl.lease_owner.is_not(None), FrontierUrl.lease_expires_at > now).distinct()
    )
    released = 0
    for owner in list(owners):
        parts = owner.split(":")
        if len(parts) >= 2 and parts[0] == host and parts[1].isdigit() and not _pid_alive(int(parts[1])):
            released += release(session, owner)
    return released


def release(session: Session, owner: str) -> int:
    """Give back every lease `owner` still holds (graceful shutdown)."""
    result = session.execute(
        update(FrontierUrl)
        .where(FrontierUrl.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
