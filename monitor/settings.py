"""Run-time settings that admins change from the web UI, stored in the `settings` table.

The flagging threshold in force is, in order: the admin's override (`settings`), else
`classifier.threshold` from config.yaml, else the promoted model's own calibrated threshold.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.db import Setting, utcnow

THRESHOLD_KEY = "classifier.threshold"


def threshold_override(session: Session) -> Setting | None:
    return session.get(Setting, THRESHOLD_KEY)


def set_threshold(session: Session, value: float | None, user: str) -> None:
    """Set (or with None, clear) the admin's threshold override."""
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError("the threshold must be between 0 and 1")
    row = session.get(Setting, THRESHOLD_KEY)
    if value is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(Setting(key=THRESHOLD_KEY, value={"threshold": value}, updated_by=user, updated_at=utcnow()))
    else:
        row.value, row.updated_by, row.updated_at = {"threshold": value}, user, utcnow()


def effective_threshold(session: Session, config: Config) -> float | None:
    """The threshold scoring uses now; None = the model's own."""
    row = session.get(Setting, THRESHOLD_KEY)
    if row is not None:
        return float(row.value["threshold"])
    return config.classifier.threshold
