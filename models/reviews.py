"""Reviewers' decisions as labelled examples (for `monitor train --with-reviews`, `labels export`).

A review item's current status gives its label: confirmed and escalated (escalation follows a
confirmation) = 1, dismissed = 0; new and in-review items are left out. The article's title and
text come from the articles table.

Config keys read: `database.url` (by the CLI, which passes the engine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from models.training import Example

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

LABEL_FOR_STATUS = {"confirmed": 1, "escalated": 1, "dismissed": 0}


def review_records(engine: Engine) -> list[dict[str, Any]]:
    """One corpus-shaped record per decided review item, oldest first."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from monitor.db import Article, ReviewItem

    stmt = (
        select(ReviewItem.id, ReviewItem.status, ReviewItem.violation_type, ReviewItem.updated_at, Article.url, Article.title, Article.text, Article.province, Article.regency)
        .join(Article, Article.id == ReviewItem.article_id)
        .where(ReviewItem.status.in_(list(LABEL_FOR_STATUS)))
        .order_by(ReviewItem.id)
    )
    out = []
    with Session(engine) as session:
        for row in session.execute(stmt):
            label = LABEL_FOR_STATUS[str(row.status)]
            out.append(
                {
                    "id": f"review-{row.id}",
                    "title": row.title or "",
                    "text": row.text or "",
                    "label": label,
                    "category": "incident" if label else "review_dismissed",
                    "violation_type": row.violation_type,
                    "difficulty": "review",
                    "province": row.province,
                    "regency": row.regency,
                    "source": "review",
                    "url": row.url,
                    "decided_at": row.updated_at.isoformat() if row.updated_at else None,
                }
            )
    return out


def review_examples(engine: Engine) -> list[Example]:
    """The decided review items as training examples (empty texts left out)."""
    out = []
    for rec in review_records(engine):
        if not rec["text"].strip():
            continue
        out.append(
            Example(
                id=rec["id"],
                title=rec["title"],
                text=rec["text"],
                label=rec["label"],
                category=rec["category"],
                difficulty="review",
                province=rec["province"],
                source="review",
                file="<database>",
            )
        )
    return out
