"""Benchmark: articles/s of the in-process round and of 1, 2 and 4 `monitor worker` processes
(execution.backend procrastinate) on the same local pages, side by side.

Serves `--pages` tiny article pages over 20 local hosts (127.0.0.1, one port each, RSS feed per
host; tests/service/localsites.py), and for every mode and repeat builds a fresh PostgreSQL
database, runs `monitor init`, starts the workers (and waits until they are registered), then one
`monitor run --wait` (in-process: `monitor run`). Articles/s = articles stored / the round's own
duration (`runs.seconds`: discovery, deferral or fetching, extraction, scoring, queueing; process
start-up excluded). Each figure is the median of `--repeat` runs. Also reports the smallest gap
between two requests to one host (must not be below `--interval`).

    .venv/bin/python scripts/bench_workers.py                       # 1,000 pages, 3 repeats
    .venv/bin/python scripts/bench_workers.py --pages 2000 --repeat 5 --modes local,1,2,4,8
    MONITOR_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python scripts/bench_workers.py

Needs a PostgreSQL server where the admin URL may create databases ($MONITOR_TEST_PG, default
postgresql+psycopg://postgres@127.0.0.1:5432/test). The machine's other load shows in the
figures: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.service import localsites  # noqa: E402
from tests.service.helpers import REPO, monitor_cmd, start_workers, stop_processes, write_config  # noqa: E402

PG_ADMIN = os.environ.get("MONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HOSTS = 20


def one_run(mode: str, pages: int, interval: float, model_dir: Path, workdir: Path, concurrency: int) -> tuple[float, int, float]:
    """(articles/s, articles, smallest per-host gap) for one fresh database."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"nm_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    workers: list[subprocess.Popen] = []
    try:
        with localsites.serve(HOSTS, max(1, pages // HOSTS)) as sites:
            backend = "local" if mode == "local" else "procrastinate"
            cfg = write_config(workdir / f"{name}.yaml", url, model_dir, backend=backend, sources=sites.sources_yaml(), interval=interval)
            subprocess.run(monitor_cmd(cfg, "init"), cwd=REPO, check=True, capture_output=True)
            engine = create_engine(url)
            if mode != "local":
                from monitor import db, tasks

                n = int(mode)
                schema_engine = db.make_engine(url)
                tasks.ensure_schema(schema_engine)
                schema_engine.dispose()
                workers = start_workers(cfg, n, concurrency=concurrency)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    with engine.connect() as conn:
                        if conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar() >= n:
                            break
                    time.sleep(0.2)
            args = ["run"] if mode == "local" else ["run", "--wait"]
            done = subprocess.run(monitor_cmd(cfg, *args), cwd=REPO, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{mode}: monitor run failed:\n{done.stderr[-2000:]}")
            with engine.connect() as conn:
                seconds = conn.execute(text("SELECT seconds FROM runs WHERE kind = 'round' ORDER BY id DESC LIMIT 1")).scalar()
                articles = conn.execute(text("SELECT count(*) FROM articles")).scalar()
            engine.dispose()
            gaps = sites.smallest_gaps()
            return articles / seconds, articles, min(gaps.values()) if gaps else float("nan")
    finally:
        stop_processes(workers)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="article pages over 20 hosts (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; the median is shown (default 3)")
    parser.add_argument("--modes", default="local,1,2,4", help="comma-separated: local (in-process round) and worker counts")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs in flight per worker (default 4)")
    parser.add_argument("--interval", type=float, default=0.02, help="crawler.per_host_interval in seconds (default 0.02)")
    parser.add_argument("--model-dir", type=Path, default=None, help="model registry (default: a temporary one, trained once)")
    args = parser.parse_args()

    from models.registry import ensure_model

    with tempfile.TemporaryDirectory(prefix="bench_workers_") as tmp:
        workdir = Path(tmp)
        model_dir = args.model_dir or workdir / "models"
        ensure_model(model_dir)
        modes = [m.strip() for m in args.modes.split(",") if m.strip()]
        results: dict[str, list[tuple[float, int, float]]] = {m: [] for m in modes}
        for r in range(args.repeat):
            for mode in modes:  # interleaved, so a burst of other load hits every mode alike
                results[mode].append(one_run(mode, args.pages, args.interval, model_dir, workdir, args.concurrency))
                rate, n, gap = results[mode][-1]
                print(f"  run {r + 1}/{args.repeat} {mode:>5}: {rate:6.1f} articles/s ({n} articles, smallest host gap {gap * 1000:.1f} ms)", file=sys.stderr)
        load = os.getloadavg()
        print(f"\n{args.pages} pages over {HOSTS} hosts, per_host_interval {args.interval}s, worker concurrency {args.concurrency}, "
              f"median of {args.repeat}; {os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        print(f"{'mode':<22} {'articles/s':>10} {'vs in-process':>14} {'smallest host gap':>18}")
        base = statistics.median(r[0] for r in results[modes[0]]) if modes[0] == "local" else None
        for mode in modes:
            rate = statistics.median(r[0] for r in results[mode])
            gap = min(r[2] for r in results[mode])
            label = "in-process round" if mode == "local" else f"{mode} worker{'s' if mode != '1' else ''}"
            ratio = f"{rate / base:.2f}x" if base else "-"
            print(f"{label:<22} {rate:>10.1f} {ratio:>14} {gap * 1000:>15.1f} ms")


if __name__ == "__main__":
    main()
