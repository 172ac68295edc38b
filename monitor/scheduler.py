"""`monitor scheduler`: the long-running service (APScheduler 3.x, in its own process).

Jobs, from `schedule:` in config.yaml, in `schedule.timezone` (Asia/Jakarta by default):

- `crawl`     a round every `schedule.crawl_every_minutes`, and one at start unless
              `schedule.crawl_at_start` is false (in-process, or with
              `execution.backend: procrastinate` deferred to workers and waited for);
- `digest`    the daily digest at `schedule.digest_at` (HH:MM; null = no digest job);
- `retention` at `schedule.retention_at` (HH:MM; null = no retention job).

Every job has `max_instances=1`, `coalesce=True` and `misfire_grace_time =
schedule.misfire_grace_seconds`. Rounds also take the round lock shared with cron's
`monitor run`, so two rounds never overlap whichever started them. A job that raises is logged
(with the traceback) and the scheduler goes on.

SIGTERM and SIGINT stop it gracefully: no new job starts; a round in progress is cancelled, which
releases its frontier leases (`frontier.release(owner)` in the round's `finally`) and records the
round as failed; with workers, waiting stops and the jobs stay queued. The process exits within
`schedule.shutdown_timeout_seconds`.

Config keys read: schedule.* (crawl_at_start, crawl_every_minutes, digest_at, retention_at, timezone,
misfire_grace_seconds, shutdown_timeout_seconds), execution.backend.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.errors import RoundLocked

log = logging.getLogger(__name__)


@dataclass
class Service:
    """The scheduler's jobs and what they share: the config, the engine, and a stop flag that a
    running round checks (and is cancelled by)."""

    config: Config
    engine: Engine
    stop: threading.Event = field(default_factory=threading.Event)
    _round_loop: asyncio.AbstractEventLoop | None = None
    _round_task: asyncio.Task[Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------ jobs

    def crawl(self) -> str:
        """One round, unless another one holds the round lock (then it says so and returns)."""
        if self.stop.is_set():
            return "stopping"
        if self.config.execution.backend == "procrastinate":
            from monitor import tasks

            summary = tasks.run_round_with_workers(self.config, self.engine, wait=True, stop=self.stop)
            log.info("%s", summary.format())
            return summary.format()
        from models.registry import ensure_model
        from monitor.locks import round_lock
        from monitor.pipeline import run_round_async

        model = ensure_model(self.config.classifier.model_dir, self.config.classifier.corpus_dir)
        try:
            with round_lock(self.engine):
                summary = self._run_cancellable(run_round_async(self.config, self.engine, model))
        except RoundLocked as exc:
            log.info("crawl skipped: %s", exc)
            return str(exc)
        except asyncio.CancelledError:
            log.warning("round cancelled by shutdown; its leases were released and it resumes next time")
            return "cancelled"
        log.info("%s", summary.format())
        return summary.format()

    def digest(self) -> str:
        from monitor.digest import run_digest

        result = run_digest(self.config, self.engine)
        log.info("%s", result.format())
        return result.format()

    def retention(self) -> str:
        from monitor.retention import run_retention

        result = run_retention(self.config, self.engine)
        log.info("%s", result.format())
        return result.format()

    # ------------------------------------------------------------ cancellation

    def _run_cancellable(self, coro: Any) -> Any:
        """Run `coro` on a fresh event loop in this thread; `cancel_running()` cancels it."""
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(coro)
            with self._lock:
                self._round_loop, self._round_task = loop, task
            if self.stop.is_set():
                task.cancel()
            return loop.run_until_complete(task)
        finally:
            with self._lock:
                self._round_loop, self._round_task = None, None
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def cancel_running(self) -> None:
        self.stop.set()
        with self._lock:
            if self._round_loop is not None and self._round_task is not None:
                self._round_loop.call_soon_threadsafe(self._round_task.cancel)


JOB_IDS = ("crawl", "digest", "retention")


def _hh_mm(value: str) -> tuple[int, int]:
    hour, minute = value.split(":")
    return int(hour), int(minute)


def build_scheduler(
    config: Config,
    jobs: dict[str, Callable[[], Any]],
    *,
    scheduler_cls: type[BaseScheduler] = BlockingScheduler,
    crawl_interval: timedelta | None = None,
) -> BaseScheduler:
    """A scheduler with the configured jobs (those in `jobs` whose schedule is set).

    `crawl_interval` overrides `schedule.crawl_every_minutes` (tests)."""
    sched = config.schedule
    scheduler = scheduler_cls(
        timezone=sched.timezone,
        executors={"default": ThreadPoolExecutor(max_workers=len(JOB_IDS))},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": sched.misfire_grace_seconds},
    )
    interval = crawl_interval or timedelta(minutes=sched.crawl_every_minutes)
    triggers: dict[str, Any] = {"crawl": IntervalTrigger(seconds=interval.total_seconds(), timezone=sched.timezone)}
    if sched.digest_at:
        hour, minute = _hh_mm(sched.digest_at)
        triggers["digest"] = CronTrigger(hour=hour, minute=minute, timezone=sched.timezone)
    if sched.retention_at:
        hour, minute = _hh_mm(sched.retention_at)
        triggers["retention"] = CronTrigger(hour=hour, minute=minute, timezone=sched.timezone)
    for job_id, trigger in triggers.items():
        if job_id in jobs:
            first: dict[str, Any] = {}
            if job_id == "crawl" and sched.crawl_at_start:
                first["next_run_time"] = datetime.now(ZoneInfo(sched.timezone))
            scheduler.add_job(
                _logged(job_id, jobs[job_id]), trigger, id=job_id, name=job_id, replace_existing=True,
                max_instances=1, coalesce=True, misfire_grace_time=sched.misfire_grace_seconds, **first,
            )
    scheduler.add_listener(_on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def _logged(job_id: str, func: Callable[[], Any]) -> Callable[[], Any]:
    """Wrap a job so that an exception is logged with its traceback and never escapes."""

    def run() -> Any:
        started = time.monotonic()
        log.info("job %s started", job_id, extra={"job": job_id})
        try:
            result = func()
        except Exception:
            log.exception("job %s failed after %.1f s; the scheduler goes on", job_id, time.monotonic() - started, extra={"job": job_id})
            return None
        log.info("job %s finished in %.1f s", job_id, time.monotonic() - started, extra={"job": job_id})
        return result

    run.__name__ = f"monitor_{job_id}"
    return run


def _on_event(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.warning("job %s missed its run at %s (beyond misfire_grace_time)", event.job_id, event.scheduled_run_time)
    elif event.exception is not None:
        log.error("job %s raised %r", event.job_id, event.exception)


def run_scheduler(config: Config, engine: Engine, *, crawl_interval: timedelta | None = None) -> None:
    """Run until SIGTERM/SIGINT; then stop within `schedule.shutdown_timeout_seconds`."""
    service = Service(config, engine)
    scheduler = build_scheduler(
        config, {"crawl": service.crawl, "digest": service.digest, "retention": service.retention}, crawl_interval=crawl_interval
    )
    bound = config.schedule.shutdown_timeout_seconds

    def on_signal(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if service.stop.is_set():
            log.warning("%s again: exiting now", name)
            os._exit(1)
        log.info("%s: stopping (running jobs get %.0f s)", name, bound)
        service.cancel_running()
        threading.Thread(target=_shutdown, args=(scheduler, bound), daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    jobs = ", ".join(f"{j.id} ({j.trigger})" for j in scheduler.get_jobs())
    log.info("scheduler started in %s: %s", config.schedule.timezone, jobs)
    scheduler.start()  # blocks until shutdown
    log.info("scheduler stopped")


def _shutdown(scheduler: BaseScheduler, bound: float) -> None:
    """Stop the scheduler, wait for running jobs at most `bound` seconds, then exit regardless."""
    done = threading.Event()

    def wait_jobs() -> None:
        scheduler.shutdown(wait=True)
        done.set()

    threading.Thread(target=wait_jobs, daemon=True).start()
    if not done.wait(bound):
        log.error("jobs still running after %.0f s: exiting anyway", bound)
        logging.shutdown()
        os._exit(1)
