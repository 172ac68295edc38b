"""Security of the review UI, on SQLite and the real PostgreSQL: logins, CSRF, roles, escaping,
leases and the login rate limit."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from monitor import db
from monitor.db import Decision, ReviewItem, session_scope
from monitor.web import create_app
from tests.web.conftest import PASSWORD, SCRIPT, csrf_of, login, seed, web_config

PAGES = ["/", "/?from=&to=", "/items/{id}", "/summary", "/admin", "/export.csv", "/export.xlsx", "/metrics"]
POSTS = ["/items/{id}/decide", "/items/{id}/reopen", "/admin/users", "/admin/users/bima", "/logout"]


def test_anonymous_requests_are_refused(client_for, seeded) -> None:  # noqa: ANN001
    anon = client_for(None)
    for path in PAGES:
        r = anon.get(path.format(id=seeded[0]))
        assert r.status_code in (303, 401), path
        if r.status_code == 303:
            assert r.headers["location"].startswith("/login?next="), path
        assert "Camat" not in r.text and "csrf_token" not in r.text, path
    for path in POSTS:
        r = anon.post(path.format(id=seeded[0]), data={"action": "confirm", "csrf_token": "x"})
        assert r.status_code == 401, path
    assert anon.get("/login").status_code == 200
    health = anon.get("/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok"


def test_post_without_valid_csrf_is_refused(client_for, seeded, engine) -> None:  # noqa: ANN001
    bima = client_for("bima")
    item = f"/items/{seeded[1]}"
    assert bima.get(item).status_code == 200
    for data in ({"action": "escalate"}, {"action": "escalate", "csrf_token": "forged"}):
        r = bima.post(item + "/decide", data=data)
        assert r.status_code == 403
    # A token from another session does not work either.
    other = client_for("citra")
    r = bima.post(item + "/decide", data={"action": "escalate", "csrf_token": csrf_of(other.get("/").text)})
    assert r.status_code == 403
    with session_scope(engine) as s:
        assert s.get(ReviewItem, seeded[1]).status == "in_review"
        assert [d.action for d in s.scalars(select(Decision).where(Decision.review_item_id == seeded[1]))] == ["claim"]
    # Logging in without the login form's token is refused too (login CSRF).
    fresh = client_for(None)
    r = fresh.post("/login", data={"username": "bima", "password": PASSWORD})
    assert r.status_code == 403
    # With the token it works.
    r = bima.post(item + "/decide", data={"action": "escalate", "note": "perlu ditelusuri", "csrf_token": csrf_of(bima.get(item).text)})
    assert r.status_code == 303
    with session_scope(engine) as s:
        assert s.get(ReviewItem, seeded[1]).status == "escalated"


def test_viewer_cannot_decide_or_administer(client_for, seeded, engine) -> None:  # noqa: ANN001
    dewi = client_for("dewi")
    page = dewi.get(f"/items/{seeded[0]}")
    assert page.status_code == 200
    assert 'id="form-confirm"' not in page.text and "btn-dismiss" not in page.text
    token = csrf_of(page.text)
    r = dewi.post(f"/items/{seeded[0]}/decide", data={"action": "confirm", "violation_type": "photo_hand_sign", "csrf_token": token})
    assert r.status_code == 403
    assert dewi.get("/admin").status_code == 403
    assert dewi.post("/admin/users", data={"name": "eko", "password": "x" * 10, "role": "admin", "csrf_token": token}).status_code == 403
    with session_scope(engine) as s:
        item = s.get(ReviewItem, seeded[0])
        assert item.status == "new" and item.claimed_by is None  # a viewer does not claim either
    # Reviewers decide but do not reopen.
    bima = client_for("bima")
    page = bima.get(f"/items/{seeded[0]}").text
    bima.post(f"/items/{seeded[0]}/decide", data={"action": "dismiss", "note": "imbauan", "csrf_token": csrf_of(page)})
    r = bima.post(f"/items/{seeded[0]}/reopen", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 403
    ayu = client_for("ayu")
    page = ayu.get(f"/items/{seeded[0]}").text
    assert ayu.post(f"/items/{seeded[0]}/reopen", data={"csrf_token": csrf_of(page)}).status_code == 303
    with session_scope(engine) as s:
        assert s.get(ReviewItem, seeded[0]).status == "new"


def test_scraped_script_is_rendered_inert(client_for, seeded) -> None:  # noqa: ANN001
    bima = client_for("bima")
    listing = bima.get("/").text
    item = bima.get(f"/items/{seeded[2]}").text
    for html in (listing, item):
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    assert "<img src=x" not in item and "&lt;img src=x onerror=alert(2)&gt;" in item
    # The only <script> elements are the app's own file.
    assert re.findall(r"<script[^>]*>", item) == ['<script src="/static/app.js" defer>']
    # Highlighting escapes first: the marked term and the scraped markup stay text.
    assert "<mark>deklarasi</mark>" in item and "<mark>&lt;script&gt;</mark>" in item
    r = bima.get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    for fmt in ("csv", "xlsx"):
        assert bima.get(f"/export.{fmt}").status_code == 200


def test_two_reviewers_get_one_lease(client_for, seeded, engine) -> None:  # noqa: ANN001
    bima, citra = client_for("bima"), client_for("citra")
    first = bima.get(f"/items/{seeded[0]}").text
    second = citra.get(f"/items/{seeded[0]}").text
    assert 'id="mine"' in first and 'id="form-dismiss"' in first
    assert 'id="held"' in second and "bima" in second and 'id="form-dismiss"' not in second
    r = citra.post(f"/items/{seeded[0]}/decide", data={"action": "escalate", "csrf_token": csrf_of(second)})
    assert r.status_code == 303
    with session_scope(engine) as s:
        item = s.get(ReviewItem, seeded[0])
        assert item.claimed_by == "bima" and item.status == "in_review"
        claims = s.scalars(select(Decision).where(Decision.review_item_id == seeded[0], Decision.action == "claim")).all()
        assert [d.user for d in claims] == ["bima"]
    assert "held by bima" in citra.get(f"/items/{seeded[0]}").text


def test_login_rate_limit(engine, seeded) -> None:  # noqa: ANN001
    app = create_app(web_config(login_attempts_per_minute=3), engine)
    with TestClient(app, follow_redirects=False) as c:
        token = csrf_of(c.get("/login").text)
        for _ in range(3):
            r = c.post("/login", data={"username": "bima", "password": "salah-sekali", "csrf_token": token})
            assert r.status_code == 401
        r = c.post("/login", data={"username": "bima", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "Terlalu banyak percobaan" in r.text
    # Another user from another address is not locked out by bima's attempts...
    with TestClient(app, follow_redirects=False, client=("10.0.0.9", 5000)) as c:
        login(c, "citra")
        assert c.get("/").status_code == 200


def test_logout_ends_the_session_and_deactivation_is_immediate(client_for, seeded, engine) -> None:  # noqa: ANN001
    bima = client_for("bima")
    page = bima.get("/").text
    assert bima.post("/logout", data={"csrf_token": csrf_of(page)}).status_code == 303
    assert bima.get("/").status_code == 303
    citra, ayu = client_for("citra"), client_for("ayu")
    assert citra.get("/").status_code == 200
    r = ayu.post("/admin/users/citra", data={"active": "0", "csrf_token": csrf_of(ayu.get("/admin").text)})
    assert r.status_code == 303
    assert citra.get("/").status_code == 303


def test_session_cookie_flags(engine, seeded) -> None:  # noqa: ANN001
    app = create_app(web_config(cookie_secure=True), engine)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        r = c.get("/login")
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(sqlite_url: str, target: str) -> None:
    eng = db.make_engine(sqlite_url)
    db.upgrade(eng)
    seed(eng)
    c = TestClient(create_app(web_config(), eng), follow_redirects=False)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "bima", "password": PASSWORD, "csrf_token": token, "next": target})
    assert r.status_code == 303 and r.headers["location"] == "/"
    eng.dispose()


def test_only_admins_change_the_threshold_and_scoring_uses_it(client_for, seeded, engine) -> None:  # noqa: ANN001
    from monitor import settings
    from monitor.config import Config

    bima = client_for("bima")
    token = csrf_of(bima.get("/").text)
    assert bima.post("/admin/threshold", data={"threshold": "0.2", "csrf_token": token}).status_code == 403
    ayu = client_for("ayu")
    page = ayu.get("/admin")
    assert ayu.post("/admin/threshold", data={"threshold": "0.73"}).status_code == 403  # no CSRF token
    assert ayu.post("/admin/threshold", data={"threshold": "0,73", "csrf_token": csrf_of(page.text)}).status_code == 303
    assert "0.730" in ayu.get("/admin").text
    with session_scope(engine) as s:
        assert settings.effective_threshold(s, Config()) == 0.73
        assert settings.threshold_override(s).updated_by == "ayu"
    ayu.post("/admin/threshold", data={"threshold": "7", "csrf_token": csrf_of(ayu.get("/admin").text)})
    with session_scope(engine) as s:
        assert settings.effective_threshold(s, Config()) == 0.73  # out of range: refused, unchanged
    ayu.post("/admin/threshold", data={"threshold": "", "csrf_token": csrf_of(ayu.get("/admin").text)})
    with session_scope(engine) as s:
        assert settings.effective_threshold(s, Config()) is None  # cleared: the model's own again
