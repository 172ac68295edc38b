"""Shared fixtures: a fresh SQLite file and a fresh PostgreSQL database per test, a config
pointing at them, and the bundled offline news site."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from monitor import db
from monitor.config import Config, ConfigError  # noqa: F401 - re-exported for tests

PG_ADMIN_URL = os.environ.get("MONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, str | None] = {}


def postgres_unavailable() -> str | None:
    """None when the test PostgreSQL answers, else why not (cached)."""
    if "reason" not in _pg_state:
        try:
            eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(text("SELECT 1"))
            eng.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # any failure means: skip, and say why
            _pg_state["reason"] = f"PostgreSQL at {PG_ADMIN_URL} unreachable: {str(exc).splitlines()[0]}"
    return _pg_state["reason"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    name = f"nm_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on SQLite and once on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model registry shared by the session: trained once from the shipped corpus."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def shipped_model(model_dir: Path):  # noqa: ANN201
    from models.registry import ensure_model

    return ensure_model(model_dir)


def pytest_report_header(config: pytest.Config) -> str:
    reason = postgres_unavailable()
    return f"postgresql: {'SKIPPED: ' + reason if reason else 'running against ' + PG_ADMIN_URL}"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    reason = postgres_unavailable()
    if reason:
        terminalreporter.write_line(f"NOTE: PostgreSQL tests were skipped: {reason}", yellow=True)
