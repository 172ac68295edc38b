"""Core commands: init, run, demo, extract, status."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from monitor.cli.app import AppContext, cli_errors, main, pass_app


def load_model(app: AppContext):  # noqa: ANN201 - models.registry.LoadedModel
    """The promoted model; trains the first one from the shipped corpus when there is none."""
    from models.registry import ensure_model

    return ensure_model(app.config.classifier.model_dir, app.config.classifier.corpus_dir)


@main.command()
@pass_app
@cli_errors
def init(app: AppContext) -> None:
    """Create or migrate the database to the current schema (idempotent).

    \b
    Example:
      monitor init
    """
    from monitor import db

    engine = app.engine(check_schema=False)
    before, after = db.upgrade(engine)
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"database {url} is up to date (schema {after})")
    else:
        click.echo(f"database {url} migrated from schema {before or 'none'} to {after}")
    if app.config.execution.backend == "procrastinate":
        from monitor import tasks

        if tasks.ensure_schema(engine):
            click.echo("Procrastinate job tables created")


@main.command()
@click.option("--wait", is_flag=True, help="With execution.backend procrastinate: wait for the round's jobs, then print the summary.")
@pass_app
@cli_errors
def run(app: AppContext, wait: bool) -> None:
    """Run one full round: discover, fetch, extract, score, queue; print a summary.

    A round where some sources failed still exits 0 and names them. If another round holds the
    round lock (cron and the scheduler at once), this one says so and exits 0.

    \b
    Example:
      monitor run
    """
    from monitor.errors import RoundLocked
    from monitor.locks import round_lock

    engine = app.engine()
    if app.config.execution.backend == "procrastinate":
        from monitor import tasks  # the distributed driver

        summary = tasks.run_round_with_workers(app.config, engine, wait=wait)
        click.echo(summary.format())
        return
    model = load_model(app)
    try:
        with round_lock(engine):
            from monitor.pipeline import run_round

            summary = run_round(app.config, engine, model)
    except RoundLocked as exc:
        click.echo(str(exc))
        return
    click.echo(summary.format())


@main.command()
@click.option("--serve-only", is_flag=True, help="Only serve the offline site (Ctrl-C to stop); run no round.")
@click.option("--port", type=int, default=0, help="Port for the offline site (default: a free one).")
@pass_app
@cli_errors
def demo(app: AppContext, serve_only: bool, port: int) -> None:
    """Serve the bundled offline news site on 127.0.0.1 and run a round against it.

    Uses the configured database (default var/monitor.db), initialising it first, and prints
    the flagged list, highest score first.

    \b
    Example:
      monitor demo
    """
    import dataclasses
    import time

    from monitor import db, demosite
    from monitor.locks import round_lock
    from monitor.pipeline import run_round

    with demosite.serve(port=port) as site:
        if serve_only:
            click.echo(f"offline news site at {site.base_url}/ (feed {site.feed_url}); Ctrl-C to stop")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return
        engine = app.engine(check_schema=False)
        db.upgrade(engine)
        config = app.config.replace(
            sources=[demosite.demo_source(site)],
            crawler=dataclasses.replace(app.config.crawler, allow_private_addresses=True, per_host_interval=0.0, concurrency=8),
        )
        model = load_model(app)
        click.echo(f"offline news site at {site.base_url}/ with {len(site.articles)} articles; model {model.version}")
        with round_lock(engine):
            summary = run_round(config, engine, model)
    click.echo(summary.format())
    print_flagged(engine, source=demosite.SITE_NAME)


def print_flagged(engine, source: str | None = None) -> None:  # noqa: ANN001
    from monitor import queue
    from monitor.db import session_scope

    with session_scope(engine) as session:
        rows = queue.list_items(session, queue.Filters(source=source))
    click.echo(f"\nFlagged for review ({len(rows)}):")
    click.echo(f"{'score':>6}  {'status':<10} {'region':<32} title")
    for r in rows:
        click.echo(f"{r.score:6.3f}  {r.status:<10} {(r.region or '-')[:32]:<32} {r.title}")


@main.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--allow-private", is_flag=True, help="Allow URLs on private or loopback addresses.")
@pass_app
@cli_errors
def extract(app: AppContext, targets: tuple[str, ...], allow_private: bool) -> None:
    """Print one JSON line per page: title, text, published_at, author, url.

    TARGETS are HTML files or http(s) URLs (fetched politely with the crawler's settings).

    \b
    Example:
      monitor extract saved-page.html https://jateng.antaranews.com/berita/123/judul
    """
    import asyncio
    import dataclasses

    from crawlers import extraction
    from crawlers.fetching import Fetcher
    from crawlers.types import FetchFailure

    failures = 0
    urls = [t for t in targets if t.startswith(("http://", "https://"))]
    pages: dict[str, tuple[str, str] | str] = {}
    for t in targets:
        if t in urls:
            continue
        path = Path(t)
        if not path.is_file():
            pages[t] = f"no such file: {t}"
            continue
        raw = path.read_bytes()
        pages[t] = (raw.decode("utf-8", errors="replace"), path.resolve().as_uri())
    if urls:
        crawler = app.config.crawler
        if allow_private:
            crawler = dataclasses.replace(crawler, allow_private_addresses=True)

        async def fetch_all() -> None:
            async with Fetcher(crawler) as fetcher:
                for url in urls:
                    result = await fetcher.fetch(url, kind="page")
                    pages[url] = f"{result.reason}: {result.detail}" if isinstance(result, FetchFailure) else (result.text, result.final_url)

        asyncio.run(fetch_all())
    for t in targets:
        got = pages[t]
        if isinstance(got, str):
            click.echo(f"{t}: {got}", err=True)
            failures += 1
            continue
        html, url = got
        article = extraction.extract_article(html, url)
        if article is None:
            click.echo(f"{t}: no article text found", err=True)
            failures += 1
            continue
        click.echo(json.dumps({
            "url": article.url, "title": article.title, "text": article.text,
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "author": article.author, "language": article.language, "pages": article.pages,
        }, ensure_ascii=False))
    if failures:
        sys.exit(1)


@main.command()
@click.option("--rounds", type=int, default=5, show_default=True, help="How many recent rounds to show.")
@pass_app
@cli_errors
def status(app: AppContext, rounds: int) -> None:
    """Print the last rounds, failing sources, queue backlog and the current model version.

    \b
    Example:
      monitor status
    """
    from monitor.status import collect_status, format_status

    click.echo(format_status(collect_status(app.config, app.engine(), rounds=rounds)))
