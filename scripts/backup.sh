#!/usr/bin/env bash
# Back up netralitas-monitor's database and model registry while it runs.
#
#   scripts/backup.sh [DEST_DIR]          (default DEST_DIR: ./var/backups)
#
# The database and model folder come from the config (`--config` is not taken: set
# $MONITOR_CONFIG, or run from the folder holding config.yaml; $MONITOR_DATABASE_URL overrides):
#   - SQLite: an online, consistent copy through SQLite's backup API (Python's
#     sqlite3.Connection.backup: safe while rounds and the web UI write; WAL included), gzipped;
#   - PostgreSQL: `pg_dump --format=custom` (restore with `pg_restore --clean --dbname=URL FILE`;
#     Procrastinate's job tables are included);
#   - the model registry (classifier.model_dir) as a .tar.gz.
# Keeps the newest $BACKUP_KEEP (default 14) of each kind. Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${MONITOR_PYTHON:-$here/.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"
dest="${1:-var/backups}"
keep="${BACKUP_KEEP:-14}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$dest"

read -r db_url model_dir < <(PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" "$python" -c '
from monitor.config import load_config
c = load_config()
print(c.database_url, c.classifier.model_dir)
')

prune() {  # prune PATTERN: keep the newest $keep files matching it
    ls -1t $1 2>/dev/null | tail -n +"$((keep + 1))" | xargs -r rm -f --
}

case "$db_url" in
  sqlite:///*)
    src="${db_url#sqlite:///}"
    [ -f "$src" ] || { echo "backup: no SQLite database at $src" >&2; exit 1; }
    out="$dest/monitor-$stamp.db"
    "$python" - "$src" "$out" <<'PY'
import sqlite3, sys
src, out = sys.argv[1], sys.argv[2]
with sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=60) as source, sqlite3.connect(out) as target:
    source.backup(target, pages=1024)  # copies in steps; writers are not blocked for long
    ok = target.execute("PRAGMA integrity_check").fetchone()[0]
    if ok != "ok":
        sys.exit(f"backup: integrity check of {out} failed: {ok}")
PY
    gzip -f "$out"
    echo "backup: SQLite $src -> $out.gz"
    prune "$dest/monitor-*.db.gz"
    ;;
  postgresql*)
    pg_url="postgresql://${db_url#*://}"  # drop the SQLAlchemy driver (+psycopg)
    out="$dest/monitor-$stamp.dump"
    pg_dump --format=custom --no-owner --file="$out.part" --dbname="$pg_url"
    mv "$out.part" "$out"
    echo "backup: PostgreSQL -> $out"
    prune "$dest/monitor-*.dump"
    ;;
  *)
    echo "backup: unsupported database URL ${db_url%%:*}" >&2
    exit 1
    ;;
esac

if [ -d "$model_dir" ]; then
    tar -czf "$dest/models-$stamp.tar.gz" -C "$(dirname "$model_dir")" "$(basename "$model_dir")"
    echo "backup: models $model_dir -> $dest/models-$stamp.tar.gz"
    prune "$dest/models-*.tar.gz"
fi
