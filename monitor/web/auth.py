"""Users, passwords (argon2id), CSRF tokens and the login rate limit.

Sessions are Starlette's signed cookies (itsdangerous, HttpOnly, SameSite=Lax, Secure when
`web.cookie_secure`); they hold the user name, a CSRF token and the language. Every request
re-reads the user row, so a deactivated user or a changed role takes effect at once.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.db import Role, User
from monitor.errors import MonitorError

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password, only for constant-time refusals")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,49}$")
MIN_PASSWORD = 8
ROLES = tuple(r.value for r in Role)


class UserError(MonitorError):
    """A user that cannot be created or changed (bad name, short password, duplicate, role)."""


@dataclass(frozen=True)
class CurrentUser:
    name: str
    role: str

    @property
    def can_decide(self) -> bool:
        return self.role in (Role.REVIEWER, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; a missing user still costs one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def add_user(session: Session, name: str, password: str, role: str) -> User:
    if not NAME_RE.match(name):
        raise UserError(f"bad user name {name!r}: 2-50 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} exists already")
    user = User(name=name, password_hash=hash_password(password), role=role, active=True)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, name: str, password: str) -> CurrentUser | None:
    user = session.scalar(select(User).where(User.name == name))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return CurrentUser(user.name, user.role)


def load_user(session: Session, name: str | None) -> CurrentUser | None:
    if not name:
        return None
    row = session.execute(select(User.name, User.role, User.active).where(User.name == name)).first()
    if row is None or not row.active:
        return None
    return CurrentUser(row.name, row.role)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


class LoginRateLimiter:
    """At most `per_minute` login attempts per client address and per user name in any 60 s.

    Kept in memory: with several server processes each holds its own window (the limit then
    applies per process).
    """

    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, *keys: str, now: float | None = None) -> bool:
        """Record an attempt under every key; False if any key is over the limit."""
        now = time.monotonic() if now is None else now
        allowed = True
        with self._lock:
            for key in keys:
                hits = self._hits.setdefault(key, deque())
                while hits and hits[0] <= now - self.window:
                    hits.popleft()
                if len(hits) >= self.per_minute:
                    allowed = False
                else:
                    hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[key]
        return allowed

    def retry_after(self, *keys: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [self.window - (now - hits[0]) for k in keys if (hits := self._hits.get(k))]
        return max(1, int(max(waits, default=1) + 0.999))
