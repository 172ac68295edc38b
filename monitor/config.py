"""The one validated configuration object.

`load_config(path)` reads YAML, checks every key against the dataclasses below and returns a frozen
`Config`. Unknown keys, wrong types and missing required values raise `ConfigError` naming the
file, the line and the dotted key. Strings may refer to the environment as `${NAME}`; secrets
(database password, SMTP password, web secret key) are meant to come that way.

Lookup order for the file: `--config PATH`, then `$MONITOR_CONFIG`, then `./config.yaml`.
`$MONITOR_DATABASE_URL`, when set, overrides `database.url` (handy for tests and ops).
Defaults live here, in one sorted, commented place.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

DEFAULT_CONFIG_FILE = Path("config.yaml")


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names file, line and key."""

    def __init__(self, file: str, line: int | None, key: str, problem: str) -> None:
        self.file, self.line, self.key, self.problem = file, line, key, problem
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {problem}")


# ---------------------------------------------------------------- sections (sorted by name)


@dataclass(frozen=True)
class ClassifierConfig:
    corpus_dir: str | None = None  # labelled corpus; None = the one shipped in models/corpus
    model_dir: str = "var/models"  # the model registry (one folder per version)
    target_recall: float = 0.9  # threshold chosen on held-out folds to reach this recall
    threshold: float | None = None  # None = the promoted model's own calibrated threshold


@dataclass(frozen=True)
class CrawlerConfig:
    allow_private_addresses: bool = False  # true only for local test or demo sites
    backoff_base: float = 1.0  # seconds; retry n waits backoff_base * 2**n (+ jitter)
    concurrency: int = 16  # requests in flight overall
    connect_timeout: float = 10.0
    lease_seconds: int = 300  # a claimed frontier row is released after this
    max_age_days: int = 7  # only articles newer than this are queued for fetching
    max_attempts: int = 4  # a URL failing this many rounds in a row is given up
    max_page_bytes: int = 5_000_000
    max_redirects: int = 5
    max_retries: int = 2  # retries within one request (timeouts, 429, 5xx)
    max_urls_per_round: int = 5000
    per_host_interval: float = 1.0  # seconds between two requests to one host
    respect_robots_txt: bool = True
    timeout: float = 20.0  # seconds for a whole request
    user_agent: str = "netralitas-monitor/0.1 (+https://github.com/netralitas-monitor)"


@dataclass(frozen=True)
class DatabaseConfig:
    echo: bool = False  # log every SQL statement
    password: str | None = None  # put into url; use "${MONITOR_DB_PASSWORD}"
    url: str = "sqlite:///var/monitor.db"  # or postgresql+psycopg://user@host/db


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    ca_file: str | None = None  # extra CA bundle (PEM) for a mail server with a private CA
    password: str | None = None  # use "${MONITOR_SMTP_PASSWORD}"
    port: int = 587
    recipients: list[str] = field(default_factory=list)
    sender: str = "netralitas-monitor@localhost"
    starttls: bool = True  # STARTTLS is required when true (the password never goes in clear)
    timeout: float = 30.0  # seconds for the SMTP conversation
    username: str | None = None


@dataclass(frozen=True)
class DigestConfig:
    output_dir: str = "var/digests"  # HTML and CSV of every digest are written here
    smtp: SmtpConfig | None = None  # when set, the digest is also e-mailed
    subject_prefix: str = "[netralitas-monitor]"  # e-mail subject: prefix + "digest YYYY-MM-DD: N flagged"


@dataclass(frozen=True)
class ExecutionConfig:
    backend: Literal["local", "procrastinate"] = "local"  # procrastinate: PostgreSQL only
    heartbeat_seconds: float = 10.0  # a worker's heartbeat period
    retry_backoff_seconds: int = 3  # a failed job is retried after base**attempt seconds (3, 9, 27, ...)
    shutdown_timeout_seconds: float = 30.0  # on SIGTERM a worker lets running jobs finish this long
    stalled_after_seconds: float = 30.0  # a worker silent this long is dead: its jobs are retried
    wait_poll_seconds: float = 1.0  # `monitor run --wait` checks the round's jobs this often
    worker_concurrency: int = 4  # jobs in flight per `monitor worker` (--concurrency overrides)


@dataclass(frozen=True)
class InstitutionsConfig:
    # Named here, not in code: KASN was dissolved in 2024 and BKN took over.
    election_supervisor: str = "Bawaslu"
    escalation_targets: list[str] = field(default_factory=lambda: ["BKN", "Bawaslu"])
    neutrality_supervisor: str = "BKN"


@dataclass(frozen=True)
class RetentionConfig:
    job_days: int = 14  # finished Procrastinate jobs older than this are deleted (backend procrastinate)
    raw_html_days: int = 30  # raw HTML older than this is dropped; text and scores stay


@dataclass(frozen=True)
class ReviewConfig:
    claim_minutes: int = 5  # a reviewer who opens an item holds it this long
    timezone: str = "Asia/Jakarta"  # "today" in the daily list


@dataclass(frozen=True)
class ScheduleConfig:
    crawl_at_start: bool = True  # also run a round as soon as the scheduler starts
    crawl_every_minutes: int = 30
    digest_at: str | None = "06:30"  # HH:MM in schedule.timezone; None = no digest job
    misfire_grace_seconds: int = 600  # a job late by more than this (machine asleep) is skipped
    retention_at: str | None = "02:00"
    shutdown_timeout_seconds: float = 20.0  # SIGTERM/SIGINT: a running round gets this long, then it is cancelled
    timezone: str = "Asia/Jakarta"


@dataclass(frozen=True)
class WebConfig:
    cookie_secure: bool = False  # true behind HTTPS
    host: str = "127.0.0.1"
    language: Literal["id", "en"] = "id"
    login_attempts_per_minute: int = 5
    port: int = 8000
    secret_key: str | None = None  # use "${MONITOR_SECRET_KEY}"; None = random per process


@dataclass(frozen=True)
class Source:
    """One news outlet: sources are data (fundus publishers)."""

    name: str
    homepage: str
    cleanup: list[str] = field(default_factory=list)  # extra regexes of boilerplate lines
    enabled: bool = True
    feeds: list[str] = field(default_factory=list)
    one_page_param: str | None = None  # e.g. "page=all" for outlets with a one-page view
    region: str | None = None  # province (or kabupaten/kota) the outlet covers
    sitemaps: list[str] = field(default_factory=list)
    terms: str | None = None  # terms-of-use note (e.g. crawling needs written permission)


@dataclass(frozen=True)
class Config:
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    crawler: CrawlerConfig = field(default_factory=CrawlerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    institutions: InstitutionsConfig = field(default_factory=InstitutionsConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    sources: list[Source] = field(default_factory=list)
    web: WebConfig = field(default_factory=WebConfig)
    path: str = "<defaults>"  # where it was read from; not a config key

    @property
    def database_url(self) -> str:
        """`database.url` with the password filled in (and `$MONITOR_DATABASE_URL` honoured)."""
        url = os.environ.get("MONITOR_DATABASE_URL") or self.database.url
        if self.database.password and "@" in url and ":" not in url.split("://", 1)[1].split("@")[0]:
            scheme, rest = url.split("://", 1)
            user, host = rest.split("@", 1)
            url = f"{scheme}://{user}:{self.database.password}@{host}"
        return url

    def enabled_sources(self) -> list[Source]:
        return [s for s in self.sources if s.enabled]

    def replace(self, **sections: Any) -> Config:
        return dataclasses.replace(self, **sections)


# ---------------------------------------------------------------- loading and validation

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def resolve_config_path(cli_path: str | os.PathLike[str] | None) -> Path:
    if cli_path:
        return Path(cli_path)
    env = os.environ.get("MONITOR_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_FILE


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate a config file. A missing default `./config.yaml` means all defaults."""
    file = resolve_config_path(path)
    if not file.exists():
        if path is None and "MONITOR_CONFIG" not in os.environ:
            return Config()
        raise ConfigError(str(file), None, "(file)", "no such file")
    return parse_config(file.read_text(encoding="utf-8"), str(file))


def parse_config(text: str, filename: str = "<string>") -> Config:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ConfigError(filename, line, "(syntax)", f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if node is None:
        return dataclasses.replace(Config(), path=filename)
    cfg = _build(Config, node, filename, "", skip={"path"})
    cfg = dataclasses.replace(cfg, path=filename)
    _check_semantics(cfg, node, filename)
    return cfg


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _build(cls: type, node: yaml.Node, filename: str, prefix: str, skip: set[str] = frozenset()) -> Any:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(filename, _line(node), prefix or "(top level)", "expected a mapping of keys")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(filename, _line(key_node), dotted, f"unknown key (known keys here: {known})")
        if key in values:
            raise ConfigError(filename, _line(key_node), dotted, "key given twice")
        values[key] = _convert(hints[key], value_node, filename, dotted)
    for name, f in fields.items():
        if name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(filename, _line(node), f"{prefix}.{name}" if prefix else name, "required key is missing")
    return cls(**values)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false", type(None): "null"}.get(tp, str(tp))


def _convert(tp: Any, node: yaml.Node, filename: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    line = _line(node)
    if origin in (types.UnionType, typing.Union):
        args = typing.get_args(tp)
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        if len(others) == 1:  # Optional[X]: X's own, more precise error
            return _convert(others[0], node, filename, key)
        for a in others:
            try:
                return _convert(a, node, filename, key)
            except ConfigError:
                continue
        raise ConfigError(filename, line, key, f"expected {_type_name(tp)}") from None
    if dataclasses.is_dataclass(tp):
        return _build(tp, node, filename, key)
    if origin is list:
        if not isinstance(node, yaml.SequenceNode):
            raise ConfigError(filename, line, key, f"expected {_type_name(tp)}")
        (item_tp,) = typing.get_args(tp)
        return [_convert(item_tp, n, filename, f"{key}[{i}]") for i, n in enumerate(node.value)]
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(filename, line, key, f"expected {_type_name(tp)}")
    value = _scalar(node)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(filename, line, key, f"expected {_type_name(tp)}, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(filename, line, key, f"expected true or false, got {node.value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(filename, line, key, f"expected an integer, got {node.value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(filename, line, key, f"expected a number, got {node.value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            # Keep numbers written where a string is expected (e.g. a port in a URL) as text.
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(node.value)
            raise ConfigError(filename, line, key, f"expected a string, got {node.value!r}")
        return _expand_env(value, filename, line, key)
    raise ConfigError(filename, line, key, f"unsupported type {tp}")


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _expand_env(value: str, filename: str, line: int, key: str) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise ConfigError(filename, line, key, f"environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REF.sub(sub, value)


def _find_line(node: yaml.Node, dotted: str) -> int | None:
    """Line of a dotted key like 'execution.backend' in the composed YAML, for later checks."""
    current: yaml.Node | None = node
    for part in dotted.split("."):
        if not isinstance(current, yaml.MappingNode):
            return None
        for k, v in current.value:
            if k.value == part:
                current = v
                break
        else:
            return None
    return _line(current) if current is not None else None


def _check_semantics(cfg: Config, node: yaml.Node, filename: str) -> None:
    def fail(key: str, problem: str) -> None:
        raise ConfigError(filename, _find_line(node, key), key, problem)

    if cfg.execution.backend == "procrastinate" and not cfg.database_url.startswith("postgresql"):
        fail("execution.backend", "procrastinate needs a PostgreSQL database.url (SQLite runs rounds in-process: use backend: local)")
    for key, value in (("crawler.concurrency", cfg.crawler.concurrency), ("crawler.max_page_bytes", cfg.crawler.max_page_bytes)):
        if value <= 0:
            fail(key, "must be positive")
    if cfg.crawler.per_host_interval < 0:
        fail("crawler.per_host_interval", "must not be negative")
    if cfg.classifier.threshold is not None and not 0.0 <= cfg.classifier.threshold <= 1.0:
        fail("classifier.threshold", "must be between 0 and 1")
    if not 0.0 < cfg.classifier.target_recall <= 1.0:
        fail("classifier.target_recall", "must be in (0, 1]")
    for key, value in (("schedule.digest_at", cfg.schedule.digest_at), ("schedule.retention_at", cfg.schedule.retention_at)):
        if value is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            fail(key, f"expected HH:MM, got {value!r}")
    for key, value in (
        ("schedule.crawl_every_minutes", cfg.schedule.crawl_every_minutes),
        ("schedule.misfire_grace_seconds", cfg.schedule.misfire_grace_seconds),
        ("execution.worker_concurrency", cfg.execution.worker_concurrency),
        ("execution.heartbeat_seconds", cfg.execution.heartbeat_seconds),
        ("execution.wait_poll_seconds", cfg.execution.wait_poll_seconds),
        ("retention.raw_html_days", cfg.retention.raw_html_days),
        ("retention.job_days", cfg.retention.job_days),
    ):
        if value <= 0:
            fail(key, "must be positive")
    if cfg.execution.stalled_after_seconds <= cfg.execution.heartbeat_seconds:
        fail("execution.stalled_after_seconds", "must be longer than execution.heartbeat_seconds")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(cfg.schedule.timezone)
    except Exception:  # ZoneInfoNotFoundError, ValueError for odd names
        fail("schedule.timezone", f"unknown time zone {cfg.schedule.timezone!r} (e.g. Asia/Jakarta)")
    if cfg.digest.smtp is not None and cfg.digest.smtp.password and not cfg.digest.smtp.starttls and cfg.digest.smtp.host not in ("localhost", "127.0.0.1"):
        fail("digest.smtp.starttls", "a password is only sent over STARTTLS: set starttls: true")
    names = [s.name for s in cfg.sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        fail("sources", f"source names must be unique: {', '.join(dupes)}")
