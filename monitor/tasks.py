"""The distributed driver: the pipeline's per-URL stage as jobs of Procrastinate.

With `execution.backend: procrastinate` (PostgreSQL only) a round is split in two:

- `run_round_with_workers` (what `monitor run` and the scheduler call) takes the round lock,
  discovers new URLs, and in ONE transaction inserts the new frontier rows and defers one
  `monitor.process_url` job per due row, on the same psycopg connection (Procrastinate's
  `defer_jobs` query run through the SQLAlchemy session's connection), so no job is lost between
  the two. A job's `queueing_lock` is its frontier row, so a URL never has two jobs waiting, and
  its `lock` is the row too, so two workers never carry the same URL at once. With `wait` it
  waits for the round's jobs and returns the same `RoundSummary` as the in-process round,
  counted from the frontier, article, score and review rows those jobs touched.
- `run_worker` (`monitor worker`) runs a Procrastinate worker whose job calls
  `monitor.pipeline.process_url`, the stage code the in-process round uses. Every stage is
  idempotent, so a retried job resumes from the state its row reached. Jobs run in
  `--concurrency` threads, each with its own event loop and fetcher (`JobRunner`), so the
  stages' synchronous database writes, extraction and scoring never stall the worker's own loop
  (its heartbeats) nor keep a host locked.

Politeness across processes: `DatabaseHostThrottle` replaces the fetcher's in-process throttle.
Requests to one host are serialised by a PostgreSQL advisory lock per host, and the table
`monitor_host_slots` keeps the time of the host's last request; a request starts only
`crawler.per_host_interval` (or the host's Crawl-delay) after the previous one ENDED, measured on
the database clock, however many workers on however many machines run. The start of a request is
written before it is sent, so a worker killed mid-request still holds the next one back.

Failures: a transient fetch failure or an exception is retried by Procrastinate's
`RetryStrategy` with exponential backoff (`execution.retry_backoff_seconds` ** attempt), at most
`crawler.max_attempts` times (the frontier gives up on the URL at that count too). A worker killed
with SIGKILL stops sending heartbeats; after `execution.stalled_after_seconds` any live worker
finds its jobs (`get_stalled_jobs`) and puts them back in the queue.

Schema: `ensure_schema` applies Procrastinate's schema and creates `monitor_host_slots` when they
are missing (idempotent, under an advisory lock). `monitor worker` and `monitor run` call it.

Config keys read: execution.* (heartbeat_seconds, retry_backoff_seconds,
shutdown_timeout_seconds, stalled_after_seconds, wait_poll_seconds, worker_concurrency),
crawler.* (per_host_interval, max_attempts, max_urls_per_round, concurrency), database.url.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from datetime import datetime
from typing import Any

import procrastinate
from procrastinate import exceptions as pc_exceptions
from procrastinate import jobs as pc_jobs
from sqlalchemy import and_, or_, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crawlers import extraction
from crawlers.fetching import Fetcher, HostThrottle
from crawlers.types import ExtractedArticle
from monitor import frontier, pipeline
from monitor.config import Config
from monitor.db import FrontierUrl, Run, SourceRow, UrlState, session_scope, utcnow
from monitor.errors import MonitorError, RoundLocked
from monitor.locks import round_lock

log = logging.getLogger(__name__)

TASK_NAME = "monitor.process_url"
QUEUE = "monitor"
SCHEMA_LOCK_KEY = 0x6E6D_0002  # advisory lock serialising schema creation by many workers
HOST_LOCK_NAMESPACE = 0x6E6D  # first key of the two-key advisory lock per host
PENDING = ("todo", "doing")

HOST_SLOTS_DDL = """
CREATE TABLE IF NOT EXISTS monitor_host_slots (
    host varchar(300) PRIMARY KEY,
    last_request_at timestamptz NOT NULL
)
"""


class TransientFetchFailure(Exception):
    """A URL whose fetch failed transiently; raised so that Procrastinate retries the job later."""


class SkippedRound(pipeline.RoundSummary):
    """What `run_round_with_workers` returns when another round holds the round lock."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def format(self) -> str:
        return self.reason


# ---------------------------------------------------------------- schema


def conninfo(engine_or_url: Engine | str) -> str:
    """A libpq/psycopg connection string for the SQLAlchemy URL (driver suffix dropped)."""
    from sqlalchemy.engine import make_url

    url = make_url(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url.url
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def require_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise MonitorError(
            "execution.backend procrastinate needs a PostgreSQL database.url (SQLite runs rounds in-process: use backend: local)"
        )


def schema_present(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AND to_regclass('monitor_host_slots') IS NOT NULL")).scalar()


def ensure_schema(engine: Engine) -> bool:
    """Apply Procrastinate's schema and the host-slot table when missing; True if it did anything."""
    require_postgresql(engine)
    if schema_present(engine):
        return False
    from procrastinate.schema import SchemaManager

    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
        raw = conn.connection.driver_connection
        if not conn.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar():
            raw.execute(SchemaManager.get_schema())  # no parameters: psycopg runs the script as is
            log.info("applied Procrastinate's schema")
        conn.execute(text(HOST_SLOTS_DDL))
    return True


# ---------------------------------------------------------------- politeness across workers


class DatabaseHostThrottle(HostThrottle):
    """`HostThrottle` whose per-host interval holds across processes and machines.

    Requests to one host are serialised by a PostgreSQL advisory lock (two-key form, namespace
    HOST_LOCK_NAMESPACE, hashtext(host)); the host's last request time lives in
    `monitor_host_slots` and is measured on the database clock. The lock is held from the wait
    before a request to the end of the response; a process that dies loses its connection and so
    its lock, and the request start it wrote keeps the next one at a distance.
    """

    def __init__(self, interval: float, concurrency: int, *, dsn: str, max_connections: int | None = None) -> None:
        super().__init__(interval, concurrency)
        import psycopg_pool

        self._pool = psycopg_pool.AsyncConnectionPool(
            dsn, min_size=0, max_size=max(1, max_connections or concurrency), open=False, kwargs={"autocommit": True}
        )
        self._held: contextvars.ContextVar[tuple[str, Any, asyncio.Lock] | None] = contextvars.ContextVar("held", default=None)
        self._finishing: set[asyncio.Task[None]] = set()
        self._mine: contextvars.ContextVar[tuple[asyncio.Task[None], ...]] = contextvars.ContextVar("mine", default=())
        self._opened = False

    async def open(self) -> None:
        if not self._opened:
            await self._pool.open()
            self._opened = True

    async def close(self) -> None:
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)
        if self._opened:
            await self._pool.close()
            self._opened = False

    async def acquire(self, host: str) -> None:
        if not self.enabled:
            await self._semaphore.acquire()
            self._held.set(None)
            return
        await self.open()
        local = self._host_locks.setdefault(host, asyncio.Lock())
        await local.acquire()  # one request per host per process waits on the database lock
        conn = None
        try:
            conn = await self._pool.getconn()
            await conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (HOST_LOCK_NAMESPACE, host))
            interval = self.interval_for(host)
            # Claim the slot at once if the interval has passed (the usual case), else wait for it.
            # The start is written before the request, in case this process dies mid-request.
            cur = await conn.execute(
                "INSERT INTO monitor_host_slots AS s (host, last_request_at) VALUES (%(h)s, clock_timestamp()) "
                "ON CONFLICT (host) DO UPDATE SET last_request_at = clock_timestamp() "
                "WHERE s.last_request_at + make_interval(secs => %(i)s) <= clock_timestamp() RETURNING 1",
                {"h": host, "i": interval},
            )
            if await cur.fetchone() is None:
                cur = await conn.execute(
                    "SELECT extract(epoch FROM last_request_at + make_interval(secs => %s) - clock_timestamp()) FROM monitor_host_slots WHERE host = %s",
                    (interval, host),
                )
                row = await cur.fetchone()
                wait = float(row[0]) if row and row[0] is not None else 0.0
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._stamp(conn, host)
            await self._semaphore.acquire()
        except BaseException:
            if conn is not None:
                await self._unlock(conn, host)
            local.release()
            raise
        self._held.set((host, conn, local))

    def release(self, host: str | None = None) -> None:
        held = self._held.get()
        self._semaphore.release()
        if held is None:
            return
        self._held.set(None)
        task = asyncio.get_running_loop().create_task(self._finish(*held))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)
        self._mine.set((*self._mine.get(), task))

    async def settle(self) -> None:
        """Wait until the host locks this task released are really given back (see DatabaseFetcher)."""
        mine = self._mine.get()
        if mine:
            self._mine.set(())
            await asyncio.gather(*mine, return_exceptions=True)

    async def _finish(self, host: str, conn: Any, local: asyncio.Lock) -> None:
        try:
            await self._stamp(conn, host)  # the end: the next request waits `interval` from here
        finally:
            await self._unlock(conn, host)
            local.release()

    @staticmethod
    async def _stamp(conn: Any, host: str) -> None:
        await conn.execute(
            "INSERT INTO monitor_host_slots (host, last_request_at) VALUES (%s, clock_timestamp()) "
            "ON CONFLICT (host) DO UPDATE SET last_request_at = excluded.last_request_at",
            (host,),
        )

    async def _unlock(self, conn: Any, host: str) -> None:
        try:
            await conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (HOST_LOCK_NAMESPACE, host))
        except Exception:  # a broken connection has lost its lock anyway
            log.warning("could not release the host lock of %s", host, exc_info=True)
        finally:
            await self._pool.putconn(conn)


class DatabaseFetcher(Fetcher):
    """A Fetcher that gives a host back as soon as its response is in: `fetch` returns only after
    the host lock is released, so the job's CPU work (extraction, scoring) never holds a host."""

    async def fetch(self, url: str, **kwargs: Any) -> Any:
        try:
            return await super().fetch(url, **kwargs)
        finally:
            if isinstance(self.throttle, DatabaseHostThrottle):
                await self.throttle.settle()


def database_fetcher(config: Config, engine: Engine, *, in_flight: int) -> tuple[Fetcher, DatabaseHostThrottle]:
    """A Fetcher whose per-host interval is kept in the database (shared by all workers)."""
    fetcher = DatabaseFetcher(config.crawler)
    throttle = DatabaseHostThrottle(
        config.crawler.per_host_interval, config.crawler.concurrency, dsn=conninfo(engine), max_connections=in_flight + 1
    )
    fetcher.throttle = throttle
    return fetcher, throttle


# ---------------------------------------------------------------- the Procrastinate app and its task

class _LockedIndex:
    """A NearDuplicateIndex shared by a worker's job threads (datasketch is not thread-safe)."""

    def __init__(self, index: Any) -> None:
        self._index, self._lock = index, threading.Lock()

    def find(self, text_: str) -> Any:
        with self._lock:
            return self._index.find(text_)

    def add(self, cluster_id: int, text_: str) -> None:
        with self._lock:
            self._index.add(cluster_id, text_)


class JobRunner:
    """Runs `process_url` for a worker in `slots` threads, each with its own event loop, Fetcher
    and StageContext (one job at a time per thread).

    The pipeline's stages do their database writes, extraction and scoring synchronously; run on
    the worker's own loop they would stall Procrastinate's heartbeats (a busy worker would look
    dead) and hold a host's lock while other jobs compute. In threads, the worker's loop stays
    free and a host is held only for its request.
    """

    def __init__(self, config: Config, engine: Engine, model: Any, slots: int, name: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from monitor.dedupe import NearDuplicateIndex

        self.config, self.engine, self.model, self.name = config, engine, model, name
        self.executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="job")
        self.sources_by_id = _sources_by_id(config, engine)
        self.near_dupes = _LockedIndex(NearDuplicateIndex.from_recent(engine, days=7))
        self._local = threading.local()
        self._contexts: list[tuple[asyncio.AbstractEventLoop, pipeline.StageContext, DatabaseHostThrottle]] = []
        self._lock = threading.Lock()

    def _context(self) -> tuple[asyncio.AbstractEventLoop, pipeline.StageContext]:
        local = self._local
        if not hasattr(local, "ctx"):
            loop = asyncio.new_event_loop()
            fetcher, throttle = database_fetcher(self.config, self.engine, in_flight=1)
            loop.run_until_complete(fetcher.__aenter__())
            ctx = pipeline.StageContext(
                config=self.config, engine=self.engine, fetcher=fetcher, model=self.model, extract=_extract,
                owner=f"{self.name}:{threading.current_thread().name}", summary=pipeline.RoundSummary(),
                sources_by_id=self.sources_by_id, near_dupes=self.near_dupes,  # type: ignore[arg-type]
            )
            local.loop, local.ctx = loop, ctx
            with self._lock:
                self._contexts.append((loop, ctx, throttle))
        return local.loop, local.ctx

    def run(self, row_id: int, source_id: int | None = None) -> str:
        """One job, in a runner thread."""
        loop, ctx = self._context()
        if source_id is not None and source_id not in ctx.sources_by_id:  # a source added since start
            ctx.sources_by_id = self.sources_by_id = _sources_by_id(self.config, self.engine)
        return loop.run_until_complete(pipeline.process_url(ctx, row_id))

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        for loop, ctx, throttle in self._contexts:
            loop.run_until_complete(ctx.fetcher.aclose())
            loop.run_until_complete(throttle.close())
            loop.close()


_runner: JobRunner | None = None


def build_app(config: Config, engine_or_url: Engine | str, *, pool_size: int = 3) -> procrastinate.App:
    """A Procrastinate app on the monitor's database with the pipeline's task registered."""
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(engine_or_url), min_size=1, max_size=max(2, pool_size))
    app = procrastinate.App(connector=connector)
    retry = procrastinate.RetryStrategy(
        max_attempts=max(1, config.crawler.max_attempts), exponential_wait=max(1, config.execution.retry_backoff_seconds)
    )
    app.task(name=TASK_NAME, queue=QUEUE, retry=retry)(process_url_job)
    return app


async def process_url_job(row_id: int, run_id: int | None = None, source_id: int | None = None) -> str:
    """The job: carry one frontier row forward (fetch -> extract -> score -> queue)."""
    runner = _runner
    if runner is None:
        raise RuntimeError("monitor.process_url runs only inside `monitor worker`")
    state = await asyncio.get_running_loop().run_in_executor(runner.executor, runner.run, row_id, source_id)
    if state == UrlState.FAILED.value:
        raise TransientFetchFailure(f"frontier row {row_id} (round {run_id}): transient fetch failure, retried with backoff")
    return state


def _sources_by_id(config: Config, engine: Engine) -> dict[int, Any]:
    with session_scope(engine) as session:
        ids = dict(session.execute(select(SourceRow.name, SourceRow.id)).all())
    return {ids[s.name]: s for s in config.sources if s.name in ids}


async def _extract(html: str, url: str, cleanup: list[str]) -> ExtractedArticle | None:
    return extraction.extract_article(html, url, cleanup=cleanup)


async def rescue_stalled_jobs(app: procrastinate.App, stalled_after: float) -> int:
    """Put the jobs of workers silent for `stalled_after` seconds back in the queue."""
    rescued = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        try:
            await app.job_manager.retry_job(job)
            rescued += 1
            log.warning("job %s (%s) of a dead worker put back in the queue", job.id, job.task_kwargs)
        except pc_exceptions.ConnectorException as exc:  # another worker was quicker
            log.info("job %s not retried: %s", job.id, str(exc.__cause__ or exc).splitlines()[0])
    return rescued


async def _rescue_loop(app: procrastinate.App, config: Config) -> None:
    while True:
        await asyncio.sleep(config.execution.heartbeat_seconds)
        try:
            await rescue_stalled_jobs(app, config.execution.stalled_after_seconds)
        except Exception:  # keep the worker running; the next pass tries again
            log.exception("looking for stalled jobs failed")


def run_worker(config: Config, engine: Engine, model: Any, *, concurrency: int | None = None, name: str | None = None) -> None:
    """Run a worker until SIGTERM/SIGINT (running jobs get `execution.shutdown_timeout_seconds`)."""
    require_postgresql(engine)
    ensure_schema(engine)
    concurrency = concurrency or config.execution.worker_concurrency
    asyncio.run(_worker_main(config, engine, model, concurrency, name or pipeline.new_owner()))


async def _worker_main(config: Config, engine: Engine, model: Any, concurrency: int, name: str) -> None:
    global _runner
    app = build_app(config, engine, pool_size=3)
    runner = JobRunner(config, engine, model, concurrency, name)
    _runner = runner
    try:
        async with app.open_async():
            rescuer = asyncio.create_task(_rescue_loop(app, config), name="rescue_stalled_jobs")
            log.info("worker %s: %d jobs at a time on queue %r", name, concurrency, QUEUE)
            try:
                await app.run_worker_async(
                    queues=[QUEUE], name=name, concurrency=concurrency, wait=True,
                    update_heartbeat_interval=config.execution.heartbeat_seconds,
                    stalled_worker_timeout=config.execution.stalled_after_seconds,
                    shutdown_graceful_timeout=config.execution.shutdown_timeout_seconds,
                    fetch_job_polling_interval=min(5.0, config.execution.wait_poll_seconds * 2),
                    install_signal_handlers=True,
                )
            finally:
                rescuer.cancel()
                await asyncio.gather(rescuer, return_exceptions=True)
    finally:
        _runner = None
        await asyncio.to_thread(runner.close)
    log.info("worker %s stopped", name)


# ---------------------------------------------------------------- the round, distributed


def run_round_with_workers(config: Config, engine: Engine, *, wait: bool = False, stop: threading.Event | None = None) -> pipeline.RoundSummary:
    """Discover and defer the round's jobs (one transaction); with `wait`, wait and summarise.

    Takes the round lock; when another round holds it, returns a `SkippedRound` whose `format()`
    says so. `stop` (set by the scheduler on SIGTERM) ends the wait early; the jobs stay queued.
    """
    require_postgresql(engine)
    ensure_schema(engine)
    try:
        with round_lock(engine):
            return _distributed_round(config, engine, wait=wait, stop=stop)
    except RoundLocked as exc:
        return SkippedRound(str(exc))


def _distributed_round(config: Config, engine: Engine, *, wait: bool, stop: threading.Event | None) -> pipeline.RoundSummary:
    started, started_at = time.monotonic(), utcnow()
    summary = pipeline.RoundSummary()
    with session_scope(engine) as session:
        run = Run(kind="round", started_at=started_at, status="running")
        session.add(run)
        session.flush()
        summary.run_id = run.id
        ids = frontier.sync_sources(session, config.sources)
    status, error, deferred = "failed", None, 0
    try:
        listings = asyncio.run(_discover(config, engine, ids, summary))
        app = build_app(config, engine)
        with session_scope(engine) as session:  # frontier rows and their jobs: one transaction
            for source, found in zip(config.enabled_sources(), listings, strict=True):
                summary.discovered += frontier.add_discovered(session, found, ids[source.name])
            deferred = defer_due_rows(app, session, run_id=summary.run_id, limit=config.crawler.max_urls_per_round)
        log.info("round %s: %d new URLs, %d jobs deferred for workers", summary.run_id, summary.discovered, deferred)
        status = "deferred"
        if wait:
            finished = wait_for_round(
                engine, summary.run_id, poll=config.execution.wait_poll_seconds, stop=stop, stalled_after=config.execution.stalled_after_seconds
            )
            _count_round(engine, summary, started_at)
            status = "ok" if finished else "interrupted"
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        summary.seconds = time.monotonic() - started
        with session_scope(engine) as session:
            run = session.get(Run, summary.run_id)
            counts = summary.as_dict() | {"deferred": deferred}
            run.finished_at, run.status, run.counts, run.seconds, run.error = utcnow(), status, counts, summary.seconds, error
    return summary


async def _discover(config: Config, engine: Engine, ids: dict[str, int], summary: pipeline.RoundSummary) -> list[list[Any]]:
    fetcher, throttle = database_fetcher(config, engine, in_flight=config.crawler.concurrency)
    try:
        async with fetcher:
            ctx = pipeline.StageContext(
                config=config, engine=engine, fetcher=fetcher, model=None, extract=_extract, owner=pipeline.new_owner(),
                summary=summary, sources_by_id={ids[s.name]: s for s in config.sources},
            )
            return list(await asyncio.gather(*(pipeline.discover_source(ctx, s, ids[s.name]) for s in config.enabled_sources())))
    finally:
        await throttle.close()


def _queueing_lock(row_id: int) -> str:
    return f"frontier:{row_id}"


def defer_due_rows(app: procrastinate.App, session: Session, *, run_id: int | None, limit: int) -> int:
    """Defer a job for every due frontier row without a pending job, in `session`'s transaction."""
    now = utcnow()
    due = and_(
        FrontierUrl.state.in_([s.value for s in frontier.RESUMABLE]),
        or_(FrontierUrl.next_attempt_at.is_(None), FrontierUrl.next_attempt_at <= now),
        or_(FrontierUrl.lease_expires_at.is_(None), FrontierUrl.lease_expires_at <= now),
    )
    rows = session.execute(select(FrontierUrl.id, FrontierUrl.host, FrontierUrl.source_id).where(due).order_by(FrontierUrl.id).limit(limit)).all()
    if not rows:
        return 0
    # Workers take jobs in id order: interleave the hosts, so that the jobs running at any moment
    # are spread over many hosts instead of queueing behind one host's politeness interval.
    rank: dict[str, int] = {}
    keyed = []
    for row_id, host, source_id in rows:
        rank[host] = rank.get(host, -1) + 1
        keyed.append((rank[host], host, row_id, source_id))
    keyed.sort()
    sources = {row_id: source_id for _, _, row_id, source_id in keyed}
    row_ids = [row_id for _, _, row_id, _ in keyed]
    pending = set(
        session.execute(
            text("SELECT queueing_lock FROM procrastinate_jobs WHERE status = ANY(CAST(:st AS procrastinate_job_status[])) AND queueing_lock = ANY(:locks)"),
            {"st": list(PENDING), "locks": [_queueing_lock(i) for i in row_ids]},
        ).scalars()
    )
    todo = [i for i in row_ids if _queueing_lock(i) not in pending]
    raw = session.connection().connection.driver_connection  # the session's own transaction
    deferred = 0
    for start in range(0, len(todo), 500):
        batch = [_job(i, run_id, sources[i]) for i in todo[start : start + 500]]
        savepoint = session.begin_nested()
        try:
            app.job_manager.batch_defer_jobs(batch, connection=raw)
            savepoint.commit()
            deferred += len(batch)
        except pc_exceptions.AlreadyEnqueued:  # a job appeared meanwhile: defer one by one
            savepoint.rollback()
            for job in batch:
                one = session.begin_nested()
                try:
                    app.job_manager.defer_job(job, connection=raw)
                    one.commit()
                    deferred += 1
                except pc_exceptions.AlreadyEnqueued:
                    one.rollback()
    return deferred


def _job(row_id: int, run_id: int | None, source_id: int | None) -> pc_jobs.Job:
    return pc_jobs.Job(
        id=None, queue=QUEUE, lock=_queueing_lock(row_id), queueing_lock=_queueing_lock(row_id), task_name=TASK_NAME,
        task_kwargs={"row_id": row_id, "run_id": run_id, "source_id": source_id},
    )


def round_job_counts(engine: Engine, run_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status::text, count(*) FROM procrastinate_jobs WHERE task_name = :t AND args->>'run_id' = :r GROUP BY status"),
            {"t": TASK_NAME, "r": str(run_id)},
        ).all()
    return {status: n for status, n in rows}


def live_workers(engine: Engine, stalled_after: float) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => :s)"), {"s": stalled_after}
        ).scalar()


def wait_for_round(engine: Engine, run_id: int | None, *, poll: float = 1.0, stop: threading.Event | None = None, stalled_after: float = 30.0) -> bool:
    """Block until the round's jobs are no longer waiting or running; False when `stop` was set."""
    last_note = time.monotonic()
    while True:
        counts = round_job_counts(engine, run_id)
        if not any(counts.get(s, 0) for s in PENDING):
            return True
        if time.monotonic() - last_note > 30:
            last_note = time.monotonic()
            workers = live_workers(engine, stalled_after)
            log.info("round %s: jobs %s; %d live workers", run_id, counts, workers)
            if not workers:
                log.warning("no live worker: start one with `monitor worker`")
        if stop is not None:
            if stop.wait(poll):
                return False
        else:
            time.sleep(poll)


_ROUND_ROWS = "SELECT DISTINCT (args->>'row_id')::bigint AS id FROM procrastinate_jobs WHERE task_name = :t AND args->>'run_id' = :r"


def _count_round(engine: Engine, summary: pipeline.RoundSummary, started_at: datetime) -> None:
    """Fill `summary` from the rows the round's jobs touched (retries never count twice)."""
    p = {"t": TASK_NAME, "r": str(summary.run_id), "s": started_at}
    with engine.connect() as conn:
        def one(sql: str) -> int:
            return int(conn.execute(text(f"WITH rows AS ({_ROUND_ROWS}) {sql}"), p).scalar() or 0)

        summary.fetched = one("SELECT count(*) FROM raw_pages r JOIN rows ON r.frontier_id = rows.id WHERE r.fetched_at >= :s")
        summary.extracted = one("SELECT count(*) FROM articles a JOIN rows ON a.frontier_id = rows.id WHERE a.created_at >= :s")
        summary.scored = one(
            "SELECT count(*) FROM scores sc JOIN articles a ON a.id = sc.article_id JOIN rows ON a.frontier_id = rows.id WHERE sc.created_at >= :s"
        )
        summary.flagged = one(
            "SELECT count(*) FROM review_items ri JOIN articles a ON a.id = ri.article_id JOIN rows ON a.frontier_id = rows.id WHERE ri.created_at >= :s"
        )
        summary.duplicates = one(
            "SELECT (SELECT count(*) FROM frontier f JOIN rows ON f.id = rows.id WHERE f.state = 'skipped' AND f.last_error = 'duplicate_url' AND f.updated_at >= :s)"
            " + (SELECT count(*) FROM articles a JOIN rows ON a.frontier_id = rows.id WHERE a.created_at >= :s AND a.cluster_id <> a.id)"
        )
        failed = conn.execute(
            text(
                f"WITH rows AS ({_ROUND_ROWS}) SELECT f.last_error, count(*) FROM frontier f JOIN rows ON f.id = rows.id "
                "WHERE f.updated_at >= :s AND (f.state IN ('failed', 'gave_up') OR (f.state = 'skipped' AND f.last_error = 'no_article')) GROUP BY f.last_error"
            ),
            p,
        ).all()
        lost = conn.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t AND args->>'run_id' = :r AND status IN ('failed', 'aborted', 'cancelled')"),
            p,
        ).scalar()
    for reason, n in failed:
        summary.failed[reason or "unknown"] += n
    if lost:
        summary.failed["job_failed"] += lost


# ---------------------------------------------------------------- status


def job_counts(engine: Engine) -> dict[str, int]:
    """Procrastinate jobs by status (todo = waiting, doing, succeeded, failed, ...)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")).all()
    return {status: n for status, n in rows}


def delete_old_jobs(engine: Engine, days: int) -> int:
    """Delete finished jobs (succeeded, failed, cancelled, aborted) older than `days`; for retention."""
    with engine.begin() as conn:
        if not conn.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar():
            return 0
        result = conn.execute(
            text(
                "DELETE FROM procrastinate_jobs j WHERE j.status IN ('succeeded', 'failed', 'cancelled', 'aborted') "
                "AND NOT EXISTS (SELECT 1 FROM procrastinate_events e WHERE e.job_id = j.id AND e.at >= now() - make_interval(days => :d))"
            ),
            {"d": days},
        )
        return result.rowcount or 0
