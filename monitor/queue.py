"""The review queue: one item per flagged story, claimed with a lease, decided into an
append-only log.

Statuses: new -> in_review -> confirmed / dismissed / escalated; admins may reopen a decided item.
A reviewer who opens an item holds it for `review.claim_minutes`; a claim is a single conditional
UPDATE, so two reviewers never hold the same item. Every change of status writes a `Decision`
row; decisions are never updated or deleted.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from monitor.db import Article, Decision, ReviewItem, ReviewStatus, ScoreRow, SourceRow, utcnow
from monitor.errors import MonitorError

ACTIONS = {
    "confirm": ReviewStatus.CONFIRMED,
    "dismiss": ReviewStatus.DISMISSED,
    "escalate": ReviewStatus.ESCALATED,
}
DECIDED = (ReviewStatus.CONFIRMED, ReviewStatus.DISMISSED, ReviewStatus.ESCALATED)

# Violation types a reviewer may give when confirming (SKB 2022 Lampiran II, as reported).
VIOLATION_TYPES = (
    "photo_hand_sign",
    "social_media",
    "declaration_campaign",
    "party_attributes",
    "success_team",
    "mobilising_subordinates_or_facilities",
    "handing_out_goods",
    "candidate_without_resigning",
    "other",
)


class QueueError(MonitorError):
    """A review action that cannot be done (unknown item, held by someone else, wrong status)."""


@dataclass(frozen=True)
class QueueRow:
    """One review item as listed and exported."""

    id: int
    url: str
    title: str
    source: str | None
    published_at: datetime | None
    score: float
    model_version: str
    status: str
    region: str | None
    violation_type: str | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "source": self.source,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "score": round(self.score, 4),
            "model_version": self.model_version,
            "status": self.status,
            "region": self.region,
            "violation_type": self.violation_type,
            "created_at": self.created_at.isoformat(),
        }


EXPORT_FIELDS = ["id", "url", "title", "source", "published_at", "score", "model_version", "status", "region", "violation_type", "created_at"]


def enqueue(session: Session, article: Article, score: ScoreRow) -> ReviewItem | None:
    """Queue a flagged article once; one item per cluster of syndicated copies."""
    if session.scalar(select(ReviewItem.id).where(ReviewItem.article_id == article.id)) is not None:
        return None
    if article.cluster_id is not None:
        same_story = (
            select(ReviewItem.id)
            .join(Article, Article.id == ReviewItem.article_id)
            .where(Article.cluster_id == article.cluster_id)
        )
        if session.scalar(same_story) is not None:
            return None
    item = ReviewItem(article_id=article.id, score_id=score.id, probability=score.probability, status=ReviewStatus.NEW.value)
    session.add(item)
    session.flush()
    return item


@dataclass(frozen=True)
class Filters:
    """The list's filters; all optional. Dates are days in the review timezone."""

    date_from: date | None = None
    date_to: date | None = None
    province: str | None = None
    source: str | None = None
    status: str | None = None
    min_score: float | None = None
    search: str | None = None
    timezone: str = "Asia/Jakarta"
    # Set by `resolve_search`: the articles whose title or text matched `search`, so the text
    # is scanned once per page instead of once per query (and only for queued articles).
    matched_article_ids: frozenset[int] | None = None


def _day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    start = datetime.combine(day, datetime.min.time(), ZoneInfo(tz)).astimezone(UTC)
    return start, start + timedelta(days=1)


def _conditions(filters: Filters) -> tuple[list[Any], bool, bool]:
    """(WHERE conditions, whether they need `articles`, whether they need `sources`)."""
    conds: list[Any] = []
    needs_article = needs_source = False
    if filters.date_from:
        conds.append(ReviewItem.created_at >= _day_bounds(filters.date_from, filters.timezone)[0])
    if filters.date_to:
        conds.append(ReviewItem.created_at < _day_bounds(filters.date_to, filters.timezone)[1])
    if filters.province:
        conds.append(Article.province == filters.province)
        needs_article = True
    if filters.source:
        conds.append(SourceRow.name == filters.source)
        needs_article = needs_source = True
    if filters.status:
        conds.append(ReviewItem.status == filters.status)
    if filters.min_score is not None:
        conds.append(ReviewItem.probability >= filters.min_score)
    if filters.matched_article_ids is not None:
        conds.append(ReviewItem.article_id.in_(sorted(filters.matched_article_ids)))
    elif filters.search:
        pattern = f"%{filters.search.lower()}%"
        conds.append(or_(func.lower(Article.title).like(pattern), func.lower(Article.text).like(pattern)))
        needs_article = True
    return conds, needs_article, needs_source


def list_query(filters: Filters):  # noqa: ANN201 - a Select
    q = (
        select(ReviewItem, Article, SourceRow.name, ScoreRow.model_version)
        .join(Article, Article.id == ReviewItem.article_id)
        .join(ScoreRow, ScoreRow.id == ReviewItem.score_id)
        .outerjoin(SourceRow, SourceRow.id == Article.source_id)
    )
    conds, _, _ = _conditions(filters)
    if conds:
        q = q.where(and_(*conds))
    return q.order_by(ReviewItem.probability.desc(), ReviewItem.id)


def items_query(filters: Filters, *columns: Any, join_article: bool = False):  # noqa: ANN201 - a Select
    """`columns` of the filtered review items, joining articles and sources only when a filter
    needs them (counting and id lists stay on `review_items` and its indexes)."""
    conds, needs_article, needs_source = _conditions(filters)
    q = select(*columns).select_from(ReviewItem)
    if needs_article or join_article:
        q = q.join(Article, Article.id == ReviewItem.article_id)
    if needs_source:
        q = q.join(SourceRow, SourceRow.id == Article.source_id)
    return q.where(and_(*conds)) if conds else q


SEARCH_CHUNK = 500
MAX_RESOLVED = 20_000  # beyond this many matches the search stays a LIKE in the main query


def resolve_search(session: Session, filters: Filters) -> Filters:
    """`filters` with its text search turned into the matching article ids (no-op without one).

    The LIKE runs once, over the articles of the review items that pass the other filters,
    fetched by primary key in chunks; the list, counts and neighbours then reuse the ids.
    """
    if not filters.search or filters.matched_article_ids is not None:
        return filters
    others = replace(filters, search=None, status=None)
    candidates = list(session.scalars(items_query(others, ReviewItem.article_id)))
    pattern = f"%{filters.search.lower()}%"
    matched: set[int] = set()
    for k in range(0, len(candidates), SEARCH_CHUNK):
        chunk = candidates[k : k + SEARCH_CHUNK]
        matched.update(
            session.scalars(
                select(Article.id).where(
                    Article.id.in_(chunk), or_(func.lower(Article.title).like(pattern), func.lower(Article.text).like(pattern))
                )
            )
        )
        if len(matched) > MAX_RESOLVED:
            return filters
    return replace(filters, matched_article_ids=frozenset(matched))


def list_items(session: Session, filters: Filters = Filters(), *, limit: int | None = None, offset: int = 0) -> list[QueueRow]:
    q = list_query(resolve_search(session, filters))
    if limit is not None:
        q = q.limit(limit).offset(offset)
    rows = []
    for item, article, source_name, model_version in session.execute(q):
        rows.append(
            QueueRow(
                id=item.id,
                url=article.url,
                title=article.title,
                source=source_name,
                published_at=article.published_at,
                score=item.probability,
                model_version=model_version,
                status=item.status,
                region=", ".join(x for x in (article.regency, article.province) if x) or None,
                violation_type=item.violation_type,
                created_at=item.created_at,
            )
        )
    return rows


def counts_by_status(session: Session, filters: Filters = Filters()) -> dict[str, int]:
    filters = resolve_search(session, replace(filters, status=None))
    rows = session.execute(items_query(filters, ReviewItem.status, func.count()).group_by(ReviewItem.status))
    counts = {s.value: 0 for s in ReviewStatus}
    counts.update({status: n for status, n in rows})
    return counts


def ordered_ids(session: Session, filters: Filters = Filters()) -> list[int]:
    """The ids of the filtered list in list order (for moving to the next/previous item)."""
    filters = resolve_search(session, filters)
    q = items_query(filters, ReviewItem.id).order_by(ReviewItem.probability.desc(), ReviewItem.id)
    return list(session.scalars(q))


def neighbours(session: Session, filters: Filters, item_id: int) -> tuple[int | None, int | None]:
    """(previous id, next id) of `item_id` in the filtered list; None at either end or if absent."""
    ids = ordered_ids(session, filters)
    try:
        k = ids.index(item_id)
    except ValueError:
        return None, None
    return (ids[k - 1] if k > 0 else None), (ids[k + 1] if k + 1 < len(ids) else None)


def filter_choices(session: Session) -> tuple[list[str], list[str]]:
    """(provinces of queued articles, source names) for the list's filter menus."""
    provinces = session.scalars(
        select(Article.province)
        .join(ReviewItem, ReviewItem.article_id == Article.id)
        .where(Article.province.is_not(None))
        .distinct()
        .order_by(Article.province)
    )
    sources = session.scalars(select(SourceRow.name).order_by(SourceRow.name))
    return list(provinces), list(sources)


@dataclass(frozen=True)
class Summary:
    """Counts for leadership: by day (review timezone), by province and by decision."""

    statuses: tuple[str, ...]
    by_day: list[tuple[date, dict[str, int]]]
    by_province: list[tuple[str, dict[str, int]]]
    by_action: dict[str, int]
    by_violation_type: dict[str, int]
    total: int


def summary(session: Session, filters: Filters = Filters()) -> Summary:
    """Items by day queued and status, by province and status; decisions logged in the range."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(filters.timezone)
    filters = resolve_search(session, filters)
    statuses = tuple(s.value for s in ReviewStatus)
    days: dict[date, dict[str, int]] = {}
    provinces: dict[str, dict[str, int]] = {}
    total = 0
    for created_at, status in session.execute(items_query(filters, ReviewItem.created_at, ReviewItem.status)):
        total += 1
        day = created_at.astimezone(tz).date()
        row = days.get(day)
        if row is None:
            row = days[day] = dict.fromkeys(statuses, 0)
        row[status] = row.get(status, 0) + 1
    by_province = items_query(filters, Article.province, ReviewItem.status, func.count(), join_article=True)
    for province, status, n in session.execute(by_province.group_by(Article.province, ReviewItem.status)):
        row = provinces.setdefault(province or "-", dict.fromkeys(statuses, 0))
        row[status] = row.get(status, 0) + n
    q = select(Decision.action, func.count()).where(Decision.action != "claim")
    vq = select(Decision.violation_type, func.count()).where(Decision.action == "confirm")
    if filters.date_from:
        q = q.where(Decision.created_at >= _day_bounds(filters.date_from, filters.timezone)[0])
        vq = vq.where(Decision.created_at >= _day_bounds(filters.date_from, filters.timezone)[0])
    if filters.date_to:
        q = q.where(Decision.created_at < _day_bounds(filters.date_to, filters.timezone)[1])
        vq = vq.where(Decision.created_at < _day_bounds(filters.date_to, filters.timezone)[1])
    undated = replace(filters, date_from=None, date_to=None)
    if _conditions(undated)[0]:  # province, source, score, status or search: those items' decisions
        ids = items_query(undated, ReviewItem.id)
        q, vq = q.where(Decision.review_item_id.in_(ids)), vq.where(Decision.review_item_id.in_(ids))
    by_action = {a: n for a, n in session.execute(q.group_by(Decision.action))}
    by_type = {t or "-": n for t, n in session.execute(vq.group_by(Decision.violation_type))}
    return Summary(
        statuses=statuses,
        by_day=sorted(days.items(), reverse=True),
        by_province=sorted(provinces.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])),
        by_action=by_action,
        by_violation_type=dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
        total=total,
    )


def get_item(session: Session, item_id: int) -> ReviewItem:
    item = session.scalar(
        select(ReviewItem)
        .where(ReviewItem.id == item_id)
        .options(joinedload(ReviewItem.article).joinedload(Article.source), joinedload(ReviewItem.score))
    )
    if item is None:
        raise QueueError(f"no review item {item_id} (see `monitor queue list`)")
    return item


def claim_item(session: Session, item_id: int, user: str, *, minutes: int = 5, now: datetime | None = None) -> bool:
    """Hold an item for `minutes`. True if `user` now holds it; False if someone else does."""
    now = now or utcnow()
    result = session.execute(
        update(ReviewItem)
        .where(
            ReviewItem.id == item_id,
            or_(ReviewItem.claimed_by.is_(None), ReviewItem.claimed_by == user, ReviewItem.claim_expires_at <= now),
        )
        .values(claimed_by=user, claim_expires_at=now + timedelta(minutes=minutes))
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        return False
    item = session.get(ReviewItem, item_id)
    if item is not None and item.status == ReviewStatus.NEW:
        session.execute(
            update(ReviewItem).where(ReviewItem.id == item_id).values(status=ReviewStatus.IN_REVIEW.value)
        )
        session.add(Decision(review_item_id=item_id, user=user, action="claim", previous_status=ReviewStatus.NEW.value, new_status=ReviewStatus.IN_REVIEW.value))
    session.flush()
    session.expire_all()
    return True


def holder(item: ReviewItem, now: datetime | None = None) -> str | None:
    now = now or utcnow()
    if item.claimed_by and item.claim_expires_at and item.claim_expires_at > now:
        return item.claimed_by
    return None


def decide(
    session: Session,
    item_id: int,
    user: str,
    action: str,
    *,
    note: str | None = None,
    violation_type: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Confirm, dismiss or escalate an item; appends to the log. Fails if someone else holds it."""
    if action not in ACTIONS:
        raise QueueError(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
    if violation_type is not None and violation_type not in VIOLATION_TYPES:
        raise QueueError(f"unknown violation type {violation_type!r}: use one of {', '.join(VIOLATION_TYPES)}")
    if action == "dismiss" and not note:
        raise QueueError("a dismissal needs a reason: give --note")
    now = now or utcnow()
    item = get_item(session, item_id)
    other = holder(item, now)
    if other and other != user:
        raise QueueError(f"item {item_id} is held by {other} until {item.claim_expires_at:%H:%M} UTC")
    if item.status in DECIDED:
        raise QueueError(f"item {item_id} is already {item.status}; an admin can reopen it")
    new_status = ACTIONS[action]
    previous = item.status
    result = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.status == previous)
        .values(status=new_status.value, violation_type=violation_type if action == "confirm" else item.violation_type, claimed_by=None, claim_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        raise QueueError(f"item {item_id} changed while you were deciding; reload it")
    decision = Decision(
        review_item_id=item_id, user=user, action=action, previous_status=previous, new_status=new_status.value,
        violation_type=violation_type, note=note, created_at=now,
    )
    session.add(decision)
    session.flush()
    session.expire_all()
    session.refresh(decision)  # loaded, so callers can read it after the session closes
    return decision


def reopen(session: Session, item_id: int, user: str, *, note: str | None = None) -> Decision:
    """Put a decided item back to `new` (admins only; the caller checks the role)."""
    item = get_item(session, item_id)
    if item.status not in DECIDED:
        raise QueueError(f"item {item_id} is {item.status}, not decided: nothing to reopen")
    previous = item.status
    session.execute(update(ReviewItem).where(ReviewItem.id == item_id).values(status=ReviewStatus.NEW.value, claimed_by=None, claim_expires_at=None))
    decision = Decision(review_item_id=item_id, user=user, action="reopen", previous_status=previous, new_status=ReviewStatus.NEW.value, note=note)
    session.add(decision)
    session.flush()
    session.expire_all()
    session.refresh(decision)  # loaded, so callers can read it after the session closes
    return decision


def history(session: Session, item_id: int) -> list[Decision]:
    return list(session.scalars(select(Decision).where(Decision.review_item_id == item_id).order_by(Decision.id)))


# ---------------------------------------------------------------- exports


def export_rows(rows: Sequence[QueueRow], fmt: str) -> bytes:
    """The rows as JSON lines, CSV or XLSX bytes."""
    if fmt == "jsonl":
        return "".join(json.dumps(r.as_dict(), ensure_ascii=False) + "\n" for r in rows).encode()
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _spreadsheet_safe(v) for k, v in r.as_dict().items()})
        return buf.getvalue().encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("queue")
        ws.append(EXPORT_FIELDS)
        for r in rows:
            d = r.as_dict()
            ws.append([_spreadsheet_safe(d[f]) for f in EXPORT_FIELDS])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise QueueError(f"unknown export format {fmt!r}: use jsonl, csv or xlsx")


def _spreadsheet_safe(value: Any) -> Any:
    # Scraped titles starting with "=" must not become spreadsheet formulas.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def iter_decisions(session: Session, since: datetime | None = None) -> Iterator[Decision]:
    q = select(Decision).order_by(Decision.id)
    if since:
        q = q.where(Decision.created_at >= since)
    yield from session.scalars(q)
