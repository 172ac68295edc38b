"""Extraction: HTML text in, a clean `ExtractedArticle` out. Pure functions, no I/O.

- `extract_article(html, url, cleanup=())`: body via trafilatura (precision-oriented `fast`
  mode, no comments); title, author and language from the page's metadata; publication date from
  meta tags / JSON-LD, then the page's visible Indonesian date ("Selasa, 19 Des 2023 14:05 WIB"),
  then htmldate; Indonesian outlet boilerplate removed line by line (`DEFAULT_CLEANUP` plus the
  source's own `cleanup` regexes); `content_hash` = sha256 of the whitespace-normalised text.
  Returns None when the page has no article body.
- `next_page_urls(html, url)`: the further pages of a split article (rel=next, visible paginators
  such as "Halaman 2", "Halaman selanjutnya", "Selanjutnya", "Next"), in page order.
- `one_page_url(url, one_page_param)`: the single-page view some outlets offer (`page=all`).
- `join_pages(pages)`: one article out of its pages.
- `canonical_link(html, url)`: the page's rel=canonical, absolutised and canonicalised.
- `parse_indonesian_date(text)`: WIB (+7), WITA (+8), WIT (+9); no zone given = WIB.
- `ExtractorPool`: the same extraction in worker processes, for rounds and the benchmark.

Config read (by the caller): a source's `cleanup` regexes and `one_page_param`.
"""

from __future__ import annotations

import asyncio
import hashlib
import html as html_lib
import logging
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from crawlers.discovery import canonicalize, parse_w3c_datetime
from crawlers.types import ExtractedArticle

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 80  # shorter bodies are not articles (index pages, error pages, stubs)
MAX_HTML_CHARS = 3_000_000  # larger documents are cut before parsing

# ---------------------------------------------------------------- boilerplate rules

#: Lines matching any of these (case-insensitive, `re.search`) are dropped from the body.
DEFAULT_CLEANUP: tuple[str, ...] = (
    r"^\W*baca\s*(juga|pula|selengkapnya|berita\s+lain(nya)?|artikel\s+lain(nya)?|lainnya)\b",
    r"^\W*(lihat|simak)\s+juga\s*:",
    r"^\W*advertisement\W*$",
    r"^\W*scroll\s+to\s+continue\s+with\s+content\W*$",
    r"^\W*simak\s+(juga\s+)?(video|berita|artikel|selengkapnya)\b",
    r"^\W*\[?gambas:",
    r"^\W*(editor|penulis|reporter|pewarta|penyunting|kontributor|redaktur|fotografer|foto|sumber|writer|wartawan|laporan\s+wartawan[^:]*)\s*:",
    r"^\W*(editor|penulis|reporter|pewarta|penyunting)\s+\S+(\s+\S+){0,3}$",
    r"^\W*(ikuti|follow|gabung|bergabung)\b.{0,60}\b(google\s+news|whatsapp|telegram|instagram|channel|saluran)\b",
    r"^\W*(dapatkan|download|unduh)\b.{0,60}\b(update|berita|aplikasi|app)\b.{0,80}$",
    r"^\W*(bagikan|share|sebarkan)(\s+(artikel|berita|ini))*\s*(:|$|\b(facebook|twitter|whatsapp)\b)",
    r"^\W*(facebook|twitter|x|whatsapp|telegram|line|linkedin|pinterest|email|e-mail|copy\s*link|salin\s*(tautan|link)|tweet|share)(\s*[|·•,/]\s*\w+)*\W*$",
    r"^\W*(artikel|berita)\s+ini\s+(telah|sudah)\s+(tayang|terbit|dimuat)\b",
    r"^\W*(copyright|hak\s+cipta)\b|^\W*©",
    r"^\W*dilarang\s+(keras\s+)?(mengambil|mengutip|menyalin)\b",
    r"^\W*(tags?|topik|kata\s+kunci)\s*:",
    r"^\W*(halaman\s+)?(selanjutnya|sebelumnya|berikutnya)\W*$",
    r"^\W*halaman\s+\d+(\s*(dari|/)\s*\d+)?\W*$",
    r"^\W*(\d+\s*){2,}\W*$",  # paginator digits "1 2 3"
    r"^\W*(komentar|tulis komentar|kirim komentar|berikan komentar)\b.{0,40}$",
    r"^\W*(loading|memuat)\.{0,3}\W*$",
    # a dateline standing alone: "Selasa, 19 Des 2023 14:05 WIB", "Diperbarui 19/12/2023, 14.05"
    r"^\W*((diperbarui|dipublikasikan|diterbitkan|terbit|update[d]?|published|posted)\s*:?\s*)?"
    r"((senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad)\s*,?\s*)?\d{1,2}(\s+|[/.-])([a-z]{3,9}|\d{1,2})\.?(\s+|[/.-])\d{4}"
    r"\s*[,|\-–—]?\s*((pukul|jam)\s*)?(\d{1,2}[:.]\d{2}([:.]\d{2})?)?\s*(wib|wita|wit)?\W*$",
    r"^\W*(\(\s*\*+\s*\)|\(\s*[a-z]{2,6}\s*/\s*[a-z]{2,6}\s*\))\W*$",  # "(*)", "(ant/dam)" sign-offs
)
_INLINE_ADS = re.compile(r"\s*\b(ADVERTISEMENT|SCROLL TO CONTINUE WITH CONTENT)\b\s*")
_INLINE_READ_ALSO = re.compile(r"(?<=[.!?\"”'])\s+(Baca|BACA)\s+(juga|Juga|JUGA)\s*:.*$")


@lru_cache(maxsize=256)
def _cleanup_regex(extra: tuple[str, ...]) -> re.Pattern[str]:
    patterns = list(DEFAULT_CLEANUP)
    for pattern in extra:
        try:
            re.compile(pattern)
            patterns.append(pattern)
        except re.error as exc:
            log.warning("ignoring bad cleanup regex %r: %s", pattern, exc)
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def clean_text(text: str, cleanup: Sequence[str] = ()) -> str:
    """The body without boilerplate lines; whitespace inside lines collapsed, blank lines dropped."""
    rule = _cleanup_regex(tuple(cleanup))
    out: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        # the substring tests are exact pre-filters (both patterns are case-sensitive literals)
        if "ADVERTISEMENT" in line or "SCROLL TO CONTINUE WITH CONTENT" in line:
            line = _INLINE_ADS.sub(" ", line).strip()
        if "Baca" in line or "BACA" in line:
            line = _INLINE_READ_ALSO.sub("", line).strip()
        if not line or rule.search(line):
            continue
        out.append(line)
    return "\n".join(out)


def content_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- dates

WIB, WITA, WIT = (
    timezone(timedelta(hours=7), "WIB"),
    timezone(timedelta(hours=8), "WITA"),
    timezone(timedelta(hours=9), "WIT"),
)
_ZONES = {"wib": WIB, "wita": WITA, "wit": WIT, "utc": UTC, "gmt": UTC, "z": UTC}
_MONTHS = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "pebruari": 2, "february": 2, "feb": 2, "peb": 2,
    "maret": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "agustus": 8, "august": 8, "agust": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12,
}  # fmt: skip
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TIME = r"(?:\s*(?:[,|\-–—/•·]|\bpukul\b|\bjam\b|\bpkl\b\.?)?\s*)*(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
_ZONE = r"(?:\s*(WITA|WIB|WIT|UTC|GMT)\b(?:\s*([+-]\d{1,2})(?::?(\d{2}))?)?)?"
_DATE_NAMED = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:\s+|\s*[-/.]\s*)({_MONTH_ALT})\.?(?:\s+|\s*[-/,.]\s*)(\d{{4}})(?!\d)(?:{_TIME})?{_ZONE}",
    re.IGNORECASE,
)
_DATE_NUMERIC = re.compile(
    rf"(?<![\d/.-])(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}})(?![\d/])(?:{_TIME})?{_ZONE}", re.IGNORECASE
)
_DATE_ISO = re.compile(
    rf"(?<!\d)(\d{{4}})[-/](\d{{1,2}})[-/](\d{{1,2}})(?:[T ]+(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?)?{_ZONE}"
)


def _build_date(
    year: int,
    month: int,
    day: int,
    hh: str | None,
    mm: str | None,
    ss: str | None,
    zone: str | None,
    off_h: str | None = None,
    off_m: str | None = None,
) -> datetime | None:
    try:
        tz = _ZONES.get((zone or "wib").lower(), WIB)
        if zone and zone.lower() in ("utc", "gmt") and off_h:
            sign = -1 if off_h.startswith("-") else 1
            tz = timezone(sign * timedelta(hours=abs(int(off_h)), minutes=int(off_m or 0)))
        if not 1990 <= year <= 2100:
            return None
        return datetime(year, month, day, int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=tz)
    except (ValueError, OverflowError):
        return None


def parse_indonesian_date(text: str) -> datetime | None:
    """The first date in `text` written the Indonesian way, as an aware datetime.

    Handles "Selasa, 19 Des 2023 14:05 WIB", "19 Desember 2023, pukul 14.05 WITA",
    "Kamis, 21/12/2023 | 10:30 WIT", "2023-12-19 14:05" and English month names. No zone: WIB.
    """
    if not text or not isinstance(text, str):
        return None
    text = text[:20_000]
    m = _DATE_NAMED.search(text)
    if m:
        dt = _build_date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]), m[4], m[5], m[6], m[7], m[8], m[9])
        if dt:
            return dt
    m = _DATE_NUMERIC.search(text)
    if m:
        dt = _build_date(int(m[3]), int(m[2]), int(m[1]), m[4], m[5], m[6], m[7], m[8], m[9])
        if dt:
            return dt
    m = _DATE_ISO.search(text)
    if m:
        return _build_date(int(m[1]), int(m[2]), int(m[3]), m[4], m[5], m[6], m[7], m[8], m[9])
    return None


# ---------------------------------------------------------------- metadata from the raw HTML

_TAG_ATTRS = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_META_TAG = re.compile(r"<meta\b([^>]{0,2000})>", re.IGNORECASE)
_LINK_TAG = re.compile(r"<link\b([^>]{0,2000})>", re.IGNORECASE)
_A_TAG = re.compile(r"<a\b([^>]{0,2000})>(.{0,400}?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TITLE_TAG = re.compile(r"<title\b[^>]*>(.{0,1000}?)</title\s*>", re.IGNORECASE | re.DOTALL)
_H1_TAG = re.compile(r"<h1\b[^>]*>(.{0,2000}?)</h1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_LANG = re.compile(r"<html\b[^>]{0,500}?\blang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_JSONLD_AUTHOR = re.compile(r'"author"\s*:\s*(?:\[\s*)?\{[^{}]{0,300}?"name"\s*:\s*"([^"]{2,120})"')
_STRIP_TAGS = re.compile(r"<[^>]*>")
_SCRIPT_STYLE = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BYLINE = re.compile(
    r"^\W*(?:penulis|reporter|pewarta|oleh|writer|laporan wartawan[^:]{0,60})\s*:?\s*([A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,4})",
)

_DATE_META_KEYS = (
    "article:published_time", "og:article:published_time", "datepublished", "publishdate", "pubdate",
    "publish-date", "publish_date", "dc.date.issued", "dc.date", "date", "content_publisheddate",
    "parsely-pub-date", "sailthru.date", "dtk:publishdate", "article:published",
)  # fmt: skip


def _attrs(fragment: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _TAG_ATTRS.finditer(fragment):
        key = m.group(1).lower()
        if key not in out:
            out[key] = html_lib.unescape(m.group(2) or m.group(3) or m.group(4) or "")
    return out


def _text_of(fragment: str) -> str:
    return " ".join(html_lib.unescape(_STRIP_TAGS.sub(" ", fragment)).split())


def _metas(html: str) -> dict[str, str]:
    metas: dict[str, str] = {}
    for m in _META_TAG.finditer(html):
        a = _attrs(m.group(1))
        key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
        if key and "content" in a and key not in metas:
            metas[key] = a["content"].strip()
    return metas


def _date_from_meta(metas: dict[str, str], html: str) -> datetime | None:
    candidates = [metas[k] for k in _DATE_META_KEYS if metas.get(k)]
    m = _JSONLD_DATE.search(html)
    if m:
        candidates.insert(0, m.group(1))
    for value in candidates:
        value = value.strip()
        dt = parse_w3c_datetime(value.replace("/", "-")) if re.match(r"\d{4}[-/]\d", value) else None
        if dt is not None:
            if not re.search(r"(Z|[+-]\d{2}:?\d{2})$", value.strip()):
                dt = dt.replace(tzinfo=WIB)  # a local timestamp without zone: Indonesian outlets mean WIB
            return dt
        dt = parse_indonesian_date(value)
        if dt is not None:
            return dt
    return None


def _title(metas: dict[str, str], html: str) -> str:
    for key in ("og:title", "twitter:title", "title", "headline"):
        if metas.get(key):
            return " ".join(metas[key].split())
    m = _H1_TAG.search(html)
    if m and _text_of(m.group(1)):
        return _text_of(m.group(1))
    m = _TITLE_TAG.search(html)
    if m:
        title = _text_of(m.group(1))
        return re.split(r"\s+[|\-–—]\s+(?=[^|\-–—]*$)", title)[0] if re.search(r"\s[|\-–—]\s", title) else title
    return ""


def _h1(html: str) -> str:
    m = _H1_TAG.search(html[:300_000])
    return _text_of(m.group(1)) if m else ""


def _author(metas: dict[str, str], html: str, raw_text: str) -> str | None:
    for key in ("author", "article:author", "dc.creator", "byl", "content_author", "parsely-author"):
        value = metas.get(key)
        if value and not value.startswith(("http://", "https://")) and len(value) < 120:
            return " ".join(value.split())
    m = _JSONLD_AUTHOR.search(html)
    if m:
        return m.group(1).strip()
    for line in raw_text.splitlines()[:5] + raw_text.splitlines()[-8:]:
        m = _BYLINE.match(line.strip())
        if m:
            return m.group(1).strip()
    return None


_ID_WORDS = frozenset(
    [
        "yang",
        "dan",
        "di",
        "dengan",
        "untuk",
        "dari",
        "ini",
        "itu",
        "dalam",
        "tidak",
        "akan",
        "pada",
        "juga",
        "ke",
        "oleh",
        "karena",
        "sudah",
        "kata",
        "bahwa",
    ]
)
_EN_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "in",
        "is",
        "that",
        "for",
        "with",
        "was",
        "on",
        "as",
        "by",
        "it",
        "are",
        "from",
        "this",
        "be",
        "at",
    ]
)


def _language(html: str, text: str) -> str | None:
    m = _HTML_LANG.search(html[:5000])
    if m:
        return m.group(1).lower()
    words = text.lower().split()[:400]
    if not words:
        return None
    id_share = sum(w in _ID_WORDS for w in words) / len(words)
    en_share = sum(w in _EN_WORDS for w in words) / len(words)
    if max(id_share, en_share) < 0.03:
        return None
    return "id" if id_share >= en_share else "en"


_H1_OPEN = re.compile(r"<h1\b", re.IGNORECASE)
_BODY_OPEN = re.compile(r"<body\b", re.IGNORECASE)


def _visible_date(html: str) -> datetime | None:
    """The first Indonesian date in the visible text from the headline on (else the body's start)."""
    for opener, span in ((_H1_OPEN, 12_000), (_BODY_OPEN, 150_000)):
        m = opener.search(html)
        if m is None:
            continue
        window = _SCRIPT_STYLE.sub(" ", html[m.start() : m.start() + span])
        found = parse_indonesian_date(html_lib.unescape(_STRIP_TAGS.sub(" ", window)))
        if found is not None:
            return found
    return None


def _htmldate(html: str, url: str) -> datetime | None:
    try:
        from htmldate import find_date

        found = find_date(html, url=url, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises on some malformed inputs
        return None
    if not found:
        return None
    try:
        return datetime.strptime(found, "%Y-%m-%d").replace(tzinfo=WIB)
    except ValueError:
        return None


# ---------------------------------------------------------------- the article


@lru_cache(maxsize=1)
def _trafilatura_options():  # built once per process: trafilatura would rebuild them per call
    from trafilatura.settings import Extractor

    return Extractor(output_format="python", fast=True, comments=False, tables=True, with_metadata=False, dedup=False)


def extract_article(html: str, url: str, *, cleanup: Sequence[str] = ()) -> ExtractedArticle | None:
    """The article in `html` (served at `url`), or None when the page has no article body.

    Never raises on bad input. `cleanup`: extra boilerplate-line regexes of the source.
    """
    try:
        if not isinstance(html, str) or not html.strip():
            return None
        html = html[:MAX_HTML_CHARS]
        import trafilatura

        doc = trafilatura.bare_extraction(html, url=url, options=_trafilatura_options())
        raw_text = getattr(doc, "text", None) or ""
        text = clean_text(raw_text, cleanup)
        if len(text) < MIN_TEXT_CHARS:
            return None
        metas = _metas(html[:300_000])
        title = _title(metas, html[:300_000])
        first, _, rest = text.partition("\n")
        if rest and first and (first == title or first == _h1(html)):
            text = rest  # the headline repeated as the body's first line
        published = _date_from_meta(metas, html[:300_000]) or _visible_date(html) or _htmldate(html, url)
        return ExtractedArticle(
            url=canonical_link(html, url) or canonicalize(url) or url,
            title=title,
            text=text,
            published_at=published,
            author=_author(metas, html[:300_000], raw_text),
            language=_language(html, text),
            content_hash=content_hash(text),
        )
    except Exception as exc:  # extraction must not take a round down
        log.warning("extraction of %s failed: %s", url, exc)
        return None


def canonical_link(html: str, url: str) -> str | None:
    """The page's `<link rel="canonical">`, absolutised against `url` and canonicalised."""
    try:
        head = html[:300_000]
        for m in _LINK_TAG.finditer(head):
            a = _attrs(m.group(1))
            if "canonical" in a.get("rel", "").lower().split() and a.get("href", "").strip():
                return canonicalize(urljoin(url, a["href"].strip()))
    except (ValueError, TypeError):
        return None
    return None


# ---------------------------------------------------------------- pagination

_PAGE_PARAMS = frozenset({"page", "halaman", "hal", "pg", "paged", "p", "hlm"})
_PATH_PAGE = re.compile(r"^(.*?)(?:/(?:page|halaman|hal)/?|/)(\d{1,3})/?$", re.IGNORECASE)


def _page_key(url: str) -> tuple[str, int | None] | None:
    """(the article's address without its page marker, the page number or None)."""
    canon = canonicalize(url)
    if canon is None:
        return None
    parts = urlsplit(canon)
    number: int | None = None
    query = []
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in _PAGE_PARAMS:
            if v.isdigit():
                number = int(v)
            elif v.lower() in ("all", "semua", "full"):
                number = 0
            continue
        if k.lower() in ("single", "showall", "show"):
            continue
        query.append((k, v))
    path = parts.path
    if number is None:
        m = _PATH_PAGE.match(path)
        if m and m.group(1).count("/") >= 1 and len(m.group(1)) > 1:
            path, number = m.group(1), int(m.group(2))
    base = urlunsplit((parts.scheme, parts.netloc, path.rstrip("/") or "/", urlencode(query), ""))
    return base, number


def next_page_urls(html: str, url: str) -> list[str]:
    """URLs of the further pages of the article at `url` (page 2..N as linked), in page order.

    Candidates: `<link rel="next">`, `<a rel="next">` and every link that is this article's own
    address with another page marker (`?page=2`, `/2`, `/page/2`, `?halaman=2`) — which is what
    "Halaman 2", "Halaman selanjutnya", "Selanjutnya" and "Next" paginators point to. Links to other
    articles are ignored even when labelled "Selanjutnya". One-page views (`page=all`) are not
    listed (see `one_page_url`). Call again on each fetched page to follow long chains.
    """
    try:
        if not isinstance(html, str) or not html:
            return []
        here = _page_key(url)
        if here is None:
            return []
        base, current = here[0], here[1] or 1
        netloc = urlsplit(base).netloc
        found: dict[str, int] = {}
        doc = html[:MAX_HTML_CHARS]
        rel_next: list[str] = []
        for m in _LINK_TAG.finditer(doc[:300_000]):
            a = _attrs(m.group(1))
            if "next" in a.get("rel", "").lower().split() and a.get("href"):
                rel_next.append(a["href"])
        anchors = []
        for m in _A_TAG.finditer(doc):
            a = _attrs(m.group(1))
            href = a.get("href", "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            if "next" in a.get("rel", "").lower().split():
                rel_next.append(href)
            else:
                anchors.append(href)
        for href in rel_next:
            target = canonicalize(urljoin(url, html_lib.unescape(href)))
            key = _page_key(target) if target else None
            if target and key and urlsplit(target).netloc == netloc and target != canonicalize(url):
                number = key[1] if key[0] == base and key[1] else current + 1
                if number > current:
                    found.setdefault(target, number)
        for href in anchors:
            target = canonicalize(urljoin(url, html_lib.unescape(href)))
            if not target:
                continue
            key = _page_key(target)
            if key and key[0] == base and key[1] is not None and key[1] > current:
                found.setdefault(target, key[1])
        by_number: dict[int, str] = {}
        for target, number in sorted(found.items(), key=lambda kv: (kv[1], len(kv[0]))):
            by_number.setdefault(number, target)
        return [by_number[n] for n in sorted(by_number)][:50]
    except Exception as exc:
        log.debug("pagination of %s unreadable: %s", url, exc)
        return []


def one_page_url(url: str, one_page_param: str | None) -> str | None:
    """`url` with the source's one-page-view parameter (e.g. "page=all") set, or None."""
    if not one_page_param:
        return None
    parts = urlsplit(url)
    extra = parse_qsl(one_page_param, keep_blank_values=True)
    names = {k for k, _ in extra}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names] + extra
    return urlunsplit(parts._replace(query=urlencode(query)))


def join_pages(pages: Sequence[ExtractedArticle]) -> ExtractedArticle:
    """One article from its pages in order: first page's URL and title, texts joined, pages summed.

    Paragraphs repeated from an earlier page (a repeated lead or sign-off) are kept once.
    """
    if not pages:
        raise ValueError("join_pages needs at least one page")
    if len(pages) == 1:
        return pages[0]
    first = pages[0]
    seen: set[str] = set()
    lines: list[str] = []
    for page in pages:
        for line in page.text.splitlines():
            if line in seen and len(line) > 40:
                continue
            seen.add(line)
            lines.append(line)
    text = "\n".join(lines)
    return ExtractedArticle(
        url=first.url,
        title=first.title or next((p.title for p in pages if p.title), ""),
        text=text,
        published_at=next((p.published_at for p in pages if p.published_at), None),
        author=next((p.author for p in pages if p.author), None),
        language=next((p.language for p in pages if p.language), None),
        content_hash=content_hash(text),
        pages=sum(p.pages for p in pages),
    )


# ---------------------------------------------------------------- worker processes


def _extract_job(html: str, url: str, cleanup: tuple[str, ...]) -> ExtractedArticle | None:
    return extract_article(html, url, cleanup=cleanup)


def _warm_up() -> None:
    import trafilatura  # noqa: F401  (import once per worker, not per page)

    extract_article("<html><body><article><p>" + "kata " * 40 + "</p></article></body></html>", "http://localhost/")


class ExtractorPool:
    """`extract_article` in `processes` worker processes (CPU-bound work off the event loop).

    `processes=0` runs in the calling process (tests, debugging). A worker that dies is replaced
    and the page retried once. Close with `close()` (or use as a context manager).
    """

    def __init__(self, processes: int = 2) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_up
            )
        return self._pool

    async def extract(self, html: str, url: str, cleanup: Sequence[str] = ()) -> ExtractedArticle | None:
        if self.processes <= 0:
            return extract_article(html, url, cleanup=cleanup)
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            try:
                return await loop.run_in_executor(self._executor(), _extract_job, html, url, tuple(cleanup))
            except BrokenProcessPool:
                log.warning("extractor worker died on %s (attempt %d); restarting the pool", url, attempt)
                self._reset()
        return None

    def _reset(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
