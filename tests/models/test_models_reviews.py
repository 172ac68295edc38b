"""Reviewers' decisions as labels: `monitor labels export` and `monitor train --with-reviews`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import db
from monitor.cli import main


@pytest.fixture
def reviewed_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        for i, (status, title) in enumerate(
            [("confirmed", "Camat ikut deklarasi paslon"), ("dismissed", "Apel netralitas ASN"), ("new", "Belum diperiksa"), ("escalated", "Lurah bagi sembako")]
        ):
            art = db.Article(url=f"https://contoh.id/{i}", title=title, text=f"{title}. Isi berita ke-{i}.", content_hash=f"h{i}")
            s.add(art)
            s.flush()
            score = db.ScoreRow(article_id=art.id, model_version="v", probability=0.9, threshold=0.5, flagged=True)
            s.add(score)
            s.flush()
            s.add(db.ReviewItem(article_id=art.id, score_id=score.id, probability=0.9, status=status))
    engine.dispose()
    return url


def test_labels_export_writes_confirmed_as_1_and_dismissed_as_0(tmp_path: Path, reviewed_db: str, small_registry: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"classifier:\n  model_dir: {small_registry}\ndatabase:\n  url: {reviewed_db}\n", encoding="utf-8")
    out = tmp_path / "labels.jsonl"
    result = CliRunner().invoke(main, ["--config", str(cfg), "labels", "export", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["title"], r["label"]) for r in rows] == [
        ("Camat ikut deklarasi paslon", 1),
        ("Apel netralitas ASN", 0),
        ("Lurah bagi sembako", 1),
    ]
    assert {"id", "title", "text", "label", "category", "source", "url"} <= set(rows[0])


def test_train_with_reviews_adds_the_decisions(tmp_path: Path, reviewed_db: str, fixture_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import models.training

    monkeypatch.setattr(models.training, "PARAM_GRID", ({"C": 4.0},))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"classifier:\n  model_dir: {tmp_path / 'reg'}\n  corpus_dir: {fixture_corpus}\ndatabase:\n  url: {reviewed_db}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(cfg), "train", "--with-reviews", "--no-promote"])
    assert result.exit_code == 0, result.output
    assert "adding 3 review decisions" in result.stderr
    (meta_path,) = (tmp_path / "reg").glob("*/metadata.json")
    meta = json.loads(meta_path.read_text())
    assert meta["training_data"]["review_decisions"] == 3
    assert not (tmp_path / "reg" / "PROMOTED").exists()
