"""`/metrics`: Prometheus text read from the database at scrape time.

A custom collector queries the database on every scrape, so the figures are the same whichever
process (scheduler, cron `monitor run`, workers) did the work, and nothing is kept in memory.
Series (all gauges, `monitor_` prefix): review items by status, articles, scores flagged,
frontier URLs by state and failed URLs by reason, rounds by status, last round duration and
times, per-source last success, database reachability, and Procrastinate jobs by status when
`execution.backend: procrastinate`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import CollectorRegistry, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.db import (
    Article,
    FrontierUrl,
    ReviewItem,
    ReviewStatus,
    Run,
    ScoreRow,
    SourceRow,
    session_scope,
)

log = logging.getLogger(__name__)


class DatabaseCollector:
    def __init__(self, config: Config, engine: Engine) -> None:
        self.config = config
        self.engine = engine

    def describe(self) -> list[Metric]:
        return []  # no registration-time scrape

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("monitor_database_up", "1 if the database answered this scrape")
        try:
            metrics = list(self._collect_db())
        except Exception as exc:  # a scrape must still answer when the database is down
            log.warning("metrics: database unreachable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics

    def _collect_db(self) -> Iterator[Metric]:
        with session_scope(self.engine) as s:
            queue = dict(s.execute(select(ReviewItem.status, func.count()).group_by(ReviewItem.status)).all())
            g = GaugeMetricFamily("monitor_review_items", "Review items by status", labels=["status"])
            for st in ReviewStatus:
                g.add_metric([st.value], queue.get(st.value, 0))
            yield g

            g = GaugeMetricFamily("monitor_articles", "Articles extracted and stored")
            g.add_metric([], s.scalar(select(func.count()).select_from(Article)) or 0)
            yield g
            g = GaugeMetricFamily("monitor_scores_flagged", "Scores above the threshold (flagged)")
            g.add_metric([], s.scalar(select(func.count()).select_from(ScoreRow).where(ScoreRow.flagged.is_(True))) or 0)
            yield g

            g = GaugeMetricFamily("monitor_frontier_urls", "URLs in the frontier by state", labels=["state"])
            for state, n in s.execute(select(FrontierUrl.state, func.count()).group_by(FrontierUrl.state)):
                g.add_metric([state], n)
            yield g
            g = GaugeMetricFamily("monitor_frontier_failed", "Failed or given-up URLs by reason", labels=["reason"])
            failed = select(FrontierUrl.last_error, func.count()).where(FrontierUrl.state.in_(("failed", "gave_up")))
            for reason, n in s.execute(failed.group_by(FrontierUrl.last_error)):
                g.add_metric([reason or "unknown"], n)
            yield g

            g = GaugeMetricFamily("monitor_rounds", "Rounds recorded, by status", labels=["status"])
            for status, n in s.execute(select(Run.status, func.count()).where(Run.kind == "round").group_by(Run.status)):
                g.add_metric([status], n)
            yield g
            last = s.scalars(select(Run).where(Run.kind == "round", Run.finished_at.is_not(None)).order_by(Run.id.desc()).limit(1)).first()
            g = GaugeMetricFamily("monitor_last_round_duration_seconds", "Duration of the last finished round")
            g2 = GaugeMetricFamily("monitor_last_round_finished_timestamp_seconds", "When the last round finished (Unix time)")
            if last is not None:
                g.add_metric([], last.seconds or 0.0)
                g2.add_metric([], last.finished_at.timestamp())
            yield g
            yield g2
            ok = s.scalar(select(func.max(Run.finished_at)).where(Run.kind == "round", Run.status == "ok"))
            g = GaugeMetricFamily("monitor_last_successful_round_timestamp_seconds", "When the last successful round finished (Unix time)")
            if ok is not None:
                g.add_metric([], ok.timestamp())
            yield g
            last_counts = (last.counts or {}) if last is not None else {}
            g = GaugeMetricFamily("monitor_last_round_urls", "Counts of the last finished round by stage", labels=["stage"])
            for stage in ("discovered", "fetched", "extracted", "scored", "flagged", "queued"):
                if isinstance(last_counts.get(stage), int | float):
                    g.add_metric([stage], last_counts[stage])
            yield g

            g = GaugeMetricFamily("monitor_source_last_success_timestamp_seconds", "Last successful fetch per source (Unix time)", labels=["source"])
            g2 = GaugeMetricFamily("monitor_source_failing", "1 if the source's last attempt failed", labels=["source"])
            for name, at, err in s.execute(select(SourceRow.name, SourceRow.last_success_at, SourceRow.last_error).order_by(SourceRow.name)):
                if at is not None:
                    g.add_metric([name], at.timestamp())
                g2.add_metric([name], 1 if err else 0)
            yield g
            yield g2
        if self.config.execution.backend == "procrastinate":
            try:
                from monitor.tasks import job_counts

                jobs = job_counts(self.engine)
            except Exception:  # job tables not there yet, or no worker module
                jobs = {}
            g = GaugeMetricFamily("monitor_jobs", "Procrastinate jobs by status", labels=["status"])
            for status, n in sorted(jobs.items()):
                g.add_metric([status], n)
            yield g


def make_registry(config: Config, engine: Engine) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(config, engine))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
