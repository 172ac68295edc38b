"""scripts/backup.sh: an online SQLite copy that opens and holds the data; a pg_dump archive."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor import db
from tests.service.helpers import REPO, write_config

SCRIPT = REPO / "scripts" / "backup.sh"


def _backup(cfg: Path, dest: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, MONITOR_CONFIG=str(cfg), **env)
    environ.pop("MONITOR_DATABASE_URL", None)
    return subprocess.run(["bash", str(SCRIPT), str(dest)], cwd=REPO, env=environ, capture_output=True, text=True, timeout=120)


def test_sqlite_online_backup(sqlite_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    cfg = write_config(tmp_path / "c.yaml", sqlite_url, model_dir)
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (name, homepage, enabled, created_at) VALUES ('Warta', 'http://x/', 1, '2026-11-25')"))
    result = _backup(cfg, tmp_path / "backups")
    assert result.returncode == 0, result.stderr
    (copy,) = (tmp_path / "backups").glob("monitor-*.db.gz")
    restored = tmp_path / "restored.db"
    restored.write_bytes(gzip.decompress(copy.read_bytes()))
    with sqlite3.connect(restored) as conn:
        assert conn.execute("SELECT name FROM sources").fetchall() == [("Warta",)]
    assert list((tmp_path / "backups").glob("models-*.tar.gz"))
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_pg_dump(pg_url: str, tmp_path: Path, model_dir: Path) -> None:
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump not installed")
    cfg = write_config(tmp_path / "c.yaml", pg_url, model_dir)
    engine = db.make_engine(pg_url)
    db.upgrade(engine)
    engine.dispose()
    result = _backup(cfg, tmp_path / "backups")
    assert result.returncode == 0, result.stderr
    (dump,) = (tmp_path / "backups").glob("monitor-*.dump")
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    assert "TABLE public frontier" in listing and "TABLE public review_items" in listing
