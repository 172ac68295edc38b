"""Time the review UI's list and item pages on a realistically filled database.

Fills a fresh database with 100,000 articles (each scored), 5,000 review items (a few hundred
queued today, Asia/Jakarta) and their decision log by bulk inserts, serves the app with uvicorn
on 127.0.0.1 and a random port, logs in over HTTP and times each page: the median (and p90) of
20 requests after two warm-ups. Runs on SQLite (a temporary file) and on PostgreSQL (a throwaway
database on 127.0.0.1:5432, created and dropped here). Target: under 150 ms.

    python scripts/bench_ui.py                      # both backends
    python scripts/bench_ui.py --backend sqlite --articles 20000 --items 1000

`$MONITOR_TEST_PG` (default postgresql+psycopg://postgres@127.0.0.1:5432/test) names the
PostgreSQL server's maintenance database used to create and drop the throwaway one.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor import db  # noqa: E402
from monitor.config import Config, ReviewConfig, WebConfig  # noqa: E402
from monitor.db import Article, Decision, ReviewItem, ScoreRow, SourceRow, User  # noqa: E402

PG_ADMIN_URL = os.environ.get("MONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WILAYAH = ROOT / "models" / "data" / "wilayah"
PASSWORD = "bench-password"
TARGET_MS = 150.0
ACTION_OF = {"confirmed": "confirm", "dismissed": "dismiss", "escalated": "escalate"}

FIRST = ["Agus", "Rini", "Yohanes", "Siti", "Made", "Nurhayati", "Rahmat", "Dewi", "Teguh", "Fransiska", "Iwan", "Lestari"]
LAST = ["Saputra", "Halim", "Pattiasina", "Wibowo", "Siregar", "Lubis", "Kurniawan", "Manurung", "Rahayu", "Tanjung"]
ROLES = ["camat", "lurah", "kepala dinas", "guru PPPK", "sekretaris dinas", "kepala sekolah", "staf BPBD", "kepala puskesmas"]
ACTS = [
    "berfoto bersama pasangan calon sambil mengacungkan dua jari",
    "mengunggah ajakan memilih calon bupati di akun Facebook pribadinya",
    "menghadiri deklarasi pasangan calon dan ikut berorasi",
    "membagikan sembako bergambar pasangan calon kepada warga",
    "mengerahkan bawahannya dalam acara silaturahmi pasangan calon",
]
ORDINARY = [
    "Pemerintah daerah meresmikan jembatan baru yang menghubungkan dua kecamatan.",
    "Harga cabai rawit di pasar tradisional kembali naik menjelang akhir pekan.",
    "Dinas kesehatan menggelar vaksinasi massal di halaman kantor bupati.",
    "Bawaslu mengimbau seluruh ASN menjaga netralitas selama tahapan pilkada.",
    "Ratusan peserta mengikuti lomba lari yang digelar dalam rangka hari jadi kota.",
    "Hujan deras menyebabkan banjir setinggi lutut di beberapa ruas jalan.",
]


def regions() -> list[tuple[str, str]]:
    with open(WILAYAH / "provinces.csv", encoding="utf-8") as f:
        provinces = {r["code"]: r["name"] for r in csv.DictReader(f)}
    with open(WILAYAH / "regencies.csv", encoding="utf-8") as f:
        return [(provinces[r["province_code"]], r["name"]) for r in csv.DictReader(f)]


def fill(engine: Engine, n_articles: int, n_items: int, seed: int = 7) -> dict[str, float]:
    """Bulk-insert sources, articles, scores, review items and decisions; returns timings."""
    rng = random.Random(seed)
    regs = regions()
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(SourceRow), [{"name": f"Media Daerah {k:03d}", "homepage": f"https://media{k}.example.id/",
                                          "region": regs[k % len(regs)][0], "enabled": True, "created_at": now} for k in range(120)])
        source_ids = list(conn.scalars(select(SourceRow.id)))
        flagged = set(rng.sample(range(n_articles), n_items))
        batch = 5000
        for start in range(0, n_articles, batch):
            arts, scores = [], []
            for i in range(start, min(start + batch, n_articles)):
                prov, reg = regs[rng.randrange(len(regs))]
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                published = now - timedelta(days=rng.random() * 30)
                if i in flagged:
                    role, act = rng.choice(ROLES), rng.choice(ACTS)
                    title = f"{role.capitalize()} di {reg} diduga {act.split(' ')[0]} {act.split(' ', 1)[1][:40]}"
                    body = (f"Seorang {role} di {reg}, {name}, diduga {act}. " + " ".join(rng.sample(ORDINARY, 3))
                            + f"\n\nBawaslu {reg} telah memanggil yang bersangkutan untuk klarifikasi pekan ini.")
                else:
                    title = f"{rng.choice(ORDINARY)[:-1]} ({reg})"
                    body = " ".join(rng.sample(ORDINARY, 4)) + f"\n\nKata {name}, warga {reg}."
                arts.append({
                    "id": i + 1, "source_id": rng.choice(source_ids), "url": f"https://media.example.id/{i}/berita-{i}",
                    "title": title, "text": body, "published_at": published, "content_hash": f"{i:016x}",
                    "cluster_id": (i // 3) if i % 50 < 3 else None, "province": prov, "regency": reg, "pages": 1,
                    "created_at": published + timedelta(minutes=20), "language": "id",
                })
                p = 0.5 + rng.random() * 0.5 if i in flagged else rng.random() * 0.5
                evidence = {"top_terms": [[act.split(" ")[0], 0.4], [role, 0.2]], "sentences": [body.split(". ")[0] + "."]} if i in flagged else {}
                scores.append({"id": i + 1, "article_id": i + 1, "model_version": "2026.11.1", "probability": p, "threshold": 0.5,
                               "flagged": i in flagged, "evidence": evidence, "created_at": published + timedelta(minutes=21)})
            conn.execute(insert(Article), arts)
            conn.execute(insert(ScoreRow), scores)
    t_articles = time.perf_counter() - t0
    t1 = time.perf_counter()
    with engine.begin() as conn:
        rows = conn.execute(select(ScoreRow.id, ScoreRow.article_id, ScoreRow.probability).where(ScoreRow.flagged.is_(True)).order_by(ScoreRow.id)).all()
        items, decisions = [], []
        today = sorted(rng.sample(range(len(rows)), min(300, len(rows))))
        today_set = set(today)
        for k, (sid, aid, p) in enumerate(rows):
            created = now - timedelta(minutes=rng.randrange(1, 240)) if k in today_set else now - timedelta(days=1 + rng.random() * 29)
            status = "new" if k in today_set and rng.random() < 0.8 else rng.choice(["new", "confirmed", "dismissed", "escalated", "dismissed"])
            items.append({"id": k + 1, "article_id": aid, "score_id": sid, "probability": p, "status": status,
                          "violation_type": "social_media" if status == "confirmed" else None, "created_at": created, "updated_at": created})
            if status != "new":
                decisions.append({"review_item_id": k + 1, "user": "bench", "action": "claim", "previous_status": "new",
                                  "new_status": "in_review", "created_at": created + timedelta(hours=1)})
                decisions.append({"review_item_id": k + 1, "user": "bench", "action": ACTION_OF[status],
                                  "previous_status": "in_review", "new_status": status, "note": "bench", "created_at": created + timedelta(hours=1, minutes=2)})
        conn.execute(insert(ReviewItem), items)
        if decisions:
            conn.execute(insert(Decision), decisions)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return {"articles_s": t_articles, "items_s": time.perf_counter() - t1}


class LiveServer:
    def __init__(self, app) -> None:  # noqa: ANN001
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def timed(client: httpx.Client, urls: list[str], warmup: int = 2) -> list[float]:
    for u in urls[:warmup]:
        client.get(u).raise_for_status()
    out = []
    for u in urls:
        t = time.perf_counter()
        r = client.get(u)
        out.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    return out


def bench(engine: Engine, n: int) -> list[tuple[str, list[float]]]:
    from monitor.web import auth, create_app

    with db.session_scope(engine) as s:
        if s.scalar(select(User.id).where(User.name == "bench")) is None:
            auth.add_user(s, "bench", PASSWORD, "reviewer")
        item_ids = list(s.scalars(select(ReviewItem.id).where(ReviewItem.status.in_(("new", "in_review"))).order_by(ReviewItem.id)))
    config = Config(web=WebConfig(secret_key="bench"), review=ReviewConfig())
    rng = random.Random(3)
    with LiveServer(create_app(config, engine)) as base, httpx.Client(base_url=base, timeout=30) as c:
        page = c.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        r = c.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303, f"login failed: {r.status_code}"
        results = [
            ("list: today (default)", timed(c, ["/"] * n)),
            ("list: all dates, page 1", timed(c, ["/?from=&to="] * n)),
            ("list: all dates, search", timed(c, ["/?from=&to=&q=sembako"] * n)),
            ("list: province + min score", timed(c, ["/?from=&to=&province=Jawa+Tengah&min_score=0.7"] * n)),
        ]
        c.get("/")  # the item page's j/k order: today's list
        results.append(("item page (claims)", timed(c, [f"/items/{i}" for i in rng.sample(item_ids, n + 2)])))
        results.append(("summary (30 days)", timed(c, ["/summary"] * n)))
    return results


@contextmanager
def backend_engine(kind: str) -> Iterator[Engine]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            eng = db.make_engine(f"sqlite:///{tmp}/bench.db")
            try:
                yield eng
            finally:
                eng.dispose()
        return
    name = f"nm_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        eng = db.make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        try:
            yield eng
        finally:
            eng.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=5_000)
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    table: list[tuple[str, str, float, float]] = []
    worst = 0.0
    for kind in kinds:
        try:
            cm = backend_engine(kind)
            eng = cm.__enter__()
        except Exception as exc:  # PostgreSQL not running: say so, go on with the others
            print(f"{kind}: skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
            continue
        try:
            db.upgrade(eng)
            fill_t = fill(eng, args.articles, args.items)
            print(f"{kind}: filled {args.articles:,} articles + scores in {fill_t['articles_s']:.1f} s, "
                  f"{args.items:,} review items + decisions in {fill_t['items_s']:.1f} s", file=sys.stderr)
            for label, ms in bench(eng, args.requests):
                med = statistics.median(ms)
                p90 = statistics.quantiles(ms, n=10)[-1]
                table.append((kind, label, med, p90))
                if label.startswith(("list: today", "item page")):
                    worst = max(worst, med)
        finally:
            cm.__exit__(None, None, None)
    print(f"\n{args.articles:,} articles, {args.items:,} review items; median and p90 of {args.requests} HTTP requests (ms)")
    print(f"{'backend':<11} {'page':<30} {'median':>8} {'p90':>8}")
    for kind, label, med, p90 in table:
        flag = "" if med < TARGET_MS else "  over target"
        print(f"{kind:<11} {label:<30} {med:8.1f} {p90:8.1f}{flag}")
    print(f"\nlist and item pages: worst median {worst:.1f} ms (target < {TARGET_MS:.0f} ms): {'OK' if worst < TARGET_MS else 'MISSED'}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
