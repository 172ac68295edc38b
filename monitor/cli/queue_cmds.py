"""Review-queue commands: queue list|show|decide|export."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from monitor.cli.app import AppContext, cli_errors, main, pass_app


def _filters(app: AppContext, status: str | None, since: datetime | None):  # noqa: ANN202
    from monitor.queue import Filters

    return Filters(status=status, date_from=since.date() if since else None, timezone=app.config.review.timezone)


STATUSES = ["new", "in_review", "confirmed", "dismissed", "escalated"]


@main.group()
def queue() -> None:
    """Work with the review queue from the command line.

    \b
    Example:
      monitor queue list --status new
    """


@queue.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only items with this status.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only items queued on or after this day (YYYY-MM-DD).")
@click.option("--limit", type=int, default=50, show_default=True)
@pass_app
@cli_errors
def list_(app: AppContext, status: str | None, since: datetime | None, limit: int) -> None:
    """List review items, highest score first.

    \b
    Example:
      monitor queue list --status new --since 2024-11-01
    """
    from monitor import queue as q
    from monitor.db import session_scope

    with session_scope(app.engine()) as session:
        rows = q.list_items(session, _filters(app, status, since), limit=limit)
    for r in rows:
        click.echo(f"{r.id:>6}  {r.score:5.3f}  {r.status:<10} {(r.source or '-')[:24]:<24} {r.title}")
    if not rows:
        click.echo("no review items match")


@queue.command()
@click.argument("item_id", type=int)
@pass_app
@cli_errors
def show(app: AppContext, item_id: int) -> None:
    """Show one item: article, score, evidence and its decision history.

    \b
    Example:
      monitor queue show 12
    """
    from monitor import queue as q
    from monitor.db import session_scope

    with session_scope(app.engine()) as session:
        item = q.get_item(session, item_id)
        a, s = item.article, item.score
        click.echo(f"#{item.id} [{item.status}] {a.title}")
        click.echo(f"url: {a.url}\nsource: {a.source.name if a.source else '-'}\npublished: {a.published_at or '-'}")
        click.echo(f"region: {', '.join(x for x in (a.regency, a.province) if x) or '-'}")
        click.echo(f"score: {s.probability:.3f} (threshold {s.threshold:.3f}, model {s.model_version})")
        terms = ", ".join(f"{t} ({w:+.2f})" for t, w in (s.evidence or {}).get("top_terms", []))
        click.echo(f"top terms: {terms or '-'}")
        for sentence in (s.evidence or {}).get("sentences", []):
            click.echo(f"  > {sentence}")
        click.echo("history:")
        for d in q.history(session, item_id):
            click.echo(f"  {d.created_at:%Y-%m-%d %H:%M} {d.user}: {d.action} ({d.previous_status} -> {d.new_status})" + (f" - {d.note}" if d.note else ""))


@queue.command()
@click.argument("item_id", type=int)
@click.argument("action", type=click.Choice(["confirm", "dismiss", "escalate"]))
@click.option("--user", "user", required=True, help="Who decides (recorded in the log).")
@click.option("--note", help="Why; required to dismiss.")
@click.option("--type", "violation_type", help="Violation type when confirming (e.g. social_media).")
@pass_app
@cli_errors
def decide(app: AppContext, item_id: int, action: str, user: str, note: str | None, violation_type: str | None) -> None:
    """Confirm, dismiss or escalate an item; the decision is appended to the log.

    \b
    Example:
      monitor queue decide 12 confirm --user sari --type photo_hand_sign
    """
    from monitor import queue as q
    from monitor.db import session_scope

    with session_scope(app.engine()) as session:
        d = q.decide(session, item_id, user, action, note=note, violation_type=violation_type)
    click.echo(f"item {item_id}: {d.previous_status} -> {d.new_status}")


@queue.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "xlsx"]), default="jsonl", show_default=True)
@click.option("--status", type=click.Choice(STATUSES), help="Only items with this status.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only items queued on or after this day.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-", help="File to write (default stdout).")
@pass_app
@cli_errors
def export(app: AppContext, fmt: str, status: str | None, since: datetime | None, output: str) -> None:
    """Export the review queue: url, title, source, published_at, score, status, region, ...

    \b
    Example:
      monitor queue export --format csv --status confirmed --since 2024-11-01 -o confirmed.csv
    """
    from monitor import queue as q
    from monitor.db import session_scope

    with session_scope(app.engine()) as session:
        data = q.export_rows(q.list_items(session, _filters(app, status, since)), fmt)
    if output == "-":
        if fmt == "xlsx" and sys.stdout.isatty():
            raise click.ClickException("xlsx is binary: give --output FILE")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        with open(output, "wb") as f:
            f.write(data)
        click.echo(f"wrote {output}", err=True)


