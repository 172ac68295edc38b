"""The scheduler: jobs wired from `schedule:`, a raising job does not stop it, SIGTERM stops it
within the bound, and two rounds never overlap (scheduler + a cron `monitor run`)."""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner

from monitor import db
from monitor.cli import main
from monitor.config import load_config, parse_config
from monitor.locks import round_lock
from monitor.scheduler import Service, build_scheduler
from tests.service import localsites
from tests.service.helpers import REPO, monitor_cmd, write_config


def test_jobs_are_wired_from_the_schedule_section() -> None:
    config = parse_config(
        "schedule:\n  timezone: Asia/Jakarta\n  crawl_every_minutes: 30\n  digest_at: '06:30'\n  retention_at: '02:15'\n  misfire_grace_seconds: 120\n"
    )
    jobs = {name: (lambda: None) for name in ("crawl", "digest", "retention")}
    scheduler = build_scheduler(config, jobs, scheduler_cls=BackgroundScheduler)
    by_id = {j.id: j for j in scheduler.get_jobs()}
    assert set(by_id) == {"crawl", "digest", "retention"}
    assert str(scheduler.timezone) == "Asia/Jakarta"
    crawl, digest, retention = by_id["crawl"], by_id["digest"], by_id["retention"]
    assert isinstance(crawl.trigger, IntervalTrigger) and crawl.trigger.interval == timedelta(minutes=30)
    assert isinstance(digest.trigger, CronTrigger) and str(digest.trigger.timezone) == "Asia/Jakarta"
    fields = {f.name: str(f) for f in digest.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("6", "30")
    fields = {f.name: str(f) for f in retention.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "15")
    for job in by_id.values():
        assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time == 120


def test_a_job_without_a_time_is_not_scheduled() -> None:
    config = parse_config("schedule:\n  digest_at: null\n  retention_at: null\n")
    scheduler = build_scheduler(config, {"crawl": lambda: None, "digest": lambda: None}, scheduler_cls=BackgroundScheduler)
    assert [j.id for j in scheduler.get_jobs()] == ["crawl"]


def test_bad_schedule_values_are_config_errors() -> None:
    from monitor.config import ConfigError

    with pytest.raises(ConfigError, match=r"schedule.digest_at: expected HH:MM, got '6.30'"):
        parse_config("schedule:\n  digest_at: '6.30'\n")
    with pytest.raises(ConfigError, match=r"<string>:2: schedule.timezone: unknown time zone 'Asia/Jakartaa'"):
        parse_config("schedule:\n  timezone: Asia/Jakartaa\n")


def test_a_raising_job_is_logged_and_the_scheduler_keeps_running(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_config("schedule:\n  digest_at: null\n  retention_at: null\n")
    calls: list[int] = []

    def crawl() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")

    scheduler = build_scheduler(config, {"crawl": crawl}, scheduler_cls=BackgroundScheduler, crawl_interval=timedelta(seconds=0.2))
    with caplog.at_level(logging.INFO, logger="monitor.scheduler"):
        scheduler.start()
        try:
            deadline = time.monotonic() + 10
            while len(calls) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            scheduler.shutdown(wait=True)
    assert len(calls) >= 3, "the job ran again after raising"
    failed = [r for r in caplog.records if "job crawl failed" in r.getMessage()]
    assert failed and failed[0].exc_info and "database went away" in str(failed[0].exc_info[1])


def test_two_rounds_never_overlap(sqlite_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    """The scheduler's rounds and a cron `monitor run` share the round lock."""
    cfg = write_config(tmp_path / "c.yaml", sqlite_url, model_dir)
    CliRunner().invoke(main, ["--config", str(cfg), "init"])
    engine = db.make_engine(sqlite_url)
    inside = threading.Event()
    release = threading.Event()
    spans: list[tuple[float, float]] = []
    service = Service(load_config(cfg), engine)

    def slow_round() -> str:  # what Service.crawl does, with a round that takes a while
        try:
            with round_lock(engine):
                start = time.monotonic()
                inside.set()
                release.wait(5)
                spans.append((start, time.monotonic()))
                return "round"
        except Exception as exc:  # RoundLocked
            return str(exc)

    scheduler = build_scheduler(service.config, {"crawl": slow_round}, scheduler_cls=BackgroundScheduler, crawl_interval=timedelta(seconds=0.1))
    scheduler.start()
    try:
        assert inside.wait(10)
        cron = CliRunner().invoke(main, ["--config", str(cfg), "run"])  # cron fires meanwhile
        assert cron.exit_code == 0
        assert "another round is running" in cron.output
        time.sleep(0.5)  # the interval elapses several times while the round runs: max_instances=1
        release.set()
        time.sleep(0.5)
    finally:
        scheduler.shutdown(wait=True)
    spans.sort()
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False)), spans
    engine.dispose()


def test_service_crawl_runs_a_round_and_skips_when_locked(sqlite_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    with localsites.serve(2, 3) as sites:
        cfg = write_config(tmp_path / "c.yaml", sqlite_url, model_dir, sources=sites.sources_yaml())
        CliRunner().invoke(main, ["--config", str(cfg), "init"])
        engine = db.make_engine(sqlite_url)
        service = Service(load_config(cfg), engine)
        assert "discovered 6, fetched 6, failed 0" in service.crawl()
        with round_lock(engine):
            assert "another round is running" in service.crawl()
        engine.dispose()


def test_sigterm_stops_the_scheduler_within_the_bound(sqlite_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    """SIGTERM during a round: the round is cancelled (its leases released) and the process exits
    within schedule.shutdown_timeout_seconds."""
    with localsites.serve(3, 200) as sites:
        cfg = write_config(
            tmp_path / "c.yaml", sqlite_url, model_dir, sources=sites.sources_yaml(), interval=0.05,
            extra="schedule:\n  crawl_every_minutes: 1\n  shutdown_timeout_seconds: 5\n  digest_at: null\n  retention_at: null\n",
        )
        CliRunner().invoke(main, ["--config", str(cfg), "init"])
        proc = subprocess.Popen(monitor_cmd(cfg, "scheduler"), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            # crawl_at_start: the first round starts at once; wait until it is fetching pages
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and sum(sites.article_requests().values()) < 20:
                time.sleep(0.2)
            assert sum(sites.article_requests().values()) >= 20, "the scheduler's round started"
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
        assert took < 5 + 2, f"exited {took:.1f}s after SIGTERM"
        assert proc.returncode == 0, out[-2000:]
        assert "SIGTERM: stopping" in out and "scheduler stopped" in out
    engine = db.make_engine(sqlite_url)
    from sqlalchemy import func, select

    from monitor.db import FrontierUrl, Run, session_scope

    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(FrontierUrl).where(FrontierUrl.lease_owner.is_not(None))) == 0
        run = s.scalars(select(Run).where(Run.kind == "round")).one()
        assert run.status == "failed" and "CancelledError" in (run.error or "")
    engine.dispose()


def test_cron_run_says_another_round_is_running(db_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    """The round lock on both backends: the second `monitor run` says so and exits 0."""
    cfg = write_config(tmp_path / "c.yaml", db_url, model_dir)
    CliRunner().invoke(main, ["--config", str(cfg), "init"])
    engine = db.make_engine(db_url)
    with round_lock(engine):
        result = CliRunner().invoke(main, ["--config", str(cfg), "run"])
    engine.dispose()
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("another round is running (")


@pytest.mark.postgres
def test_scheduler_crawl_with_workers_waits_for_the_jobs(pg_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    from tests.service.helpers import start_workers, stop_processes

    with localsites.serve(2, 5) as sites:
        cfg = write_config(tmp_path / "c.yaml", pg_url, model_dir, backend="procrastinate", sources=sites.sources_yaml())
        CliRunner().invoke(main, ["--config", str(cfg), "init"])
        engine = db.make_engine(pg_url)
        service = Service(load_config(cfg), engine)
        workers = start_workers(cfg, 1, concurrency=2, log_dir=tmp_path)
        try:
            summary = service.crawl()
        finally:
            stop_processes(workers)
        assert "discovered 10, fetched 10, failed 0 (none), extracted 10" in summary
        with round_lock(engine):
            assert service.crawl().startswith("another round is running")
        engine.dispose()
