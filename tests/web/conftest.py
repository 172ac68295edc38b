"""Web UI fixtures: a seeded database (SQLite and PostgreSQL through `engine`), users of each
role, and TestClients logged in as them. Every person named here is fictional."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from monitor.config import Config, ReviewConfig, WebConfig
from monitor.db import Article, ReviewItem, ScoreRow, SourceRow, session_scope
from monitor.web import auth, create_app

PASSWORD = "rahasia-123"
USERS = {"ayu": "admin", "bima": "reviewer", "citra": "reviewer", "dewi": "viewer"}
SCRIPT = "<script>alert('xss')</script>"

# (title, text, province, regency, probability, evidence sentences, top terms, cluster)
STORIES = [
    (
        "Camat di Kabupaten Bone foto bareng paslon sambil acungkan dua jari",
        "Camat Tanete Riattang, Rahmat Saputra Halim, terekam berfoto bersama pasangan calon bupati "
        "sambil mengacungkan dua jari di sebuah posko pemenangan, Sabtu (12/10).\n\n"
        "Bawaslu Bone telah memanggil yang bersangkutan untuk klarifikasi.",
        "Sulawesi Selatan", "Kabupaten Bone", 0.97,
        ["Camat Tanete Riattang, Rahmat Saputra Halim, terekam berfoto bersama pasangan calon bupati sambil mengacungkan dua jari."],
        [["berfoto bersama", 0.41], ["mengacungkan", 0.33], ["camat", 0.2]], 7,
    ),
    (
        "Guru PPPK di Lombok Timur unggah ajakan memilih calon bupati di Facebook",
        "Seorang guru PPPK berinisial NW di Lombok Timur mengunggah ajakan memilih salah satu calon "
        "bupati di akun Facebook pribadinya.\n\nPanwaslu kecamatan sudah meminta keterangan.",
        "Nusa Tenggara Barat", "Kabupaten Lombok Timur", 0.88,
        ["Seorang guru PPPK berinisial NW di Lombok Timur mengunggah ajakan memilih salah satu calon bupati di akun Facebook pribadinya."],
        [["mengunggah", 0.3], ["Facebook", 0.25]], None,
    ),
    (
        f"Kepala dinas hadiri deklarasi {SCRIPT} pasangan calon",
        f"Kepala Dinas Pendidikan, Yohanes Pattiasina, hadir di deklarasi pasangan calon. {SCRIPT}\n\n"
        "<img src=x onerror=alert(2)> Bawaslu Maluku Utara sedang menelusuri kehadirannya.",
        "Maluku Utara", "Kota Ternate", 0.74,
        [f"Kepala Dinas Pendidikan hadir di deklarasi {SCRIPT} pasangan calon."],
        [["deklarasi", 0.38], ["<script>", 0.1]], None,
    ),
    (
        "Bawaslu imbau ASN jaga netralitas jelang pilkada",
        "Bawaslu Jawa Tengah kembali mengimbau seluruh ASN menjaga netralitas.",
        "Jawa Tengah", "Kota Semarang", 0.55,
        ["Bawaslu Jawa Tengah kembali mengimbau seluruh ASN menjaga netralitas."],
        [["netralitas", 0.2]], None,
    ),
]
OUTLETS = ["Warta Sulsel", "Kabar Lombok", "Suara Ternate", "Jateng Hari Ini"]


def seed(engine: Engine, *, days_ago: int = 0) -> list[int]:
    """Users of each role, four outlets, four flagged stories queued today (plus one syndicated
    copy of the first); returns the review item ids, highest score first."""
    now = datetime.now(UTC) - timedelta(days=days_ago)
    ids = []
    with session_scope(engine) as s:
        for name, role in USERS.items():
            auth.add_user(s, name, PASSWORD, role)
        sources = [SourceRow(name=n, homepage=f"https://{k}.example.id/") for k, n in enumerate(OUTLETS)]
        s.add_all(sources)
        s.flush()
        for k, (title, text, prov, reg, p, sentences, terms, cluster) in enumerate(STORIES):
            a = Article(
                url=f"https://{k}.example.id/berita/{k}", title=title, text=text, province=prov, regency=reg,
                source_id=sources[k].id, content_hash=f"h{k}", cluster_id=cluster, published_at=now - timedelta(hours=2 + k),
            )
            s.add(a)
            s.flush()
            sc = ScoreRow(article_id=a.id, model_version="2026.11.1", probability=p, threshold=0.5, flagged=True,
                          evidence={"top_terms": terms, "sentences": sentences})
            s.add(sc)
            s.flush()
            item = ReviewItem(article_id=a.id, score_id=sc.id, probability=p, status="new", created_at=now)
            s.add(item)
            s.flush()
            ids.append(item.id)
        copy = Article(
            url="https://2.example.id/berita/salinan", title="Camat di Bone berfoto dengan paslon, Bawaslu turun tangan",
            text="Salinan berita yang sama.", province="Sulawesi Selatan", source_id=sources[2].id,
            content_hash="copy", cluster_id=7, published_at=now - timedelta(hours=1),
        )
        s.add(copy)
    return ids


def web_config(**web: object) -> Config:
    return Config(web=WebConfig(secret_key="test-secret", **web), review=ReviewConfig(claim_minutes=5))


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": name, "password": password, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters in tests only (the defaults cost ~50 ms per hash by design)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", auth._hasher.hash("dummy"))


@pytest.fixture
def seeded(engine: Engine) -> list[int]:
    return seed(engine)


@pytest.fixture
def app(engine: Engine, seeded: list[int]):  # noqa: ANN201
    return create_app(web_config(), engine)


@pytest.fixture
def client_for(app) -> Iterator[Callable[..., TestClient]]:  # noqa: ANN001
    """`client_for("bima")` is a TestClient logged in as bima; `client_for(None)` is anonymous."""
    clients: list[TestClient] = []

    def make(name: str | None, password: str = PASSWORD) -> TestClient:
        c = TestClient(app, follow_redirects=False)
        clients.append(c)
        return login(c, name, password) if name else c

    yield make
    for c in clients:
        c.close()
