"""Schema, migrations, frontier and queue: the same tests on SQLite and the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crawlers.types import DiscoveredUrl, FetchFailure
from monitor import db, frontier, queue
from monitor.config import Source
from monitor.db import Article, Decision, FrontierUrl, ReviewItem, ScoreRow, UrlState, session_scope
from monitor.errors import DatabaseUnreachable, SchemaTooOld


def test_init_is_idempotent(db_url: str) -> None:
    eng = db.make_engine(db_url)
    with pytest.raises(SchemaTooOld, match="run `monitor init`"):
        db.check_schema(eng)
    before, after = db.upgrade(eng)
    assert before is None and after == db.head_revision()
    assert db.upgrade(eng) == (after, after)
    db.check_schema(eng)
    eng.dispose()


def test_unreachable_database_says_so() -> None:
    with pytest.raises(DatabaseUnreachable, match=r"database unreachable \(postgresql\+psycopg://nobody@127.0.0.1:1/x\)"):
        db.make_engine("postgresql+psycopg://nobody@127.0.0.1:1/x")


def _sources(engine) -> int:  # noqa: ANN001
    with session_scope(engine) as s:
        return frontier.sync_sources(s, [Source(name="A", homepage="https://a.example/")])["A"]


def test_frontier_one_row_per_url_and_leases(engine) -> None:  # noqa: ANN001
    sid = _sources(engine)
    items = [DiscoveredUrl(url=f"https://a.example/{i}", found_in="https://a.example/rss") for i in range(5)]
    with session_scope(engine) as s:
        assert frontier.add_discovered(s, items + items[:2], sid) == 5
        assert frontier.add_discovered(s, items, sid) == 0
    with session_scope(engine) as s:
        first = frontier.claim(s, "w1", limit=3, lease_seconds=60)
    with session_scope(engine) as s:
        second = frontier.claim(s, "w2", limit=10, lease_seconds=60)
    assert len(first) == 3 and len(second) == 2
    assert not {r.id for r in first} & {r.id for r in second}
    # An expired lease (a killed worker) is claimable again, in the state it reached.
    later = datetime.now(UTC) + timedelta(seconds=120)
    with session_scope(engine) as s:
        frontier.advance(s, first[0].id, UrlState.FETCHED)
        again = frontier.claim(s, "w3", limit=10, lease_seconds=60, now=later)
    assert {r.id for r in again} == {r.id for r in first + second}
    assert {r.state for r in again if r.id == first[0].id} == {"fetched"}


def test_failures_back_off_and_permanent_ones_give_up(engine) -> None:  # noqa: ANN001
    sid = _sources(engine)
    with session_scope(engine) as s:
        frontier.add_discovered(s, [DiscoveredUrl("https://a.example/x", "f"), DiscoveredUrl("https://a.example/y", "f")], sid)
        x, y = s.scalars(select(FrontierUrl).order_by(FrontierUrl.id)).all()
        assert frontier.record_failure(s, x, FetchFailure(x.url, "http_5xx", "503", False, 503), max_attempts=3) == UrlState.FAILED
        assert frontier.record_failure(s, y, FetchFailure(y.url, "http_404", "404", True, 404), max_attempts=3) == UrlState.GAVE_UP
    with session_scope(engine) as s:
        assert frontier.claim(s, "w", limit=10, lease_seconds=60) == []  # x waits, y is done
        row = s.scalar(select(FrontierUrl).where(FrontierUrl.url == "https://a.example/x"))
        assert row.attempts == 1 and row.last_error == "http_5xx" and row.next_attempt_at > datetime.now(UTC)
        later = row.next_attempt_at + timedelta(seconds=1)
        assert [r.url for r in frontier.claim(s, "w", limit=10, lease_seconds=60, now=later)] == ["https://a.example/x"]


def _flagged_item(engine, title: str = "Camat foto bareng paslon", cluster: int | None = None) -> int:  # noqa: ANN001
    with session_scope(engine) as s:
        a = Article(url=f"https://a.example/{title}", title=title, text="teks", content_hash=title, cluster_id=cluster)
        s.add(a)
        s.flush()
        sc = ScoreRow(article_id=a.id, model_version="v1", probability=0.9, threshold=0.5, flagged=True, evidence={})
        s.add(sc)
        s.flush()
        item = queue.enqueue(s, a, sc)
        assert queue.enqueue(s, a, sc) is None  # never queued twice
        return item.id


def test_two_reviewers_get_one_claim(engine) -> None:  # noqa: ANN001
    item_id = _flagged_item(engine)
    with session_scope(engine) as s:
        assert queue.claim_item(s, item_id, "sari") is True
    with session_scope(engine) as s:
        assert queue.claim_item(s, item_id, "budi") is False
        with pytest.raises(queue.QueueError, match="held by sari"):
            queue.decide(s, item_id, "budi", "confirm")
    # The claim expires by itself.
    with session_scope(engine) as s:
        assert queue.claim_item(s, item_id, "budi", now=datetime.now(UTC) + timedelta(minutes=6)) is True


def test_decisions_are_append_only(engine) -> None:  # noqa: ANN001
    item_id = _flagged_item(engine)
    with session_scope(engine) as s:
        queue.claim_item(s, item_id, "sari")
        queue.decide(s, item_id, "sari", "confirm", violation_type="social_media", note="foto di Facebook")
    with session_scope(engine) as s:
        with pytest.raises(queue.QueueError, match="already confirmed"):
            queue.decide(s, item_id, "sari", "dismiss", note="x")
        queue.reopen(s, item_id, "admin", note="salah klik")
        queue.decide(s, item_id, "sari", "dismiss", note="imbauan, bukan kasus")
    with session_scope(engine) as s:
        log = [(d.action, d.previous_status, d.new_status) for d in queue.history(s, item_id)]
        assert log == [
            ("claim", "new", "in_review"),
            ("confirm", "in_review", "confirmed"),
            ("reopen", "confirmed", "new"),
            ("dismiss", "new", "dismissed"),
        ]
        assert s.get(ReviewItem, item_id).status == "dismissed"
        assert s.scalar(select(Decision).where(Decision.action == "confirm")).violation_type == "social_media"


def test_dismiss_needs_a_reason(engine) -> None:  # noqa: ANN001
    item_id = _flagged_item(engine)
    with session_scope(engine) as s, pytest.raises(queue.QueueError, match="needs a reason"):
        queue.decide(s, item_id, "sari", "dismiss")


def test_one_item_per_cluster(engine) -> None:  # noqa: ANN001
    _flagged_item(engine, "salinan 1", cluster=77)
    with session_scope(engine) as s:
        a = Article(url="https://b.example/2", title="salinan 2", text="teks", content_hash="h2", cluster_id=77)
        s.add(a)
        s.flush()
        sc = ScoreRow(article_id=a.id, model_version="v1", probability=0.8, threshold=0.5, flagged=True, evidence={})
        s.add(sc)
        s.flush()
        assert queue.enqueue(s, a, sc) is None


def test_export_formats(engine) -> None:  # noqa: ANN001
    _flagged_item(engine, "=HYPERLINK(\"x\") judul")
    with session_scope(engine) as s:
        rows = queue.list_items(s)
    jsonl = queue.export_rows(rows, "jsonl").decode()
    assert '"status": "new"' in jsonl and '"score": 0.9' in jsonl
    csv_text = queue.export_rows(rows, "csv").decode()
    assert csv_text.splitlines()[0].startswith("id,url,title,source,published_at,score")
    assert "'=HYPERLINK" in csv_text  # a scraped title never becomes a formula
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(queue.export_rows(rows, "xlsx"))).active
    assert ws.cell(2, 3).value.startswith("'=HYPERLINK")  # not a live formula
