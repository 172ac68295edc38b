"""`monitor users add|list|set`, `monitor queue reopen` and `monitor serve --help`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor import db
from monitor.cli import main
from monitor.db import User, session_scope
from monitor.web import auth
from tests.web.conftest import seed


@pytest.fixture
def cfg(tmp_path: Path, sqlite_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"database:\n  url: {sqlite_url}\n")
    assert CliRunner().invoke(main, ["--config", str(path), "init"]).exit_code == 0
    return path


def run(cfg: Path, *args: str, input: str | None = None):  # noqa: A002, ANN201
    return CliRunner().invoke(main, ["--config", str(cfg), *args], input=input)


def test_users_add_reads_the_password_from_stdin(cfg: Path, sqlite_url: str) -> None:
    r = run(cfg, "users", "add", "sari", "--role", "reviewer", input="kata-sandi-panjang\n")
    assert r.exit_code == 0 and r.output == "user sari added (reviewer)\n"
    r = run(cfg, "users", "add", "sari", "--role", "admin", input="kata-sandi-panjang\n")
    assert r.exit_code == 1 and "user 'sari' exists already" in r.output
    r = run(cfg, "users", "add", "budi", "--role", "viewer", input="pendek\n")
    assert r.exit_code == 1 and "password too short: at least 8 characters" in r.output
    r = run(cfg, "users", "add", "x", "--role", "boss", input="kata-sandi-panjang\n")
    assert r.exit_code == 2
    eng = db.make_engine(sqlite_url)
    with session_scope(eng) as s:
        user = s.scalar(select(User).where(User.name == "sari"))
        assert user.password_hash.startswith("$argon2id$") and "kata-sandi" not in user.password_hash
        assert auth.authenticate(s, "sari", "kata-sandi-panjang") == auth.CurrentUser("sari", "reviewer")
    eng.dispose()
    r = run(cfg, "users", "list")
    assert r.exit_code == 0 and r.output.startswith("sari                 reviewer  active")


def test_users_set_and_queue_reopen(cfg: Path, sqlite_url: str) -> None:
    eng = db.make_engine(sqlite_url)
    ids = seed(eng)
    eng.dispose()
    assert run(cfg, "queue", "decide", str(ids[0]), "dismiss", "--user", "bima", "--note", "imbauan").exit_code == 0
    r = run(cfg, "queue", "reopen", str(ids[0]), "--user", "bima")
    assert r.exit_code == 1 and "'bima' is not an active admin" in r.output
    r = run(cfg, "queue", "reopen", str(ids[0]), "--user", "ayu", "--note", "salah wilayah")
    assert r.exit_code == 0 and r.output == f"item {ids[0]}: dismissed -> new\n"
    r = run(cfg, "queue", "reopen", str(ids[0]), "--user", "ayu")
    assert r.exit_code == 1 and "not decided: nothing to reopen" in r.output
    r = run(cfg, "users", "set", "dewi", "--inactive", "--role", "reviewer")
    assert r.exit_code == 0 and r.output == "user dewi updated: role=reviewer, active=False\n"
    assert "dewi                 reviewer  inactive" in run(cfg, "users", "list").output
    assert run(cfg, "users", "set", "nobody", "--active").exit_code == 1
    assert run(cfg, "users", "set", "dewi").exit_code == 2


def test_serve_help_names_the_options() -> None:
    r = CliRunner().invoke(main, ["serve", "--help"])
    assert r.exit_code == 0 and "--host" in r.output and "--port" in r.output and "Example:" in r.output
    for cmd in (["users", "add", "--help"], ["users", "list", "--help"], ["queue", "reopen", "--help"]):
        r = CliRunner().invoke(main, cmd)
        assert r.exit_code == 0 and "Example:" in r.output, cmd
