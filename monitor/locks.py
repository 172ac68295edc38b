"""The round lock shared by every entry point (cron `monitor run`, the scheduler, `monitor demo`):
a PostgreSQL session-level advisory lock, or an exclusive lock file beside a SQLite database.
The second round to start sees `RoundLocked` and exits 0 saying so.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from monitor.errors import RoundLocked

ADVISORY_KEY = 0x6E6D_0001  # "nm" + 1: the round lock's key in pg_advisory_lock


def _lock_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        return Path(os.environ.get("TMPDIR", "/tmp")) / f"netralitas-monitor-{os.getuid()}.lock"
    return Path(database).with_suffix(".round.lock")


@contextmanager
def round_lock(engine: Engine, name: str = "round") -> Iterator[None]:
    """Hold the round lock for the `with` block, or raise RoundLocked at once."""
    if engine.dialect.name == "postgresql":
        key = ADVISORY_KEY if name == "round" else ADVISORY_KEY + zlib.crc32(name.encode()) % 1000 + 1
        conn = engine.connect()
        try:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                raise RoundLocked("another round is running (PostgreSQL advisory lock held): nothing to do")
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        finally:
            conn.close()
        return
    path = _lock_path(engine)
    if name != "round":
        path = path.with_suffix(f".{name}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RoundLocked(f"another round is running (lock file {path} held): nothing to do") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
