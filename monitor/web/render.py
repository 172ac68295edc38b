"""Safe rendering helpers for scraped text: everything is escaped before any markup is added."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape


def highlight(text: str, terms: Iterable[str]) -> Markup:
    """`text` escaped, with whole-word, case-insensitive occurrences of `terms` in <mark>.

    Matches are found on the raw text, then every piece (matched or not) goes through `escape`
    before the <mark> tags are put around it, so scraped markup can never reach the page.
    """
    words = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(_word_pattern(w) for w in words), re.IGNORECASE)
    out: list[Markup] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos : m.start()]))
        out.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def _word_pattern(word: str) -> str:
    """`word` as a regex that does not match inside a longer word."""
    head = r"(?<!\w)" if re.match(r"\w", word) else ""
    tail = r"(?!\w)" if re.search(r"\w$", word) else ""
    return head + re.escape(word) + tail


def paragraphs(text: str) -> list[str]:
    """The extracted text split into paragraphs (rendered escaped, one <p> each)."""
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text or "") if p.strip()]


def local_time(value: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    if value is None:
        return "-"
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)
