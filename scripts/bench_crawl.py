"""Benchmark: the crawler (Fetcher + extraction) against bare trafilatura on the same pages.

Serves N realistic Indonesian news article pages (five outlet layouts: detik-, kompas-, tribun-,
antara- and WordPress-like, with navigation, inline scripts, "Baca juga", share bars, ads and
sidebars; fictional people) over 20 local hosts (127.0.0.1, one port each) from a subprocess
that writes pre-rendered responses (its CPU is shown in the table: it is harness, not crawler),
then:

1. crawler, `--mode workers` (default): `--processes` processes, each with its own `Fetcher`
   (robots.txt on, per-host interval 0, concurrency 32 split between them,
   `allow_private_addresses: true`) fetching, extracting and cleaning the pages of its half of
   the hosts in-process, which is what each `monitor worker` process does;
   `--mode pool`: one process fetching and feeding `ExtractorPool(processes)` (`monitor run`);
2. reference: the same pages through bare `trafilatura.extract(html)` in one process (no network).

Prints a table with pages/s end to end, CPU seconds per page by stage (extract = trafilatura
measured in the crawler processes, clean = the rest of `extract_article`, fetch = everything else
the crawler processes spent; in pool mode the split of the workers' CPU comes from a calibration
on 200 pages), the test server's CPU, peak RSS of the crawler processes (sampled every 50 ms),
the reference pages/s, the load average and the CPU other processes of the machine used meanwhile
(the goal needs both CPUs: on a loaded machine the 2-process crawler loses more than the
1-process reference). With `--repeat N` each figure is the median of N runs.

    .venv/bin/python scripts/bench_crawl.py                    # 2,000 pages
    .venv/bin/python scripts/bench_crawl.py --pages 10000      # the memory goal (< 400 MB)
    .venv/bin/python scripts/bench_crawl.py --repeat 3 --processes 2
    .venv/bin/python scripts/bench_crawl.py --mode pool        # fetcher + ExtractorPool
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HOSTS = 20

# ---------------------------------------------------------------- realistic pages

FIRST = ["Ahmad", "Siti", "Budi", "Dewi", "Rahmat", "Nur", "Hendra", "Ratna", "Yusuf", "Wulan", "Agus", "Fitri", "Irfan", "Lestari", "Bayu", "Sri"]
LAST = ["Pratama", "Wibowo", "Hidayat", "Saputra", "Lestari", "Nugroho", "Kusuma", "Siregar", "Harahap", "Pangaribuan", "Rumbiak", "Latuconsina", "Mappaseng", "Wardhana"]
PLACES = [("Kabupaten Gowa", "Sulawesi Selatan"), ("Kota Kendari", "Sulawesi Tenggara"), ("Kabupaten Lombok Timur", "Nusa Tenggara Barat"),
          ("Kota Ternate", "Maluku Utara"), ("Kabupaten Sidoarjo", "Jawa Timur"), ("Kabupaten Garut", "Jawa Barat"), ("Kota Medan", "Sumatera Utara"),
          ("Kabupaten Banyumas", "Jawa Tengah"), ("Kota Palu", "Sulawesi Tengah"), ("Kabupaten Jayapura", "Papua")]  # fmt: skip
SENTENCES = [
    "Badan Pengawas Pemilu {place} menerima laporan tentang dugaan pelanggaran netralitas aparatur sipil negara.",
    "Ketua Bawaslu {place}, {person}, mengatakan pihaknya masih mengumpulkan keterangan dari sejumlah saksi.",
    "Menurut dia, unggahan di media sosial itu beredar luas sejak Senin malam dan memicu perdebatan warga.",
    "Yang bersangkutan membantah tudingan tersebut dan menyebut kehadirannya hanya silaturahmi biasa.",
    "Pemerintah daerah meminta seluruh pegawai menjaga netralitas selama tahapan pemilihan berlangsung.",
    "Kepala Badan Kepegawaian dan Pengembangan Sumber Daya Manusia {place}, {person}, berjanji menindaklanjuti rekomendasi.",
    "Sejumlah warga mengaku melihat kegiatan itu berlangsung di balai pertemuan kecamatan pada sore hari.",
    "Panitia pengawas kecamatan sebelumnya telah menyampaikan imbauan tertulis kepada kepala desa dan lurah.",
    "Rapat koordinasi digelar di aula kantor bupati dengan menghadirkan perwakilan dinas, camat, dan tokoh masyarakat.",
    "Harga beras di pasar tradisional {place} naik tipis menjelang akhir pekan, sementara pasokan cabai melimpah.",
    "Dinas Pendidikan menyebut penerimaan guru PPPK tahun ini diikuti lebih dari seribu pelamar dari berbagai daerah.",
    "Polisi menutup sementara ruas jalan provinsi karena longsor setelah hujan deras mengguyur sejak dini hari.",
]  # fmt: skip
DAYS = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]
LAYOUTS = ("detik", "kompas", "tribun", "antara", "wordpress")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(FIRST)} {rng.choice(LAST)}"


def _paragraph(rng: random.Random, place: str) -> str:
    return " ".join(rng.choice(SENTENCES).format(place=place, person=_person(rng)) for _ in range(rng.randint(2, 4)))


def _nav(rng: random.Random, n: int) -> str:
    sections = ["Berita", "Daerah", "Politik", "Ekonomi", "Olahraga", "Hiburan", "Teknologi", "Otomotif", "Kesehatan", "Wisata", "Foto", "Video"]
    return "".join(f'<li><a href="/{rng.choice(sections).lower()}/{i}">{rng.choice(sections)} {i}</a></li>' for i in range(n))


def _script(rng: random.Random, size: int) -> str:
    blob = ",".join(f'"k{i}":"{rng.getrandbits(64):x}"' for i in range(size // 24))
    return f"<script>window.__DATA__={{{blob}}};(function(){{var a=document.createElement('script');a.async=1;}})();</script>"


def make_page(index: int, host: str = "127.0.0.1") -> str:
    """A deterministic, realistic article page (60-120 KB) for page number `index`."""
    rng = random.Random(index)
    layout = LAYOUTS[index % len(LAYOUTS)]
    place, province = rng.choice(PLACES)
    author, editor = _person(rng), _person(rng)
    title = f"Bawaslu {place.split(' ', 1)[1]} Telusuri Dugaan ASN Tak Netral di {place} ({index})"
    day, month, year = rng.randint(1, 28), rng.randrange(12), 2024
    dateline = f"{rng.choice(DAYS)}, {day} {MONTHS[month]} {year} {rng.randint(6, 22):02d}:{rng.randint(0, 59):02d} WIB"
    paragraphs = [f"<p><strong>{place.split(' ', 1)[1].upper()}</strong> - {_paragraph(rng, place)}</p>"]
    for i in range(rng.randint(7, 14)):
        paragraphs.append(f"<p>{_paragraph(rng, place)}</p>")
        if i == 2:
            paragraphs.append(f'<p><strong>Baca juga:</strong> <a href="/berita/{index + 7}/lain">Pemkab {place.split(" ", 1)[1]} Gelar Apel Netralitas</a></p>')
        if i == 4:
            paragraphs.append('<div class="ads"><p>ADVERTISEMENT</p><p>SCROLL TO CONTINUE WITH CONTENT</p></div>')
    paragraphs.append(f"<p>Editor: {editor}</p>")
    body = "".join(paragraphs)
    share = '<div class="share"><span>Bagikan:</span><a href="#">Facebook</a><a href="#">Twitter</a><a href="#">WhatsApp</a></div>'
    popular = "".join(f'<li><a href="/berita/{index + k}/populer">Berita terpopuler nomor {k} dari {province}</a></li>' for k in range(1, 11))
    head = (
        f'<meta charset="utf-8"><title>{title} - Kabar {province}</title>'
        f'<meta property="og:title" content="{title}"><meta name="author" content="{author}">'
        f'<meta name="description" content="{_paragraph(rng, place)[:150]}">'
        f'<link rel="canonical" href="http://{host}/berita/{index}/asn-tak-netral">'
        + _script(rng, rng.randint(8_000, 30_000))
        + '<style>' + "".join(f".c{i}{{margin:{i}px;padding:{i % 7}px}}" for i in range(rng.randint(200, 600))) + "</style>"
    )
    if layout == "detik":
        main = f'<div class="detail"><h1 class="detail__title">{title}</h1><div class="detail__author">{author} - detikSulsel</div><div class="detail__date">{dateline}</div>{share}<div class="detail__body-text itp_bodycontent">{body}<p>Simak Video "Bawaslu Temukan Pelanggaran"</p><p>[Gambas:Video 20detik]</p></div></div>'
    elif layout == "kompas":
        main = f'<div class="read__header"><h1 class="read__title">{title}</h1><div class="read__time">Kompas.com - {day:02d}/{month + 1:02d}/{year}, 14:05 WIB</div></div><div class="read__content"><div class="clearfix">{body}<p>Ikuti kami di Google News</p></div></div>{share}'
    elif layout == "tribun":
        main = f'<div id="article"><h1 id="arttitle">{title}</h1><time>{dateline}</time><div class="side-article txt-article">{body}<p>Artikel ini telah tayang di TribunSulsel.com</p></div><div class="paging"><a href="?page=2">2</a></div></div>'
    elif layout == "antara":
        main = f'<div class="wrap__article-detail"><h1>{title}</h1><span class="date">{dateline}</span><div class="post-content">{body}<p>Pewarta: {author}</p><p>COPYRIGHT © ANTARA 2024</p></div></div>'
    else:
        main = f'<article class="post type-post"><header class="entry-header"><h1 class="entry-title">{title}</h1><span class="posted-on">{dateline}</span><span class="byline">Oleh {author}</span></header><div class="entry-content">{body}</div>{share}</article>'
    return (
        f'<!DOCTYPE html><html lang="id"><head>{head}</head><body>'
        f'<header><div class="logo"><a href="/">Kabar {province}</a></div><nav><ul>{_nav(rng, rng.randint(60, 140))}</ul></nav></header>'
        f'<div class="container"><main>{main}</main><aside><h3>Terpopuler</h3><ol>{popular}</ol>{_script(rng, 4000)}</aside></div>'
        f'<footer><ul>{_nav(rng, 40)}</ul><p>Copyright © 2024 Kabar {province}. All rights reserved.</p></footer>'
        "</body></html>"
    )


def page_url(index: int, ports: list[int]) -> str:
    return f"http://127.0.0.1:{ports[index % len(ports)]}/berita/{index}/asn-tak-netral"


# ---------------------------------------------------------------- server (a subprocess)


def _serve(ports_out: multiprocessing.Queue, stop: multiprocessing.Event, pages: int = 0) -> None:
    """Pre-rendered responses (status line, headers and body in one bytes object) over HOSTS ports."""

    def response(body: bytes, ctype: bytes, status: bytes = b"200 OK") -> bytes:
        head = b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (status, ctype, len(body))
        return head + body

    html = b"text/html; charset=utf-8"
    cache = [response(make_page(i).encode(), html) for i in range(pages)]  # before the clock starts
    robots = response(b"User-agent: *\nAllow: /\n", b"text/plain")
    missing = response(b"not found", b"text/plain", b"404 Not Found")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                if path == b"/robots.txt":
                    out = robots
                elif path.startswith(b"/berita/"):
                    index = int(path.split(b"/")[2])
                    out = cache[index] if index < len(cache) else response(make_page(index).encode(), html)
                else:
                    out = missing
                writer.write(out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, "127.0.0.1", 0) for _ in range(HOSTS)]
        ports_out.put([s.sockets[0].getsockname()[1] for s in servers])
        while not stop.is_set():
            await asyncio.sleep(0.1)

    asyncio.run(main())


# ---------------------------------------------------------------- measurements


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """utime + stime of process `pid` (from /proc; 0 when gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class PeakRss:
    """Samples the summed RSS of this process and the given worker pids every 50 ms."""

    def __init__(self, pids: callable) -> None:
        self.pids, self.peak, self._stop = pids, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb(os.getpid()) + sum(_rss_mb(p) for p in self.pids()))
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _config(concurrency: int):
    from monitor.config import CrawlerConfig

    # Politeness stays on: robots.txt fetched and obeyed, the SSRF guard only off because the hosts
    # are 127.0.0.1, the per-host interval 0 so that the benchmark measures CPU, not waiting.
    return CrawlerConfig(
        allow_private_addresses=True, per_host_interval=0.0, concurrency=concurrency, respect_robots_txt=True
    )


class _StageClock:
    """CPU seconds spent in `extract_article` and, inside it, in trafilatura (this process)."""

    def __init__(self) -> None:
        import trafilatura

        from crawlers import extraction

        self.extract = self.trafilatura = 0.0
        self._extract_article = extraction.extract_article
        bare = getattr(trafilatura.bare_extraction, "untimed", trafilatura.bare_extraction)

        def timed_bare(*args, **kwargs):
            t0 = time.process_time()
            try:
                return bare(*args, **kwargs)
            finally:
                self.trafilatura += time.process_time() - t0

        timed_bare.untimed = bare
        trafilatura.bare_extraction = timed_bare  # extract_article looks it up on the module per call

    def extract_article(self, html: str, url: str):
        t0 = time.process_time()
        try:
            return self._extract_article(html, url)
        finally:
            self.extract += time.process_time() - t0


async def _pipeline(indexes: list[int], ports: list[int], concurrency: int, clock: _StageClock) -> dict[str, int]:
    """Fetch + extract + clean every page in this process (what each `monitor worker` does)."""
    from crawlers.fetching import Fetcher

    counts = {"ok": 0, "failed": 0, "empty": 0}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in indexes:
        queue.put_nowait(i)

    async def worker(fetcher: Fetcher) -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            page = await fetcher.fetch(page_url(i, ports))
            if not hasattr(page, "text"):
                counts["failed"] += 1
                continue
            counts["ok" if clock.extract_article(page.text, page.final_url) else "empty"] += 1

    async with Fetcher(_config(concurrency)) as fetcher:
        await asyncio.gather(*(worker(fetcher) for _ in range(concurrency)))
    return counts


def _pipeline_process(rank: int, processes: int, n: int, ports: list[int], concurrency: int, ready, go, out) -> None:
    """One crawler process: the hosts with `port index % processes == rank` (a host is one process's)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from crawlers import extraction

    clock = _StageClock()
    extraction.extract_article(make_page(10**6 + rank), "http://127.0.0.1/warm-up")  # imports, regexes
    mine = [i for i in range(n) if (i % len(ports)) % processes == rank]
    ready.put(rank)
    go.wait()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    counts = asyncio.run(_pipeline(mine, ports, concurrency, clock))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    out.put({"cpu": cpu, "wall": wall, "extract": clock.extract, "trafilatura": clock.trafilatura, **counts})


def crawl_processes(n: int, ports: list[int], processes: int, concurrency: int, server_pid: int) -> dict[str, float]:
    """`processes` crawler processes, each fetching, extracting and cleaning its share of the hosts."""
    ctx = multiprocessing.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    per_process = max(1, concurrency // processes)
    procs = [
        ctx.Process(target=_pipeline_process, args=(r, processes, n, ports, per_process, ready, go, out))
        for r in range(processes)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=300)
    server_cpu0, machine0 = _cpu_seconds(server_pid), _machine_busy()
    with PeakRss(lambda: [p.pid for p in procs if p.is_alive()]) as rss:
        started = time.perf_counter()
        go.set()
        results = [out.get(timeout=3600) for _ in procs]
        wall = time.perf_counter() - started
    server_cpu, machine = _cpu_seconds(server_pid) - server_cpu0, _machine_busy() - machine0
    for p in procs:
        p.join(timeout=30)
    total = lambda key: sum(r[key] for r in results)  # noqa: E731
    return {
        "wall": wall,
        "pages_s": n / wall,
        "fetch_cpu": (total("cpu") - total("extract")) / n,
        "extract_cpu": total("trafilatura") / n,
        "clean_cpu": (total("extract") - total("trafilatura")) / n,
        "server_cpu": server_cpu / n,
        "busy": total("cpu") / total("wall"),
        "others": max(0.0, machine - total("cpu") - server_cpu) / wall,
        "peak_rss": rss.peak,
        **{k: total(k) for k in ("ok", "empty", "failed")},
    }


async def crawl_pool(n: int, ports: list[int], processes: int, concurrency: int, server_pid: int) -> dict[str, float]:
    """One fetching process (the round's `Fetcher`) feeding `ExtractorPool(processes)`."""
    from crawlers.extraction import ExtractorPool
    from crawlers.fetching import Fetcher

    share = calibrate()
    pool = ExtractorPool(processes=processes)
    await asyncio.gather(*(pool.extract(make_page(i), f"http://127.0.0.1/{i}") for i in range(processes * 2)))
    worker_pids = lambda: list(pool._pool._processes) if pool._pool else []  # noqa: E731, SLF001
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = time.process_time()
    server_cpu0, machine0 = _cpu_seconds(server_pid), _machine_busy()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    counts = {"ok": 0, "failed": 0, "empty": 0}

    async def worker(fetcher: Fetcher) -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            page = await fetcher.fetch(page_url(i, ports))
            if not hasattr(page, "text"):
                counts["failed"] += 1
                continue
            article = await pool.extract(page.text, page.final_url)
            counts["ok" if article else "empty"] += 1

    with PeakRss(worker_pids) as rss:
        started = time.perf_counter()
        async with Fetcher(_config(concurrency)) as fetcher:
            await asyncio.gather(*(worker(fetcher) for _ in range(concurrency + processes * 2)))
        wall = time.perf_counter() - started
    main_cpu = time.process_time() - cpu_before
    server_cpu, machine = _cpu_seconds(server_pid) - server_cpu0, _machine_busy() - machine0
    pool.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    return {
        "busy": (main_cpu + worker_cpu) / wall / (processes + 1),
        "others": max(0.0, machine - main_cpu - worker_cpu - server_cpu) / wall,
        "wall": wall,
        "pages_s": n / wall,
        "fetch_cpu": main_cpu / n,
        "extract_cpu": worker_cpu * share / n,
        "clean_cpu": worker_cpu * (1 - share) / n,
        "server_cpu": server_cpu / n,
        "peak_rss": rss.peak,
        **counts,
    }


def calibrate(sample: int = 200) -> float:
    """Share of extraction CPU spent in trafilatura (the rest: metadata, dates, cleaning)."""
    clock = _StageClock()
    for i in range(sample):
        clock.extract_article(make_page(100_000 + i), f"http://x/{i}")
    return min(1.0, clock.trafilatura / clock.extract) if clock.extract else 1.0


def reference(n: int) -> dict[str, float]:
    """Bare `trafilatura.extract(html)` (default options) over the same pages, one process."""
    import trafilatura

    wall = cpu = 0.0
    empty = 0
    machine0, started, started_cpu = _machine_busy(), time.perf_counter(), time.process_time()
    for i in range(n):
        html = make_page(i)
        t0, c0 = time.perf_counter(), time.process_time()
        if not trafilatura.extract(html):
            empty += 1
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
    elapsed = time.perf_counter() - started
    others = max(0.0, _machine_busy() - machine0 - time.process_time() + started_cpu) / elapsed
    return {"pages_s": n / wall, "cpu": cpu / n, "empty": empty, "others": others}


def _machine_busy() -> float:
    """CPU seconds all processes of the machine have used so far (from /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--mode",
        choices=("workers", "pool"),
        default="workers",
        help="workers: N processes each fetching + extracting its hosts (as `monitor worker`); "
        "pool: one fetching process feeding ExtractorPool(N) (as `monitor run`)",
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the bare trafilatura run")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    ports_q, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(ports_q, stop, args.pages), daemon=True)
    server.start()
    ports = ports_q.get(timeout=600)
    sizes = [len(make_page(i).encode()) for i in range(50)]
    print(f"{args.pages} pages over {len(ports)} local hosts, mean page {statistics.mean(sizes) / 1024:.0f} KB, "
          f"mode {args.mode}, {args.processes} processes, concurrency {args.concurrency}, {os.cpu_count()} CPUs, "
          f"repeat {args.repeat}, load average {_load()}")  # fmt: skip
    runs, refs, loads = [], [], []
    try:
        for r in range(args.repeat):
            loads.append(_load())
            if args.mode == "workers":
                runs.append(crawl_processes(args.pages, ports, args.processes, args.concurrency, server.pid))
            else:
                runs.append(asyncio.run(crawl_pool(args.pages, ports, args.processes, args.concurrency, server.pid)))
            print(f"  run {r + 1}: crawler {runs[-1]['pages_s']:.1f} pages/s, busy {runs[-1].get('busy', 0):.2f}, peak RSS {runs[-1]['peak_rss']:.0f} MB, "
                  f"ok {runs[-1]['ok']:.0f} empty {runs[-1]['empty']:.0f} failed {runs[-1]['failed']:.0f} "
                  f"(load {loads[-1]}; other processes used {runs[-1]['others']:.2f} CPUs meanwhile)", flush=True)  # fmt: skip
            if not args.no_reference:
                refs.append(reference(min(args.pages, 2000)))
                print(f"  run {r + 1}: reference {refs[-1]['pages_s']:.1f} pages/s "
                      f"(other processes used {refs[-1]['others']:.2f} CPUs meanwhile)", flush=True)  # fmt: skip
    finally:
        stop.set()
        server.join(timeout=5)
    med = lambda key, rows: statistics.median(row[key] for row in rows)  # noqa: E731
    where = "main process" if args.mode == "pool" else "in each crawler process"
    rows = [
        ("crawler pages/s (end to end)", f"{med('pages_s', runs):.1f}"),
        (f"CPU s/page fetch (httpx, policies; {where})", f"{med('fetch_cpu', runs):.4f}"),
        ("CPU s/page extract (trafilatura)", f"{med('extract_cpu', runs):.4f}"),
        ("CPU s/page clean (metadata, dates, boilerplate)", f"{med('clean_cpu', runs):.4f}"),
        ("CPU s/page local test server (harness, not crawler)", f"{med('server_cpu', runs):.4f}"),
        ("peak RSS crawler processes (MB)", f"{med('peak_rss', runs):.0f}"),
        (f"CPUs (of {os.cpu_count()}) used by other processes during the crawl", f"{med('others', runs):.2f}"),
    ]
    if refs:
        rows += [
            ("reference pages/s (bare trafilatura.extract, 1 process)", f"{med('pages_s', refs):.1f}"),
            ("reference CPU s/page", f"{med('cpu', refs):.4f}"),
            ("CPUs used by other processes during the reference", f"{med('others', refs):.2f}"),
            ("speed-up (goal >= 1.5x)", f"{med('pages_s', runs) / med('pages_s', refs):.2f}x"),
        ]
        # What the two figures would be with the machine to themselves: the crawler's pages/s
        # bounded by (CPUs it may use) / (its CPU + the test server's CPU per page).
        cores = min(os.cpu_count() or 1, args.processes + (1 if args.mode == "pool" else 0))
        per_page = sum(med(k, runs) for k in ("fetch_cpu", "extract_cpu", "clean_cpu", "server_cpu"))
        rows.append(("projected speed-up on an idle machine (CPU-bound)", f"{cores * med('cpu', refs) / per_page:.2f}x"))
    width = max(len(k) for k, _ in rows)
    print(f"\n{'measure (median of ' + str(args.repeat) + ')':<{width}}  value")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(f"load average before each run: {', '.join(loads)}")


if __name__ == "__main__":
    main()
