"""Scale-out on Procrastinate against the real PostgreSQL: 4 worker processes on local URLs over
20 hosts (each URL processed once, no per-host interval undercut), the same with a worker killed by
SIGKILL mid-way, one pending job per URL, and jobs deferred in the frontier's own transaction.

The default suite runs 200 URLs; the 2,000-URL runs are marked `slow` (`pytest -m slow`): on a
2-core machine they take minutes, bound by the pipeline's CPU time per article."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from monitor import db, frontier
from monitor.cli import main
from monitor.config import load_config
from monitor.db import Article, FrontierUrl, ReviewItem, ScoreRow, session_scope
from tests.service import localsites
from tests.service.helpers import REPO, monitor_cmd, start_workers, stop_processes, write_config

pytestmark = pytest.mark.postgres

INTERVAL = 0.02
HOSTS, PER_HOST = 20, 100


def _init(cfg: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(cfg), "init"])
    assert result.exit_code == 0, result.output


def _assert_one_result_per_url(pg_url: str, n: int) -> None:
    eng = db.make_engine(pg_url)
    try:
        with session_scope(eng) as s:
            states = dict(s.execute(select(FrontierUrl.state, func.count()).group_by(FrontierUrl.state)).all())
            assert states == {"scored": n}
            assert s.scalar(select(func.count()).select_from(Article)) == n
            assert s.scalar(select(func.count(func.distinct(Article.frontier_id)))) == n
            assert s.scalar(select(func.count()).select_from(ScoreRow)) == n
            assert s.scalar(select(func.count(func.distinct(ScoreRow.article_id)))) == n
            items = s.scalar(select(func.count()).select_from(ReviewItem))
            assert items == s.scalar(select(func.count(func.distinct(ReviewItem.article_id))))
            assert items > 0  # every 25th page is an incident
            jobs = dict(s.execute(text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")).all())
            assert jobs.get("succeeded") == n and not jobs.get("todo") and not jobs.get("doing"), jobs
    finally:
        eng.dispose()


def _assert_polite(sites: localsites.LocalSites, hosts: int) -> None:
    gaps = sites.smallest_gaps()
    assert len(gaps) == hosts
    undercut = {h: g for h, g in gaps.items() if g < INTERVAL}
    assert not undercut, f"per-host interval {INTERVAL}s undercut: {undercut}"


def _scale_run(pg_url: str, tmp_path: Path, model_dir: Path, hosts: int, per_host: int, *, kill: bool) -> None:
    """4 worker processes, `monitor run --wait`; with `kill`, worker 0 gets SIGKILL a quarter in."""
    n = hosts * per_host
    with localsites.serve(hosts, per_host) as sites:
        cfg = write_config(tmp_path / "config.yaml", pg_url, model_dir, backend="procrastinate", sources=sites.sources_yaml(), interval=INTERVAL)
        _init(cfg)
        workers = start_workers(cfg, 4, concurrency=4, log_dir=tmp_path)
        eng = db.make_engine(pg_url)
        run: subprocess.Popen[str] | None = None
        try:
            run = subprocess.Popen(monitor_cmd(cfg, "run", "--wait"), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if kill:
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline:
                    with eng.connect() as conn:
                        done = conn.execute(text("SELECT count(*) FROM frontier WHERE state = 'scored'")).scalar()
                    if done >= n // 4:
                        break
                    time.sleep(0.2)
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
            out, err = run.communicate(timeout=900)
        finally:
            if run is not None and run.poll() is None:  # a failed or timed-out test leaves no waiter behind
                run.kill()
                run.wait()
            stop_processes(workers)
            eng.dispose()
        logs = "\n".join((tmp_path / f"worker{k}.log").read_text()[-1500:] for k in range(4))
        assert run.returncode == 0, err[-3000:] + logs
        assert f"discovered {n}, fetched {n}, failed 0 (none), extracted {n}" in out, out + err[-2000:]
        if not kill:
            assert all(w.returncode == 0 for w in workers), "workers stop cleanly on SIGTERM\n" + logs
        requests = sites.article_requests()
        assert len(requests) == n
        refetched = sum(c - 1 for c in requests.values())
        if kill:
            assert refetched <= 4, "only the killed worker's jobs in flight are fetched again"
        else:
            assert refetched == 0, "each URL fetched exactly once"
        _assert_polite(sites, hosts)
    _assert_one_result_per_url(pg_url, n)


def test_four_workers_process_each_url_once_and_politely(pg_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    _scale_run(pg_url, tmp_path, model_dir, HOSTS, 10, kill=False)


def test_a_worker_killed_mid_way_loses_nothing(pg_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    _scale_run(pg_url, tmp_path, model_dir, HOSTS, 10, kill=True)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_four_workers_process_2000_urls_once_and_politely(pg_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    _scale_run(pg_url, tmp_path, model_dir, HOSTS, PER_HOST, kill=False)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_2000_urls_with_a_worker_killed_mid_way(pg_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    _scale_run(pg_url, tmp_path, model_dir, HOSTS, PER_HOST, kill=True)


def test_one_pending_job_per_url_and_deferral_shares_the_frontier_transaction(pg_url: str, tmp_path: Path, model_dir: Path) -> None:
    from crawlers.types import DiscoveredUrl
    from monitor import tasks

    cfg_path = write_config(tmp_path / "c.yaml", pg_url, model_dir, backend="procrastinate")
    _init(cfg_path)
    config = load_config(cfg_path)
    eng = db.make_engine(pg_url)
    tasks.ensure_schema(eng)
    app = tasks.build_app(config, eng)
    urls = [DiscoveredUrl(url=f"http://127.0.0.1:9/a/{i}.html", found_in="test") for i in range(10)]

    # A transaction that fails leaves neither frontier rows nor jobs.
    with pytest.raises(RuntimeError), session_scope(eng) as s:
        frontier.add_discovered(s, urls, None)
        assert tasks.defer_due_rows(app, s, run_id=None, limit=100) == 10
        raise RuntimeError("crash between the two writes")
    assert tasks.job_counts(eng) == {}
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(FrontierUrl)) == 0

    with session_scope(eng) as s:
        frontier.add_discovered(s, urls, None)
        assert tasks.defer_due_rows(app, s, run_id=1, limit=100) == 10
    with session_scope(eng) as s:  # a second round: every URL already has a waiting job
        assert tasks.defer_due_rows(app, s, run_id=2, limit=100) == 0
    assert tasks.job_counts(eng) == {"todo": 10}
    with eng.connect() as conn:
        locks = conn.execute(text("SELECT count(DISTINCT queueing_lock) FROM procrastinate_jobs")).scalar()
    assert locks == 10
    eng.dispose()


def test_round_lock_is_shared_with_the_distributed_round(pg_url: str, tmp_path: Path, model_dir: Path) -> None:
    from monitor.locks import round_lock

    cfg = write_config(tmp_path / "c.yaml", pg_url, model_dir, backend="procrastinate")
    _init(cfg)
    eng = db.make_engine(pg_url)
    with round_lock(eng):
        result = CliRunner().invoke(main, ["--config", str(cfg), "run", "--wait"])
    eng.dispose()
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "another round is running (PostgreSQL advisory lock held): nothing to do"


def test_run_without_wait_defers_and_status_shows_the_jobs(pg_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    with localsites.serve(2, 5) as sites:
        cfg = write_config(tmp_path / "c.yaml", pg_url, model_dir, backend="procrastinate", sources=sites.sources_yaml())
        _init(cfg)
        runner = CliRunner()
        result = runner.invoke(main, ["--config", str(cfg), "run"])
        assert result.exit_code == 0, result.output
        assert "discovered 10, fetched 0" in result.output
        status = runner.invoke(main, ["--config", str(cfg), "status"])
        assert "jobs: todo 10" in status.output
        assert "deferred" in status.output


def test_procrastinate_on_sqlite_is_a_config_error(sqlite_url: str, tmp_path: Path, model_dir: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", sqlite_url, model_dir, backend="procrastinate")
    for command in (["worker"], ["run"]):
        result = CliRunner().invoke(main, ["--config", str(cfg), *command])
        assert result.exit_code == 1
        assert result.output.strip().startswith(f"Error: bad config: {cfg}:")
        assert "execution.backend: procrastinate needs a PostgreSQL database.url" in result.output


def test_worker_needs_the_procrastinate_backend(sqlite_url: str, tmp_path: Path, model_dir: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", sqlite_url, model_dir)
    result = CliRunner().invoke(main, ["--config", str(cfg), "worker"])
    assert result.exit_code == 1
    assert "monitor worker needs execution.backend: procrastinate" in result.output


def test_a_transient_failure_is_retried_by_procrastinate(pg_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    """503 on the first try: the job raises, Procrastinate's RetryStrategy runs it again after
    the backoff, and the URL ends scored with one article."""
    from monitor import tasks

    with localsites.serve(1, 4) as sites:
        sites.flaky.update({"/a/1.html", "/a/2.html"})
        cfg = write_config(tmp_path / "c.yaml", pg_url, model_dir, backend="procrastinate", sources=sites.sources_yaml())
        _init(cfg)
        app = tasks.build_app(load_config(cfg), pg_url)
        strategy = app.tasks[tasks.TASK_NAME].retry_strategy
        assert strategy.max_attempts == 4 and strategy.exponential_wait == 1
        workers = start_workers(cfg, 1, concurrency=2, log_dir=tmp_path)
        try:
            run = subprocess.run(monitor_cmd(cfg, "run", "--wait"), cwd=REPO, capture_output=True, text=True, timeout=180)
        finally:
            stop_processes(workers)
        assert run.returncode == 0, run.stderr[-2000:]
        assert "discovered 4, fetched 4, failed 0 (none), extracted 4" in run.stdout
        requests = sites.article_requests()
        assert requests[f"http://{sites.netlocs[0]}/a/1.html"] == 2 and requests[f"http://{sites.netlocs[0]}/a/0.html"] == 1
    eng = db.make_engine(pg_url)
    with eng.connect() as conn:
        attempts = dict(conn.execute(text("SELECT (args->>'row_id')::int, attempts FROM procrastinate_jobs")).all())
        states = conn.execute(text("SELECT DISTINCT state FROM frontier")).scalars().all()
    eng.dispose()
    assert sorted(attempts.values()) == [1, 1, 2, 2] and states == ["scored"]  # Procrastinate counts every run
    assert "TransientFetchFailure" in (tmp_path / "worker0.log").read_text()
