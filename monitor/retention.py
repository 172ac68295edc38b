"""Retention: raw HTML older than `retention.raw_html_days` is deleted; article text, scores,
review items and decisions are kept for good. With `execution.backend: procrastinate`, finished
jobs older than `retention.job_days` are deleted too.

A frontier row still in state `fetched` whose raw page was dropped is fetched again by the next
round (pipeline._extract_stage), so retention never loses an article. Deleting in batches keeps
each transaction short on a large table. On SQLite the freed pages are reused by later inserts;
run `VACUUM` by hand to shrink the file.

Config keys read: retention.raw_html_days, retention.job_days, execution.backend.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.db import RawPage, Run, session_scope, utcnow

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass(frozen=True)
class RetentionResult:
    raw_pages_deleted: int
    cutoff: datetime
    jobs_deleted: int = 0

    def format(self) -> str:
        text = f"retention: deleted {self.raw_pages_deleted} raw pages fetched before {self.cutoff:%Y-%m-%d %H:%M} UTC"
        if self.jobs_deleted:
            text += f", {self.jobs_deleted} finished jobs"
        return text + "; article text, scores and decisions kept"


def drop_raw_pages(engine: Engine, older_than: datetime) -> int:
    deleted = 0
    while True:
        with session_scope(engine) as session:
            ids = list(session.scalars(select(RawPage.frontier_id).where(RawPage.fetched_at < older_than).limit(BATCH)))
            if not ids:
                return deleted
            session.execute(delete(RawPage).where(RawPage.frontier_id.in_(ids)))
            deleted += len(ids)


def run_retention(config: Config, engine: Engine, *, now: datetime | None = None) -> RetentionResult:
    """Apply the retention rules once; recorded as a `runs` row of kind "retention"."""
    started = time.monotonic()
    cutoff = (now or utcnow()) - timedelta(days=config.retention.raw_html_days)
    pages = drop_raw_pages(engine, cutoff)
    jobs = 0
    if config.execution.backend == "procrastinate" and engine.dialect.name == "postgresql":
        from monitor.tasks import delete_old_jobs

        jobs = delete_old_jobs(engine, config.retention.job_days)
    result = RetentionResult(raw_pages_deleted=pages, cutoff=cutoff, jobs_deleted=jobs)
    with session_scope(engine) as session:
        session.add(
            Run(kind="retention", started_at=utcnow(), finished_at=utcnow(), status="ok", seconds=time.monotonic() - started,
                counts={"raw_pages_deleted": pages, "jobs_deleted": jobs, "cutoff": cutoff.isoformat()})
        )
    log.info("%s", result.format())
    return result
