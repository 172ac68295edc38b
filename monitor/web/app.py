"""The FastAPI app: login, the day's list, item pages, decisions, exports, summary, admin,
`/healthz` and `/metrics`.

Handlers are plain `def`s (run in the thread pool) that open one short database session each.
Every POST needs a logged-in user (except `/login`) and the session's CSRF token in the form
field `csrf_token`; a missing or wrong token is refused with 403 before anything is done.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from monitor import queue as q
from monitor import settings
from monitor.config import Config
from monitor.db import Article, ReviewStatus, ScoreRow, SourceRow, User, session_scope
from monitor.web import auth
from monitor.web.i18n import LANGUAGES, translator
from monitor.web.metrics import make_registry, render
from monitor.web.render import highlight, local_time, paragraphs

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PAGE_SIZE = 50
CHOICES_SECONDS = 120
SESSION_HOURS = 12
STATUSES = tuple(s.value for s in ReviewStatus)
FILTER_KEYS = ("from", "to", "province", "source", "status", "min_score", "q")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class NeedLogin(Exception):
    """No valid session: GET pages redirect to /login, everything else answers 401."""


class Refused(Exception):
    """Logged in but not allowed (role) or a bad CSRF token: 403."""

    def __init__(self, key: str) -> None:
        self.key = key


def create_app(config: Config, engine: Engine) -> FastAPI:
    """The review web UI for `config`, on `engine` (whose schema is already current)."""
    from starlette.middleware.sessions import SessionMiddleware

    tz = config.review.timezone
    secret = config.web.secret_key or secrets.token_urlsafe(32)
    if not config.web.secret_key:
        log.warning("web.secret_key not set: sessions end when this process stops (set it to ${MONITOR_SECRET_KEY})")
    limiter = auth.LoginRateLimiter(config.web.login_attempts_per_minute)
    registry = make_registry(config, engine)

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"], default=True))
    env.filters["local"] = lambda v, fmt="%Y-%m-%d %H:%M %Z": local_time(v, tz, fmt)
    env.globals.update(highlight=highlight, paragraphs=paragraphs, statuses=STATUSES, violation_types=q.VIOLATION_TYPES)
    templates = Jinja2Templates(env=env)

    app = FastAPI(title="netralitas-monitor", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config, app.state.engine, app.state.limiter = config, engine, limiter

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path not in ("/healthz", "/metrics") and not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="monitor_session",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=config.web.cookie_secure,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    # ------------------------------------------------------------ helpers

    def lang_of(request: Request) -> str:
        lang = request.session.get("lang")
        return lang if lang in LANGUAGES else config.web.language

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = request.session["csrf"] = auth.new_csrf_token()
        return token

    def page(request: Request, name: str, user: auth.CurrentUser | None, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        lang = lang_of(request)
        flash = request.session.pop("flash", None)
        context = {
            "t": translator(lang), "lang": lang, "user": user, "csrf": csrf_token(request), "flash": flash,
            "path": request.url.path, "path_qs": _path_qs(request), **ctx,
        }
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    def current_user(request: Request) -> auth.CurrentUser:
        name = request.session.get("user")
        if not name:
            raise NeedLogin()
        with session_scope(engine) as s:
            user = auth.load_user(s, name)
        if user is None:
            request.session.clear()
            raise NeedLogin()
        return user

    async def check_csrf(request: Request) -> None:
        form = await request.form()
        if not auth.csrf_ok(request.session.get("csrf"), form.get("csrf_token")):  # type: ignore[arg-type]
            raise Refused("csrf_failed")

    def reviewer(user: auth.CurrentUser = Depends(current_user)) -> auth.CurrentUser:
        if not user.can_decide:
            raise Refused("forbidden")
        return user

    def admin(user: auth.CurrentUser = Depends(current_user)) -> auth.CurrentUser:
        if not user.is_admin:
            raise Refused("forbidden")
        return user

    choices_cache: dict[str, Any] = {}

    def choices(s: Any) -> tuple[list[str], list[str]]:
        """Provinces and sources for the filter menus, re-read at most every CHOICES_SECONDS."""
        now = time.monotonic()
        if choices_cache.get("at", -1e9) < now - CHOICES_SECONDS:
            choices_cache["value"] = q.filter_choices(s)
            choices_cache["at"] = now
        return choices_cache["value"]

    def flash(request: Request, kind: str, message: str) -> None:
        request.session["flash"] = {"kind": kind, "message": message}

    def filters_from(params: dict[str, str], *, default_today: bool = True) -> tuple[q.Filters, dict[str, str]]:
        """Filters from query parameters; with no date parameter at all, today (review timezone)."""
        values = {k: (params.get(k) or "").strip() for k in FILTER_KEYS}
        today = datetime.now(ZoneInfo(tz)).date()
        if default_today and "from" not in params and "to" not in params:
            values["from"] = values["to"] = today.isoformat()
        f = q.Filters(
            date_from=_date(values["from"]),
            date_to=_date(values["to"]),
            province=values["province"] or None,
            source=values["source"] or None,
            status=values["status"] if values["status"] in STATUSES else None,
            min_score=_float(values["min_score"]),
            search=values["q"][:200] or None,
            timezone=tz,
        )
        return f, values

    # ------------------------------------------------------------ errors

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, _exc: NeedLogin) -> Response:
        if request.method == "GET" and request.url.path != "/metrics":
            return RedirectResponse("/login?" + urlencode({"next": _path_qs(request)}), status_code=303)
        return JSONResponse({"detail": "login required"}, status_code=401)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        t = translator(lang_of(request))
        user = None
        if request.session.get("user"):
            user = auth.CurrentUser(request.session["user"], "")
        return page(request, "error.html", user, status_code=403, message=t(exc.key))

    # ------------------------------------------------------------ open routes

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        from monitor.status import collect_status

        try:
            st = collect_status(config, engine, rounds=1)
        except Exception as exc:  # the point of a health check: say the database is down
            log.warning("healthz: %s", exc)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        age = st.last_success_age_seconds
        return JSONResponse({
            "status": "ok",
            "database": "ok",
            "last_success_at": st.last_success_at.isoformat() if st.last_success_at else None,
            "last_success_age_seconds": round(age, 1) if age is not None else None,
            "model_version": st.model_version,
            "queue": st.queue,
        })

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        if not _metrics_allowed(request):
            return JSONResponse({"detail": "login, a loopback address or the metrics token required"}, status_code=401)
        return Response(render(registry), media_type="text/plain; version=0.0.4; charset=utf-8")

    def _metrics_allowed(request: Request) -> bool:
        token = os.environ.get("MONITOR_METRICS_TOKEN")
        given = request.headers.get("authorization", "")
        if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode()):
            return True
        if request.session.get("user"):
            try:
                current_user(request)
                return True
            except NeedLogin:
                return False
        if not token and request.client is not None:
            try:
                return ipaddress.ip_address(request.client.host).is_loopback
            except ValueError:
                return False
        return False

    @app.get("/lang/{code}")
    def set_language(request: Request, code: str, next: str = "/") -> RedirectResponse:  # noqa: A002
        if code in LANGUAGES:
            request.session["lang"] = code
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
        return page(request, "login.html", None, next=_safe_next(next), error=None)

    @app.post("/login")
    def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf_token_field: str = Form("", alias="csrf_token"),
        next: str = Form("/"),  # noqa: A002
    ) -> Response:
        t = translator(lang_of(request))
        ip = request.client.host if request.client else "?"
        keys = (f"ip:{ip}", f"user:{username.strip().lower()}")
        if not limiter.allow(*keys):
            seconds = limiter.retry_after(*keys)
            resp = page(request, "login.html", None, status_code=429, next=_safe_next(next), error=t("login_limited", seconds=seconds))
            resp.headers["Retry-After"] = str(seconds)
            return resp
        if not auth.csrf_ok(request.session.get("csrf"), csrf_token_field):
            raise Refused("csrf_failed")
        with session_scope(engine) as s:
            user = auth.authenticate(s, username.strip(), password)
        if user is None:
            log.info("login failed for %r from %s", username[:50], ip)
            return page(request, "login.html", None, status_code=401, next=_safe_next(next), error=t("login_failed"))
        lang = request.session.get("lang")
        request.session.clear()  # a fresh session (and CSRF token) on every login
        request.session.update({"user": user.name, "csrf": auth.new_csrf_token()})
        if lang:
            request.session["lang"] = lang
        log.info("login %s (%s) from %s", user.name, user.role, ip)
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.post("/logout", dependencies=[Depends(current_user), Depends(check_csrf)])
    def logout(request: Request) -> RedirectResponse:
        lang = request.session.get("lang")
        request.session.clear()
        if lang:
            request.session["lang"] = lang
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------ the list

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, user: auth.CurrentUser = Depends(current_user)) -> HTMLResponse:
        params = dict(request.query_params)
        f, values = filters_from(params)
        page_no = max(1, _int(params.get("page")) or 1)
        with session_scope(engine) as s:
            f = q.resolve_search(s, f)  # the text is scanned once for the counts and the page
            counts = q.counts_by_status(s, f)
            total = counts.get(f.status, 0) if f.status else sum(counts.values())
            rows = q.list_items(s, f, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
            provinces, sources = choices(s)
        request.session["list_qs"] = urlencode({k: v for k, v in values.items() if v or k in ("from", "to")})
        pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
        today = datetime.now(ZoneInfo(tz)).date()
        return page(
            request, "list.html", user, rows=rows, counts=counts, total=total, values=values,
            provinces=provinces, sources=sources, page_no=page_no, pages=pages,
            is_today=values["from"] == values["to"] == today.isoformat(),
            qs=request.session["list_qs"], qs_without=lambda key, value=None: _qs(values, key, value),
            page_qs=lambda n: _qs({**values, "page": str(n)}, None),
        )

    @app.get("/export.{fmt}")
    def export(request: Request, fmt: str, user: auth.CurrentUser = Depends(current_user)) -> Response:
        if fmt not in ("csv", "xlsx"):
            return JSONResponse({"detail": "use /export.csv or /export.xlsx"}, status_code=404)
        f, values = filters_from(dict(request.query_params))
        with session_scope(engine) as s:
            data = q.export_rows(q.list_items(s, f), fmt)
        stamp = "_".join(v for v in (values["from"], values["to"]) if v) or "all"
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="review-queue_{stamp}.{fmt}"'})

    # ------------------------------------------------------------ one item

    @app.get("/items/{item_id}", response_class=HTMLResponse)
    def item_page(request: Request, item_id: int, user: auth.CurrentUser = Depends(current_user)) -> HTMLResponse:
        t = translator(lang_of(request))
        now = datetime.now().astimezone()
        held_by, mine = None, False
        with session_scope(engine) as s:
            try:
                item = q.get_item(s, item_id)
            except q.QueueError:
                return page(request, "error.html", user, status_code=404, message=t("not_found"))
            if user.can_decide and item.status in (ReviewStatus.NEW, ReviewStatus.IN_REVIEW):
                mine = q.claim_item(s, item_id, user.name, minutes=config.review.claim_minutes, now=now)
        with session_scope(engine) as s:
            item = q.get_item(s, item_id)
            holder = q.holder(item, now)
            if holder and holder != user.name:
                held_by = holder
            a, sc = item.article, item.score
            same_story = []
            if a.cluster_id is not None:
                same_story = s.execute(
                    select(Article.id, Article.title, Article.url, Article.published_at, SourceRow.name)
                    .outerjoin(SourceRow, SourceRow.id == Article.source_id)
                    .where(Article.cluster_id == a.cluster_id, Article.id != a.id)
                    .order_by(Article.published_at, Article.id)
                    .limit(50)
                ).all()
            hist = q.history(s, item_id)
            list_params = dict(_parse_qs(request.session.get("list_qs", "")))
            f, _ = filters_from(list_params)
            prev_id, next_id = q.neighbours(s, f, item_id)
        evidence = sc.evidence or {}
        terms = [(str(w), float(v)) for w, v in evidence.get("top_terms", []) if isinstance(w, str)]
        return page(
            request, "item.html", user, item=item, a=a, sc=sc, terms=terms, term_words=[w for w, v in terms if v > 0],
            sentences=[x for x in evidence.get("sentences", []) if isinstance(x, str)], same_story=same_story,
            history=hist, held_by=held_by, mine=mine and not held_by, decided=item.status in q.DECIDED,
            prev_id=prev_id, next_id=next_id, back_qs=request.session.get("list_qs", ""),
            until=local_time(item.claim_expires_at, tz, "%H:%M %Z") if item.claim_expires_at else "",
        )

    @app.post("/items/{item_id}/decide", dependencies=[Depends(current_user), Depends(check_csrf)])
    def decide(
        request: Request,
        item_id: int,
        action: str = Form(...),
        note: str = Form(""),
        violation_type: str = Form(""),
        user: auth.CurrentUser = Depends(reviewer),
    ) -> RedirectResponse:
        t = translator(lang_of(request))
        try:
            with session_scope(engine) as s:
                d = q.decide(s, item_id, user.name, action, note=note.strip()[:2000] or None, violation_type=violation_type or None)
                old, new = d.previous_status, d.new_status
            flash(request, "ok", t("saved", old=t("st_" + old), new=t("st_" + new)))
        except q.QueueError as exc:
            flash(request, "error", str(exc))
        return RedirectResponse(f"/items/{item_id}", status_code=303)

    @app.post("/items/{item_id}/reopen", dependencies=[Depends(current_user), Depends(check_csrf)])
    def reopen(request: Request, item_id: int, note: str = Form(""), user: auth.CurrentUser = Depends(admin)) -> RedirectResponse:
        t = translator(lang_of(request))
        try:
            with session_scope(engine) as s:
                q.reopen(s, item_id, user.name, note=note.strip()[:2000] or None)
            flash(request, "ok", t("reopened"))
        except q.QueueError as exc:
            flash(request, "error", str(exc))
        return RedirectResponse(f"/items/{item_id}", status_code=303)

    # ------------------------------------------------------------ summary and admin

    @app.get("/summary", response_class=HTMLResponse)
    def summary_page(request: Request, user: auth.CurrentUser = Depends(current_user)) -> HTMLResponse:
        params = dict(request.query_params)
        if "from" not in params and "to" not in params:
            today = datetime.now(ZoneInfo(tz)).date()
            params.update({"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()})
        f, values = filters_from(params, default_today=False)
        with session_scope(engine) as s:
            summ = q.summary(s, f)
            provinces, sources = choices(s)
        return page(request, "summary.html", user, summ=summ, values=values, provinces=provinces, sources=sources)

    @app.get("/admin", response_class=HTMLResponse)
    def admin_page(request: Request, user: auth.CurrentUser = Depends(admin)) -> HTMLResponse:
        with session_scope(engine) as s:
            users = s.scalars(select(User).order_by(User.name)).all()
            models = s.execute(
                select(ScoreRow.model_version, func.max(ScoreRow.threshold), func.count(), func.max(ScoreRow.created_at))
                .group_by(ScoreRow.model_version)
                .order_by(func.max(ScoreRow.created_at).desc())
                .limit(10)
            ).all()
            override = settings.threshold_override(s)
            override_info = (override.value["threshold"], override.updated_by, override.updated_at) if override else None
        return page(request, "admin.html", user, users=users, models=models, roles=auth.ROLES, configured=config.classifier.threshold, override=override_info)

    @app.post("/admin/threshold", dependencies=[Depends(current_user), Depends(check_csrf)])
    def change_threshold(request: Request, threshold: str = Form(""), user: auth.CurrentUser = Depends(admin)) -> RedirectResponse:
        text = threshold.strip().replace(",", ".")
        try:
            value = float(text) if text else None
            with session_scope(engine) as s:
                settings.set_threshold(s, value, user.name)
            flash(request, "ok", f"{translator(lang_of(request))('threshold_override')}: {value if value is not None else '-'}")
        except ValueError:
            flash(request, "error", "the threshold must be a number between 0 and 1")
        return RedirectResponse("/admin", status_code=303)

    @app.post("/admin/users", dependencies=[Depends(current_user), Depends(check_csrf)])
    def add_user(
        request: Request,
        name: str = Form(""),
        password: str = Form(""),
        role: str = Form("viewer"),
        user: auth.CurrentUser = Depends(admin),
    ) -> RedirectResponse:
        try:
            with session_scope(engine) as s:
                auth.add_user(s, name.strip(), password, role)
            flash(request, "ok", f"+ {name.strip()} ({role})")
        except auth.UserError as exc:
            flash(request, "error", str(exc))
        return RedirectResponse("/admin", status_code=303)

    @app.post("/admin/users/{name}", dependencies=[Depends(current_user), Depends(check_csrf)])
    def change_user(
        request: Request,
        name: str,
        role: str = Form(""),
        active: str = Form(""),
        user: auth.CurrentUser = Depends(admin),
    ) -> RedirectResponse:
        values: dict[str, Any] = {}
        if role in auth.ROLES:
            values["role"] = role
        if active in ("0", "1"):
            values["active"] = active == "1"
        if name == user.name and (values.get("active") is False or values.get("role", "admin") != "admin"):
            flash(request, "error", "you cannot deactivate or demote yourself")
        elif values:
            with session_scope(engine) as s:
                s.execute(update(User).where(User.name == name).values(**values))
            flash(request, "ok", f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
        return RedirectResponse("/admin", status_code=303)

    return app


# ---------------------------------------------------------------- small pure helpers


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _float(value: str) -> float | None:
    try:
        return float(value.replace(",", ".")) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _safe_next(target: str | None) -> str:
    """Only same-site paths: '/x' yes; '//evil', 'http://evil', '/\\evil' no."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _path_qs(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _parse_qs(qs: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(qs, keep_blank_values=True)


def _qs(values: dict[str, str], drop: str | None, replace_with: str | None = None) -> str:
    out = {k: v for k, v in values.items() if v or k in ("from", "to")}
    if drop:
        out.pop(drop, None)
        if replace_with is not None:
            out[drop] = replace_with
    return urlencode(out)

