"""Web UI and user commands: serve, users add|list|set, queue reopen."""

from __future__ import annotations

import sys

import click

from monitor.cli.app import AppContext, cli_errors, main, pass_app
from monitor.cli.queue_cmds import queue

ROLES = ["viewer", "reviewer", "admin"]


@main.command()
@click.option("--host", help="Address to listen on (default: web.host, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: web.port, 8000).")
@pass_app
@cli_errors
def serve(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve the review web UI: /login, the day's list, items, /healthz, /metrics.

    Put it behind an HTTPS reverse proxy and set web.cookie_secure and web.secret_key
    ("${MONITOR_SECRET_KEY}") in production. Create users first with `monitor users add`.
    /healthz is open. /metrics answers logged-in users and requests from loopback addresses;
    once $MONITOR_METRICS_TOKEN is set, loopback alone is not enough and scrapers send
    "Authorization: Bearer <token>".

    \b
    Example:
      monitor serve --host 127.0.0.1 --port 8000
    """
    import uvicorn

    from monitor.web import create_app

    cfg = app.config
    web_app = create_app(cfg, app.engine())
    host, port = host or cfg.web.host, port or cfg.web.port
    click.echo(f"serving the review UI on http://{host}:{port}/ (Ctrl+C stops)", err=True)
    uvicorn.run(web_app, host=host, port=port, log_level="info", proxy_headers=True, server_header=False)


@main.group()
def users() -> None:
    """Manage the web UI's users (viewer: read only; reviewer: decides; admin: users, reopen).

    \b
    Example:
      monitor users add sari --role reviewer
    """


def _read_password(name: str) -> str:
    if sys.stdin.isatty():
        return click.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="viewer, reviewer or admin.")
@pass_app
@cli_errors
def users_add(app: AppContext, name: str, role: str) -> None:
    """Create a user; the password is asked for, or read from stdin's first line when piped.

    \b
    Example:
      monitor users add sari --role reviewer
      printf '%s\\n' "$PASSWORD" | monitor users add budi --role viewer
    """
    from monitor.db import session_scope
    from monitor.web.auth import add_user

    password = _read_password(name)
    with session_scope(app.engine()) as session:
        add_user(session, name, password, role)
    click.echo(f"user {name} added ({role})")


@users.command("list")
@pass_app
@cli_errors
def users_list(app: AppContext) -> None:
    """List users with their role and whether they are active.

    \b
    Example:
      monitor users list
    """
    from sqlalchemy import select

    from monitor.db import User, session_scope

    with session_scope(app.engine()) as session:
        rows = session.execute(select(User.name, User.role, User.active, User.created_at).order_by(User.name)).all()
    for name, role, active, created in rows:
        click.echo(f"{name:<20} {role:<9} {'active' if active else 'inactive':<9} since {created:%Y-%m-%d}")
    if not rows:
        click.echo("no users yet: add one with `monitor users add NAME --role admin`")


@users.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), help="New role.")
@click.option("--active/--inactive", default=None, help="Allow or stop logging in.")
@click.option("--password", "new_password", is_flag=True, help="Set a new password (prompt or stdin).")
@pass_app
@cli_errors
def users_set(app: AppContext, name: str, role: str | None, active: bool | None, new_password: bool) -> None:
    """Change a user's role, deactivate or reactivate them, or set a new password.

    \b
    Example:
      monitor users set budi --inactive
    """
    from sqlalchemy import update

    from monitor.db import User, session_scope
    from monitor.web.auth import MIN_PASSWORD, UserError, hash_password

    values: dict[str, object] = {}
    if role:
        values["role"] = role
    if active is not None:
        values["active"] = active
    if new_password:
        password = _read_password(name)
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
        values["password_hash"] = hash_password(password)
    if not values:
        raise click.UsageError("nothing to change: give --role, --active/--inactive or --password")
    with session_scope(app.engine()) as session:
        if not session.execute(update(User).where(User.name == name).values(**values)).rowcount:
            raise UserError(f"no user {name!r} (see `monitor users list`)")
    click.echo(f"user {name} updated: " + ", ".join(k if k == "password_hash" else f"{k}={v}" for k, v in values.items()).replace("password_hash", "password"))


@queue.command("reopen")
@click.argument("item_id", type=int)
@click.option("--user", "user", required=True, help="The admin who reopens it (recorded in the log).")
@click.option("--note", help="Why it is reopened.")
@pass_app
@cli_errors
def queue_reopen(app: AppContext, item_id: int, user: str, note: str | None) -> None:
    """Put a decided item back to `new` (an admin action; appended to the log).

    When users exist in the database, --user must name an active admin.

    \b
    Example:
      monitor queue reopen 12 --user admin --note "wrong regency"
    """
    from sqlalchemy import func, select

    from monitor import queue as q
    from monitor.db import User, session_scope

    with session_scope(app.engine()) as session:
        if session.scalar(select(func.count()).select_from(User)):
            row = session.execute(select(User.role, User.active).where(User.name == user)).first()
            if row is None or row.role != "admin" or not row.active:
                raise q.QueueError(f"{user!r} is not an active admin: only admins reopen items")
        d = q.reopen(session, item_id, user, note=note)
    click.echo(f"item {item_id}: {d.previous_status} -> {d.new_status}")
