"""The `monitor` command group and the context every command shares.

Commands live in sibling modules by concern (core, models_cmds, queue_cmds, service_cmds) and
register themselves on `main`. Library errors become one-line `click.ClickException`s that name
the fix; nothing here holds business logic.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.config import Config, ConfigError, load_config
from monitor.logs import setup_logging

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


class AppContext:
    """Lazily loaded config and database engine for one CLI invocation."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._engine: Engine | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                raise click.ClickException(f"bad config: {exc}") from None
        return self._config

    def engine(self, *, check_schema: bool = True) -> Engine:
        """The database engine; fails with a one-line reason when unreachable or out of date."""
        from monitor import db

        if self._engine is None:
            try:
                engine = db.make_engine(self.config.database_url, echo=self.config.database.echo)
                if check_schema:
                    db.check_schema(engine)
            except db.DatabaseError as exc:
                raise click.ClickException(str(exc)) from None
            self._engine = engine
        return self._engine


pass_app = click.make_pass_decorator(AppContext)


def cli_errors(func: Any) -> Any:
    """Turn the library's documented exceptions into one-line CLI errors."""
    from monitor.errors import MonitorError

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MonitorError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Config file (default: $MONITOR_CONFIG, else ./config.yaml).",
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Log line format.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="netralitas-monitor")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, log_format: str, verbose: int) -> None:
    """Find reports of partisan civil servants (ASN) in Indonesian regional news.

    \b
    Example:
      monitor init && monitor run && monitor queue export --format csv
    """
    level = logging.WARNING - 10 * verbose if verbose else logging.INFO
    setup_logging(level=level, fmt=log_format)
    ctx.obj = AppContext(config_path)
