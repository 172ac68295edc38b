"""Service commands: scheduler, worker, digest, retention."""

from __future__ import annotations

from datetime import date

import click

from monitor.cli.app import AppContext, cli_errors, main, pass_app
from monitor.cli.core import load_model


@main.command()
@pass_app
@cli_errors
def scheduler(app: AppContext) -> None:
    """Run the service: rounds, the digest and retention on the configured schedule.

    Jobs come from `schedule:` in config.yaml (time zone schedule.timezone, Asia/Jakarta by
    default). A job that fails is logged and the scheduler keeps running; SIGTERM or SIGINT stop
    it within schedule.shutdown_timeout_seconds. Run exactly one scheduler per database.

    \b
    Example:
      monitor --log-format json scheduler
    """
    from monitor.scheduler import run_scheduler

    run_scheduler(app.config, app.engine())


@main.command()
@click.option("--concurrency", type=click.IntRange(min=1), default=None, help="Jobs in flight in this worker (default: execution.worker_concurrency).")
@click.option("--name", default=None, help="Worker name in logs and in Procrastinate's tables (default: host:pid:nonce).")
@pass_app
@cli_errors
def worker(app: AppContext, concurrency: int | None, name: str | None) -> None:
    """Run a Procrastinate worker for the pipeline's jobs.

    Needs execution.backend: procrastinate (PostgreSQL). Start as many as you like, on this machine or any other that reaches the database; the
    per-host interval holds across all of them. SIGTERM or SIGINT stop it after the running
    jobs (at most execution.shutdown_timeout_seconds).

    \b
    Example:
      monitor worker --concurrency 8
    """
    if app.config.execution.backend != "procrastinate":
        raise click.ClickException(
            "monitor worker needs execution.backend: procrastinate (and a PostgreSQL database.url); with backend local, `monitor run` does the work in-process"
        )
    from monitor.tasks import run_worker

    engine = app.engine()
    run_worker(app.config, engine, load_model(app), concurrency=concurrency, name=name)


@main.command()
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Digest for this day (YYYY-MM-DD, in schedule.timezone; default: today).")
@click.option("--no-email", is_flag=True, help="Only write the files, even when digest.smtp is set.")
@pass_app
@cli_errors
def digest(app: AppContext, day: object, no_email: bool) -> None:
    """Write the daily digest (HTML and CSV) and e-mail it when digest.smtp is set.

    The digest lists the items flagged in the 24 hours before schedule.digest_at on that day
    (or before now, for today) and the review decisions of the day before.

    \b
    Example:
      monitor digest --date 2026-11-24
    """
    from monitor.digest import run_digest

    when: date | None = day.date() if day is not None else None  # type: ignore[attr-defined]
    result = run_digest(app.config, app.engine(), day=when, send_mail=not no_email)
    click.echo(result.format())


@main.command()
@pass_app
@cli_errors
def retention(app: AppContext) -> None:
    """Drop old raw HTML (retention.raw_html_days); text, scores and decisions stay.

    With execution.backend procrastinate it also deletes finished jobs older than
    retention.job_days.

    \b
    Example:
      monitor retention
    """
    from monitor.retention import run_retention

    click.echo(run_retention(app.config, app.engine()).format())
