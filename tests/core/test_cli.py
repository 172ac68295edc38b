"""The CLI contract: documented errors are one line, name the fix, and exit non-zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main


def test_bad_config_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("database:\n  url: sqlite:///x.db\ncrawler:\n  concurency: 3\n")
    result = CliRunner().invoke(main, ["--config", str(cfg), "init"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: bad config: {cfg}:4: crawler.concurency: unknown key (known keys here: " + result.output.split("known keys here: ")[1].strip()]


def test_config_from_environment(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    cfg = tmp_path / "env.yaml"
    cfg.write_text(f"database:\n  url: sqlite:///{tmp_path}/env.db\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert f"{tmp_path}/env.db" in result.output


def test_unreachable_database(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("database:\n  url: postgresql+psycopg://monitor@127.0.0.1:1/monitor\n")
    result = CliRunner().invoke(main, ["--config", str(cfg), "status"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: database unreachable (postgresql+psycopg://monitor@127.0.0.1:1/monitor):")
    assert len(result.output.strip().splitlines()) == 1


def test_schema_too_old_names_the_fix(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"database:\n  url: sqlite:///{tmp_path}/new.db\n")
    result = CliRunner().invoke(main, ["--config", str(cfg), "queue", "list"])
    assert result.exit_code == 1
    assert "run `monitor init`" in result.output


def test_init_twice(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"database:\n  url: sqlite:///{tmp_path}/m.db\n")
    runner = CliRunner()
    assert "migrated from schema none" in runner.invoke(main, ["--config", str(cfg), "init"]).output
    again = runner.invoke(main, ["--config", str(cfg), "init"])
    assert again.exit_code == 0 and "is up to date" in again.output


def test_python_dash_m_and_help() -> None:
    out = subprocess.run([sys.executable, "-m", "monitor", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("init", "run", "classify", "extract", "queue", "train", "evaluate", "demo", "status"):
        assert f"  {command}" in out


def test_every_command_has_help_with_an_example() -> None:
    import click

    def walk(cmd: click.Command, path: str) -> list[tuple[str, click.Command]]:
        found = [(path, cmd)]
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                found += walk(sub, f"{path} {name}")
        return found

    missing = [p for p, c in walk(main, "monitor") if not (c.help or "").strip() or ("Example" not in (c.help or "") and not isinstance(c, click.Group))]
    assert missing == [], f"commands without help or an example: {missing}"
