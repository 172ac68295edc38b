"""End-to-end in real headless Chromium (Playwright, Debian's /usr/bin/chromium) against uvicorn on
127.0.0.1: log in, filter the day's list, open an item, decide it by keyboard, see the log entry,
export. Screenshots of the list and the item page go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor import db
from monitor.web import create_app
from tests.web.conftest import PASSWORD, seed, web_config

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (`make browser` installs it)"),
]


class LiveServer:
    """uvicorn in a thread on 127.0.0.1 and a random free port."""

    def __init__(self, app) -> None:  # noqa: ANN001
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(sqlite_url: str) -> Iterator[tuple[str, list[int]]]:
    eng = db.make_engine(sqlite_url)
    db.upgrade(eng)
    ids = seed(eng)
    with LiveServer(create_app(web_config(), eng)) as base_url:
        yield base_url, ids
    eng.dispose()


@pytest.fixture
def page():  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="id-ID")
        pg = context.new_page()
        pg.set_default_timeout(10_000)
        yield pg
        context.close()
        browser.close()


def test_review_in_a_real_browser(live, page) -> None:  # noqa: ANN001
    base_url, ids = live
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Anonymous: sent to the login page; log in.
    page.goto(base_url + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", "bima")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table#queue")
    assert page.locator("h1").inner_text() == "Daftar hari ini"
    assert page.locator("table#queue tbody tr").count() == 4
    page.screenshot(path=str(ARTIFACTS / "list.png"), full_page=True)

    # The scraped <script> in one title shows as text and never runs.
    assert page.get_by_text("<script>alert('xss')</script>", exact=False).count() >= 1
    assert dialogs == []

    # Filter the day's list by province.
    page.select_option("select[name=province]", "Sulawesi Selatan")
    page.click("#apply-filters")
    page.wait_for_url("**province=Sulawesi+Selatan**")
    rows = page.locator("table#queue tbody tr")
    assert rows.count() == 1
    assert "Kabupaten Bone" in rows.first.inner_text()

    # Open it by keyboard: j selects the first row, Enter opens it.
    page.keyboard.press("j")
    assert "selected" in (rows.first.get_attribute("class") or "")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/items/{ids[0]}")
    page.wait_for_selector("#mine")  # claimed on open
    assert page.locator("#evidence mark").all_inner_texts() == ["Camat", "berfoto bersama", "mengacungkan"]
    assert "Suara Ternate" in page.locator("#same-story").inner_text()
    page.screenshot(path=str(ARTIFACTS / "item.png"), full_page=True)

    # Decide by keyboard: d focuses the dismissal reason, Enter submits.
    page.keyboard.press("d")
    assert page.evaluate("document.activeElement.id") == "dismiss-note"
    page.keyboard.type("Imbauan umum, bukan kejadian")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#item-status").inner_text() == "ditolak"
    log = page.locator("#history tbody").inner_text()
    assert "bima" in log and "tolak" in log and "Imbauan umum, bukan kejadian" in log
    assert "ditinjau → ditolak" in log

    # Back to the (filtered) list, then export it.
    page.click("#back")
    page.wait_for_selector("table#queue")
    assert page.locator("table#queue tbody tr").first.locator(".badge").inner_text() == "ditolak"
    with page.expect_download() as dl:
        page.click("#export-csv")
    rows_csv = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert [(r["title"], r["status"]) for r in rows_csv] == [("Camat di Kabupaten Bone foto bareng paslon sambil acungkan dua jari", "dismissed")]
    with page.expect_download() as dl:
        page.click("#export-xlsx")
    assert dl.value.suggested_filename.endswith(".xlsx") and Path(dl.value.path()).read_bytes()[:2] == b"PK"

    # The whole day's list: j on an item page moves to the next one; c, a type, Enter confirms.
    page.click("a.button.secondary[href='/']")
    page.wait_for_selector("table#queue")
    page.click(f"a[href='/items/{ids[1]}']")
    page.wait_for_url(f"**/items/{ids[1]}")
    page.keyboard.press("j")
    page.wait_for_url(f"**/items/{ids[2]}")
    page.keyboard.press("k")
    page.wait_for_url(f"**/items/{ids[1]}")
    page.keyboard.press("c")
    assert page.evaluate("document.activeElement.id") == "confirm-type"
    page.select_option("#confirm-type", "social_media")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#item-status").inner_text() == "dikonfirmasi"
    assert "social_media" in page.locator("#history tbody").inner_text()

    # The item with the scraped script: inert on its own page too.
    page.goto(f"{base_url}/items/{ids[2]}")
    assert "<script>" in page.locator("#item-title").inner_text()
    assert dialogs == [] and errors == []
