"""The queue queries the web UI adds: a resolved text search gives the same list and counts as
the plain LIKE, neighbours follow the list order, and the summary counts by day, province and
decision (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from monitor import queue as q
from monitor.db import ReviewItem, session_scope


def test_resolved_search_matches_the_plain_like(engine, seeded) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        for search in ("facebook", "BAWASLU", "<script>", "tidak ada di mana pun"):
            for extra in ({}, {"min_score": 0.8}, {"province": "Maluku Utara"}, {"status": "new"}):
                f = q.Filters(search=search, **extra)
                resolved = q.resolve_search(s, f)
                assert resolved.matched_article_ids is not None
                plain = [r.id for r in s.execute(q.list_query(f)).scalars()]
                assert [r.id for r in q.list_items(s, resolved)] == plain, (search, extra)
                assert [r.id for r in q.list_items(s, f)] == plain
                assert q.counts_by_status(s, resolved) == q.counts_by_status(s, f)
                assert q.ordered_ids(s, f) == plain
        assert q.resolve_search(s, q.Filters()) == q.Filters()


def test_neighbours_follow_the_list_order(engine, seeded) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        f = q.Filters()
        assert q.neighbours(s, f, seeded[0]) == (None, seeded[1])
        assert q.neighbours(s, f, seeded[1]) == (seeded[0], seeded[2])
        assert q.neighbours(s, f, seeded[3]) == (seeded[2], None)
        assert q.neighbours(s, q.Filters(min_score=0.9), seeded[3]) == (None, None)


def test_summary_by_day_province_and_decision(engine, seeded) -> None:  # noqa: ANN001
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    with session_scope(engine) as s:
        s.execute(update(ReviewItem).where(ReviewItem.id == seeded[3]).values(created_at=two_days_ago))
        q.claim_item(s, seeded[0], "bima")
        q.decide(s, seeded[0], "bima", "confirm", violation_type="photo_hand_sign")
        q.decide(s, seeded[1], "bima", "dismiss", note="bukan ASN")
    with session_scope(engine) as s:
        summ = q.summary(s, q.Filters())
    jakarta = ZoneInfo("Asia/Jakarta")
    today, old = datetime.now(jakarta).date(), two_days_ago.astimezone(jakarta).date()
    assert summ.total == 4
    assert [d for d, _ in summ.by_day] == [today, old]
    assert dict(summ.by_day)[today] == {"new": 1, "in_review": 0, "confirmed": 1, "dismissed": 1, "escalated": 0}
    assert dict(summ.by_province)["Sulawesi Selatan"]["confirmed"] == 1
    assert summ.by_action == {"confirm": 1, "dismiss": 1}
    assert summ.by_violation_type == {"photo_hand_sign": 1}


def test_summary_decisions_follow_the_province_filter(engine, seeded) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        q.decide(s, seeded[0], "bima", "escalate")
        q.decide(s, seeded[1], "bima", "escalate")
    with session_scope(engine) as s:
        assert q.summary(s, q.Filters()).by_action == {"escalate": 2}
        only = q.summary(s, q.Filters(province="Nusa Tenggara Barat"))
    assert only.by_action == {"escalate": 1} and only.total == 1
    assert [p for p, _ in only.by_province] == ["Nusa Tenggara Barat"]
