"""What the pages show: today's list with filters and counts, the item page, exports, summary,
admin, languages, /healthz and /metrics (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update

from monitor.db import ReviewItem, Run, SourceRow, session_scope
from monitor.web import create_app
from tests.web.conftest import csrf_of, web_config


def test_todays_list_sorted_by_score_with_counts_and_filters(client_for, seeded, engine) -> None:  # noqa: ANN001
    # One item queued three days ago is not on today's list.
    with session_scope(engine) as s:
        s.execute(update(ReviewItem).where(ReviewItem.id == seeded[3]).values(created_at=datetime.now(UTC) - timedelta(days=3)))
    c = client_for("bima")
    html = c.get("/").text
    assert "Daftar hari ini" in html
    pos = [html.index(f'data-id="{i}"') for i in seeded[:3]]
    assert pos == sorted(pos), "highest score first"
    assert f'data-id="{seeded[3]}"' not in html
    assert 'data-status="new">baru <b>3</b>' in html
    html = c.get("/", params={"from": "", "to": ""}).text  # all dates
    assert f'data-id="{seeded[3]}"' in html and 'data-status="new">baru <b>4</b>' in html
    for params, expected in [
        ({"province": "Nusa Tenggara Barat"}, [seeded[1]]),
        ({"source": "Warta Sulsel"}, [seeded[0]]),
        ({"min_score": "0.8"}, seeded[:2]),
        ({"q": "facebook"}, [seeded[1]]),
        ({"q": "deklarasi", "status": "new"}, [seeded[2]]),
        ({"status": "confirmed"}, []),
    ]:
        html = c.get("/", params=params).text
        shown = [i for i in seeded if f'data-id="{i}"' in html]
        assert shown == expected, params
    assert "Tidak ada item" in c.get("/", params={"status": "confirmed"}).text


def test_item_page_shows_evidence_story_copies_and_history(client_for, seeded) -> None:  # noqa: ANN001
    c = client_for("bima")
    c.get("/")  # the list sets the order used by j/k
    html = c.get(f"/items/{seeded[0]}").text
    assert "Camat di Kabupaten Bone foto bareng paslon" in html
    assert "Warta Sulsel" in html and "Kabupaten Bone, Sulawesi Selatan" in html
    assert "0.970" in html and "model 2026.11.1" in html
    assert "<mark>berfoto bersama</mark>" in html and "<mark>mengacungkan</mark>" in html
    assert "Bawaslu Bone telah memanggil" in html  # extracted text
    assert 'href="https://0.example.id/berita/0"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "Camat di Bone berfoto dengan paslon, Bawaslu turun tangan" in html and "Suara Ternate" in html
    assert f'href="/items/{seeded[1]}" id="next-item"' in html and "prev-item" not in html
    token = csrf_of(html)
    r = c.post(f"/items/{seeded[0]}/decide", data={"action": "confirm", "violation_type": "photo_hand_sign", "note": "foto jelas", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/items/{seeded[0]}"
    html = c.get(f"/items/{seeded[0]}").text
    assert "Keputusan disimpan: ditinjau → dikonfirmasi." in html
    hist = html[html.index('id="history"'):]
    assert hist.index("ambil") < hist.index("konfirmasi") and "photo_hand_sign" in hist and "foto jelas" in hist
    # Deciding again is refused with the reason shown.
    r = c.post(f"/items/{seeded[0]}/decide", data={"action": "dismiss", "note": "x", "csrf_token": token})
    assert "already confirmed" in c.get(r.headers["location"]).text
    # A dismissal needs a reason.
    c.get(f"/items/{seeded[1]}")
    r = c.post(f"/items/{seeded[1]}/decide", data={"action": "dismiss", "csrf_token": token})
    assert "needs a reason" in c.get(r.headers["location"]).text


def test_exports_follow_the_filters(client_for, seeded) -> None:  # noqa: ANN001
    c = client_for("dewi")
    r = c.get("/export.csv", params={"min_score": "0.8"})
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [int(x["id"]) for x in rows] == seeded[:2]
    assert {"url", "title", "source", "published_at", "score", "status", "region"} <= set(rows[0])
    r = c.get("/export.xlsx", params={"province": "Maluku Utara"})
    ws = load_workbook(io.BytesIO(r.content)).active
    values = list(ws.values)
    assert values[0][0] == "id" and len(values) == 2 and values[1][0] == seeded[2]
    assert c.get("/export.pdf").status_code == 404


def test_summary_counts_by_day_province_and_decision(client_for, seeded) -> None:  # noqa: ANN001
    c = client_for("citra")
    html = c.get(f"/items/{seeded[1]}").text
    c.post(f"/items/{seeded[1]}/decide", data={"action": "escalate", "csrf_token": csrf_of(html)})
    html = c.get("/summary").text
    assert 'id="summary-total">4<' in html
    assert "Nusa Tenggara Barat" in html and "Sulawesi Selatan" in html
    by_decision = html[html.index('id="by-decision"'):]
    assert "eskalasi</td><td class=\"num\">1<" in by_decision
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    by_day = html[html.index('id="by-day"'):]
    assert f'<a href="/?from={today}&amp;to={today}">{today}</a>' in by_day


def test_admin_adds_users_and_sees_thresholds(client_for, seeded) -> None:  # noqa: ANN001
    ayu = client_for("ayu")
    html = ayu.get("/admin").text
    assert "2026.11.1" in html and "0.500" in html and "classifier.threshold" in html
    r = ayu.post("/admin/users", data={"name": "eko", "password": "panjang-sekali", "role": "viewer", "csrf_token": csrf_of(html)})
    assert r.status_code == 303
    assert "eko" in ayu.get("/admin").text
    r = ayu.post("/admin/users", data={"name": "fajar", "password": "pendek", "role": "viewer", "csrf_token": csrf_of(html)})
    assert "password too short" in ayu.get("/admin").text
    eko = client_for("eko", "panjang-sekali")
    assert eko.get("/").status_code == 200 and eko.get("/admin").status_code == 403


def test_language_switch(client_for, seeded) -> None:  # noqa: ANN001
    c = client_for("bima")
    assert "Daftar hari ini" in c.get("/").text
    r = c.get("/lang/en", params={"next": "/summary"})
    assert r.status_code == 303 and r.headers["location"] == "/summary"
    html = c.get("/").text
    assert "Today&#39;s list" in html and "Export CSV" in html and 'lang="en"' in html
    assert c.get("/lang/en", params={"next": "https://evil.example/"}).headers["location"] == "/"


def test_healthz_and_metrics(engine, seeded, monkeypatch) -> None:  # noqa: ANN001
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        s.add(Run(kind="round", started_at=now - timedelta(minutes=10), finished_at=now - timedelta(minutes=9), status="ok",
                  seconds=61.5, counts={"discovered": 30, "fetched": 30, "flagged": 4}))
        s.execute(update(SourceRow).where(SourceRow.name == "Warta Sulsel").values(last_success_at=now))
    app = create_app(web_config(), engine)
    with TestClient(app) as c:
        h = c.get("/healthz").json()
        assert h["database"] == "ok" and 500 < h["last_success_age_seconds"] < 700
        assert "model_version" in h and h["queue"] == {"new": 4}
        assert c.get("/metrics").status_code == 401  # "testclient" is not a loopback address
    with TestClient(app, client=("127.0.0.1", 40000)) as c:
        text = c.get("/metrics").text
    assert 'monitor_review_items{status="new"} 4.0' in text
    assert 'monitor_review_items{status="confirmed"} 0.0' in text
    assert "monitor_articles 5.0" in text
    assert "monitor_last_round_duration_seconds 61.5" in text
    assert 'monitor_source_last_success_timestamp_seconds{source="Warta Sulsel"}' in text
    assert 'monitor_rounds{status="ok"} 1.0' in text and "monitor_database_up 1.0" in text
    monkeypatch.setenv("MONITOR_METRICS_TOKEN", "s3cret")
    with TestClient(app, client=("127.0.0.1", 40000)) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
