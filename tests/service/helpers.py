"""Helpers for the service tests: config files and worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def write_config(path: Path, db_url: str, model_dir: Path, *, backend: str = "local", sources: str = "", interval: float = 0.02, extra: str = "") -> Path:
    path.write_text(
        f"""database:
  url: {db_url}
crawler:
  allow_private_addresses: true
  respect_robots_txt: false
  per_host_interval: {interval}
  concurrency: 16
  max_retries: 0
  timeout: 10
execution:
  backend: {backend}
  heartbeat_seconds: 1
  stalled_after_seconds: 6
  wait_poll_seconds: 0.2
  retry_backoff_seconds: 1
  shutdown_timeout_seconds: 5
classifier:
  model_dir: {model_dir}
digest:
  output_dir: {path.parent / 'digests'}
{extra}{sources}"""
    )
    return path


def monitor_cmd(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config), *args]


def start_workers(config: Path, n: int, concurrency: int = 4, log_dir: Path | None = None) -> list[subprocess.Popen]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("MONITOR_DATABASE_URL", None)
    procs = []
    for k in range(n):
        out = open(log_dir / f"worker{k}.log", "wb") if log_dir else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
        procs.append(
            subprocess.Popen(monitor_cmd(config, "worker", "--concurrency", str(concurrency), "--name", f"w{k}"), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        )
    return procs


def stop_processes(procs: list[subprocess.Popen], timeout: float = 15) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
