"""Command-line interface: `monitor [--config PATH] COMMAND`. See `monitor --help`."""

# Importing the command modules registers their commands on `main`.
from monitor.cli import (
    core,  # noqa: E402,F401
    queue_cmds,  # noqa: E402,F401
)
from monitor.cli.app import main

for _optional in ("models_cmds", "web_cmds", "service_cmds"):
    try:
        __import__(f"monitor.cli.{_optional}")
    except ModuleNotFoundError as _exc:  # a module still being written by another change
        if _exc.name != f"monitor.cli.{_optional}":
            raise

__all__ = ["main"]
