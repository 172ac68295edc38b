"""Two real rounds against the bundled news site on 127.0.0.1, through the CLI, on SQLite and
PostgreSQL: the violation reports are queued first, and a second round fetches and queues nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from monitor import db, demosite
from monitor.cli import main
from monitor.db import Article, FrontierUrl, ReviewItem, Run, session_scope


def write_config(path: Path, db_url: str, model_dir: Path, site: demosite.DemoSite | None = None, extra: str = "") -> Path:
    sources = ""
    if site is not None:
        sources = f"""sources:
  - name: Warta Demo
    homepage: {site.base_url}/
    feeds: [{site.feed_url}]
    sitemaps: [{site.sitemap_url}]
"""
    path.write_text(
        f"""database:
  url: {db_url}
crawler:
  allow_private_addresses: true
  per_host_interval: 0
  concurrency: 8
classifier:
  model_dir: {model_dir}
{extra}{sources}"""
    )
    return path


def test_two_rounds_queue_each_report_once(db_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    runner = CliRunner()
    with demosite.serve() as site:
        cfg = write_config(tmp_path / "config.yaml", db_url, model_dir, site)
        assert runner.invoke(main, ["--config", str(cfg), "init"]).exit_code == 0
        first = runner.invoke(main, ["--config", str(cfg), "run"])
        assert first.exit_code == 0, first.output
        assert "discovered 30, fetched 30, failed 0" in first.output
        second = runner.invoke(main, ["--config", str(cfg), "run"])
        assert second.exit_code == 0, second.output
        assert "discovered 0, fetched 0" in second.output and "flagged 0" in second.output

    incidents = {a.title for a in site.articles if a.expected_label == 1}
    eng = db.make_engine(db_url)
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(FrontierUrl)) == 30  # feed + sitemap, one row each
        assert s.scalar(select(func.count()).select_from(Article)) == 30
        queued = s.execute(select(Article.title, ReviewItem.probability).join(ReviewItem, ReviewItem.article_id == Article.id).order_by(ReviewItem.probability.desc())).all()
        runs = s.scalars(select(Run).order_by(Run.id)).all()
    eng.dispose()
    titles = [t for t, _ in queued]
    assert len(titles) == len(set(titles))
    assert set(titles[: len(incidents)]) == incidents, "the site's violation reports come first"
    assert len(runs) == 2 and all(r.status == "ok" for r in runs)
    assert runs[0].counts["flagged"] >= len(incidents) and runs[1].counts["flagged"] == 0

    export = runner.invoke(main, ["--config", str(cfg), "queue", "export", "--format", "jsonl"])
    lines = [json.loads(x) for x in export.output.splitlines()]
    assert {"url", "title", "source", "published_at", "score", "status", "region"} <= set(lines[0])
    assert lines[0]["source"] == "Warta Demo" and lines[0]["status"] == "new"


def test_failed_source_still_exits_zero(sqlite_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    cfg = write_config(
        tmp_path / "c.yaml", sqlite_url, model_dir,
        extra="sources:\n  - name: Mati\n    homepage: http://127.0.0.1:9/\n    feeds: [http://127.0.0.1:9/rss.xml]\n",
    )
    runner = CliRunner()
    runner.invoke(main, ["--config", str(cfg), "init"])
    result = runner.invoke(main, ["--config", str(cfg), "run"])
    assert result.exit_code == 0, result.output
    assert "source failed: Mati: http://127.0.0.1:9/rss.xml: connect_error" in result.output


@pytest.mark.parametrize("kind", ["sqlite"])
def test_second_round_waits_for_the_lock(kind: str, sqlite_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    from monitor.locks import round_lock

    cfg = write_config(tmp_path / "c.yaml", sqlite_url, model_dir)
    runner = CliRunner()
    runner.invoke(main, ["--config", str(cfg), "init"])
    eng = db.make_engine(sqlite_url)
    with round_lock(eng):
        result = runner.invoke(main, ["--config", str(cfg), "run"])
    assert result.exit_code == 0
    assert "another round is running" in result.output


def test_homepage_only_source_uses_robots_sitemaps(sqlite_url: str, tmp_path: Path, model_dir: Path, shipped_model) -> None:  # noqa: ANN001
    runner = CliRunner()
    with demosite.serve() as site:
        cfg = write_config(tmp_path / "c.yaml", sqlite_url, model_dir, extra=f"sources:\n  - name: Hanya Beranda\n    homepage: {site.base_url}/\n")
        runner.invoke(main, ["--config", str(cfg), "init"])
        result = runner.invoke(main, ["--config", str(cfg), "run"])
    assert result.exit_code == 0, result.output
    assert "discovered 30, fetched 30" in result.output
