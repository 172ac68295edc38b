"""config.yaml loading: every documented error names the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config, parse_config


def test_shipped_config_loads() -> None:
    cfg = load_config(Path(__file__).parents[2] / "config.yaml")
    assert cfg.database.url.startswith("sqlite:///")
    assert cfg.crawler.allow_private_addresses is False
    assert cfg.sources, "the shipped config lists real sources"


def test_defaults_when_empty() -> None:
    cfg = parse_config("", "empty.yaml")
    assert cfg.crawler.concurrency == 16
    assert cfg.classifier.threshold is None
    assert cfg.execution.backend == "local"


def test_unknown_key_names_file_line_key() -> None:
    text = "crawler:\n  concurrency: 4\n  concurency: 8\n"
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "my.yaml")
    assert exc.value.line == 3
    assert str(exc.value).startswith("my.yaml:3: crawler.concurency: unknown key")


def test_wrong_type() -> None:
    with pytest.raises(ConfigError, match=r"^c.yaml:2: crawler.per_host_interval: expected a number, got 'fast'$"):
        parse_config("crawler:\n  per_host_interval: fast\n", "c.yaml")


def test_bool_is_not_an_integer() -> None:
    with pytest.raises(ConfigError, match="crawler.concurrency: expected an integer"):
        parse_config("crawler:\n  concurrency: yes\n", "c.yaml")


def test_missing_required_source_key() -> None:
    text = "sources:\n  - name: A\n    feeds: [https://a.example/rss]\n"
    with pytest.raises(ConfigError, match=r"^c.yaml:2: sources\[0\].homepage: required key is missing$"):
        parse_config(text, "c.yaml")


def test_syntax_error_has_a_line() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config("crawler:\n  concurrency: [1, 2\n", "bad.yaml")
    assert exc.value.file == "bad.yaml" and exc.value.line is not None


def test_env_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_DB_PASSWORD", "s3cret")
    cfg = parse_config("database:\n  url: postgresql+psycopg://monitor@db/monitor\n  password: ${MONITOR_DB_PASSWORD}\n")
    assert cfg.database_url == "postgresql+psycopg://monitor:s3cret@db/monitor"


def test_unset_env_var_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    with pytest.raises(ConfigError, match=r"c.yaml:2: web.secret_key: environment variable NOPE_NOT_SET is not set"):
        parse_config("web:\n  secret_key: ${NOPE_NOT_SET}\n", "c.yaml")


def test_procrastinate_needs_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match=r"c.yaml:2: execution.backend: procrastinate needs a PostgreSQL"):
        parse_config("execution:\n  backend: procrastinate\n", "c.yaml")


def test_literal_choice() -> None:
    with pytest.raises(ConfigError, match="execution.backend: expected 'local' or 'procrastinate', got 'celery'"):
        parse_config("execution:\n  backend: celery\n", "c.yaml")


def test_config_from_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "other.yaml"
    f.write_text("crawler:\n  concurrency: 3\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(f))
    assert load_config().crawler.concurrency == 3
    assert load_config(None).path == str(f)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
