"""What `monitor status` and `/healthz` report: last rounds, failing sources, queue backlog,
frontier backlog and the promoted model version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.db import FrontierUrl, ReviewItem, Run, SourceRow, session_scope, utcnow


@dataclass(frozen=True)
class Status:
    rounds: list[dict[str, Any]]
    last_success_at: datetime | None
    failing_sources: list[tuple[str, str, datetime | None]]
    queue: dict[str, int]
    frontier: dict[str, int]
    model_version: str | None
    jobs: dict[str, int] = field(default_factory=dict)

    @property
    def last_success_age_seconds(self) -> float | None:
        return (utcnow() - self.last_success_at).total_seconds() if self.last_success_at else None


def promoted_model_version(config: Config) -> str | None:
    try:
        from models.registry import Registry

        for info in Registry(config.classifier.model_dir).versions():
            if info.promoted:
                return info.version
    except Exception:  # a missing or unreadable registry is reported as "none"
        return None
    return None


def collect_status(config: Config, engine: Engine, rounds: int = 5) -> Status:
    with session_scope(engine) as session:
        runs = list(session.scalars(select(Run).where(Run.kind == "round").order_by(Run.id.desc()).limit(rounds)))
        last_ok = session.scalar(select(func.max(Run.finished_at)).where(Run.kind == "round", Run.status == "ok"))
        failing = [
            (s.name, s.last_error or "", s.last_error_at)
            for s in session.scalars(select(SourceRow).where(SourceRow.last_error.is_not(None)).order_by(SourceRow.name))
        ]
        queue = dict(session.execute(select(ReviewItem.status, func.count()).group_by(ReviewItem.status)).all())
        frontier = dict(session.execute(select(FrontierUrl.state, func.count()).group_by(FrontierUrl.state)).all())
    jobs: dict[str, int] = {}
    if config.execution.backend == "procrastinate":
        try:
            from monitor.tasks import job_counts

            jobs = job_counts(engine)
        except Exception:  # job tables not created yet
            jobs = {}
    return Status(
        rounds=[
            {"id": r.id, "started_at": r.started_at, "status": r.status, "seconds": r.seconds, "counts": r.counts, "error": r.error}
            for r in runs
        ],
        last_success_at=last_ok,
        failing_sources=failing,
        queue=queue,
        frontier=frontier,
        model_version=promoted_model_version(config),
        jobs=jobs,
    )


def format_status(st: Status) -> str:
    lines = [f"model version: {st.model_version or 'none (the first round trains one)'}"]
    age = st.last_success_age_seconds
    lines.append("last successful round: " + (f"{st.last_success_at:%Y-%m-%d %H:%M} UTC ({age / 60:.0f} min ago)" if age is not None else "never"))
    lines.append("rounds:")
    if not st.rounds:
        lines.append("  none yet")
    for r in st.rounds:
        c = r["counts"] or {}
        failed = sum((c.get("failed") or {}).values())
        lines.append(
            f"  #{r['id']} {r['started_at']:%Y-%m-%d %H:%M} {r['status']:<7} discovered {c.get('discovered', 0)}, fetched {c.get('fetched', 0)}, "
            f"failed {failed}, flagged {c.get('flagged', 0)}, {r['seconds'] or 0:.1f} s"
        )
    lines.append("failing sources:" + ("" if st.failing_sources else " none"))
    for name, err, at in st.failing_sources:
        lines.append(f"  {name}: {err[:120]}" + (f" (since {at:%Y-%m-%d %H:%M} UTC)" if at else ""))
    lines.append("review queue: " + (", ".join(f"{k} {v}" for k, v in sorted(st.queue.items())) or "empty"))
    lines.append("frontier: " + (", ".join(f"{k} {v}" for k, v in sorted(st.frontier.items())) or "empty"))
    if st.jobs:
        lines.append("jobs: " + ", ".join(f"{k} {v}" for k, v in sorted(st.jobs.items())))
    return "\n".join(lines)
