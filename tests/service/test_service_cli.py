"""The service commands' help reads like docs: a one-line summary, then an Example block."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from monitor.cli import main

SERVICE_COMMANDS = ["scheduler", "worker", "digest", "retention"]


@pytest.mark.parametrize("command", SERVICE_COMMANDS)
def test_help_has_a_summary_and_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    summary = lines[2].strip()
    assert summary and summary.endswith(".") and len(summary) <= 100, summary
    example = lines.index("  Example:")
    assert lines[example + 1].strip().startswith(f"monitor {command}") or f"monitor --log-format json {command}" in lines[example + 1]


def test_worker_help_documents_concurrency() -> None:
    result = CliRunner().invoke(main, ["worker", "--help"])
    assert "--concurrency INTEGER RANGE" in result.output


def test_digest_rejects_a_bad_date() -> None:
    result = CliRunner().invoke(main, ["digest", "--date", "25-11-2026"])
    assert result.exit_code == 2
    assert "'25-11-2026' does not match the format '%Y-%m-%d'" in result.output
