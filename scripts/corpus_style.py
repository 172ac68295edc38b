"""How the written corpus reads next to real news: `python scripts/corpus_style.py`.

Prints, side by side, the share of articles (%) with each style marker of NLP-NOTES' "How real
reports read" table (and a few more) in the corpus's incidents and negatives and in the real
set's texts (`var/realset/texts.jsonl`, else `texts_*.jsonl`, gathered per models/realset/README.md;
pages marked unsure are left out; columns stay empty when the texts are missing). A `!` marks a gap of more than 10 points between written and real.

Options: --corpus DIR (default models/corpus), --real GLOB (default var/realset/texts.jsonl),
--markdown (a Markdown table instead of aligned text).
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import statistics
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GAP = 10.0

Rx = Callable[[str], bool]


def rx(pattern: str, flags: int = re.IGNORECASE) -> Rx:
    compiled = re.compile(pattern, flags)
    return lambda text: bool(compiled.search(text))


# A dateline ("BANDA ACEH (ANTARA) -", "Sukoharjo, Gatra.com-", "Jakarta:", "SERANG, (KB).-") at the
# start of a line within the first 300 characters (after any headline or navigation lines).
_DATELINE = re.compile(
    r"(?m)^\s*[A-Z][A-Za-z.]*(?:[ -][A-Z][A-Za-z.]*){0,3}\s*(?:,\s*[\w. ]{2,30}?)?\s*(?:,?\s*\([^)\n]{2,30}\))?\s*\.?\s*(?:--?|–|—|:)"
)


def has_dateline(text: str) -> bool:
    return bool(_DATELINE.search(text[:300]))


# (name, test, source): "notes" = the NLP-NOTES table, "extra" = markers found since.
MARKERS: list[tuple[str, Rx, str]] = [
    ('person as initials ("berinisial AB")', rx(r"\b(?:ber)?inisial\b|\b[A-Z]{2,3}\s?\(\d{2}\)", 0), "notes"),
    ('Bawaslu "klarifikasi"', rx(r"klarifikasi"), "notes"),
    ("KASN named", rx(r"\bKASN\b|Komisi Aparatur Sipil Negara", 0), "notes"),
    ('"diduga"', rx(r"\bdiduga\b"), "notes"),
    ('"oknum"', rx(r"\boknum\b"), "notes"),
    ('"tidak netral" / "tak netral"', rx(r"\b(?:tidak|tak)\s+netral"), "notes"),
    ('"viral" / "beredar"', rx(r"\bviral\b|\bberedar"), "notes"),
    ("social media (medsos, Facebook, WhatsApp, TikTok)", rx(r"medsos|media sosial|facebook|whatsapp|tiktok|instagram|\bFB\b|\bWA\b|twitter"), "notes"),
    ("dateline near the top (no mid-story start)", has_dateline, "extra"),
    ('page furniture ("Baca juga", share, scroll)', rx(r"baca juga|baca:|simak|scroll to|advertisement|bagikan|share:|editor:|pewarta:|copyright|©"), "extra"),
    ('denial ("hanya silaturahmi", "membantah")', rx(r"membantah|bantah|hanya silaturahmi|tidak benar|hoaks|klarifikasi dari"), "extra"),
    ("informal/regional words (kades, kadis, nyaleg)", rx(r"\b(?:ngelike|nge-like|nyaleg|nyapres|kades|kadis|kasek|kadisdik|pj\.?|gaes|ngopi)\b"), "extra"),
    ("BKN named", rx(r"\bBKN\b|Badan Kepegawaian Negara", 0), "extra"),
    ("PP 94/2021 or UU ASN cited", rx(r"PP\s*(?:No(?:mor)?\.?\s*)?94|UU\s*(?:No(?:mor)?\.?\s*)?(?:5|20)\s*(?:/|Tahun)\s*20(?:14|23)"), "extra"),
    ('"netralitas" at all', rx(r"netralitas"), "extra"),
    ('statistics ("sebanyak N ASN", "kasus")', rx(r"sebanyak\s+\d+|\d+\s+(?:kasus|laporan|ASN|pegawai)"), "extra"),
]


def _load(paths: list[Path]) -> list[dict]:
    out = []
    for p in paths:
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and isinstance(rec.get("text"), str) and not rec.get("unsure"):
                    out.append(rec)
    return out


def _is_ordinary(rec: dict) -> bool:
    return rec.get("category") == "ordinary" or rec.get("difficulty") == "background"


def groups(corpus: Path, real_glob: str) -> dict[str, list[dict]]:
    written = _load(sorted(corpus.glob("*.jsonl")))
    real = _load([Path(p) for p in sorted(glob.glob(real_glob))])
    out = {
        "written incidents": [r for r in written if r.get("label") == 1],
        "real incidents": [r for r in real if r.get("label") == 1],
        "written hard neg.": [r for r in written if r.get("label") == 0 and not _is_ordinary(r)],
        "real hard neg.": [r for r in real if r.get("label") == 0 and not _is_ordinary(r)],
        "written ordinary": [r for r in written if r.get("label") == 0 and _is_ordinary(r)],
        "real ordinary": [r for r in real if r.get("label") == 0 and _is_ordinary(r)],
    }
    return out


def _share(recs: list[dict], test: Rx) -> float | None:
    if not recs:
        return None
    return 100.0 * sum(1 for r in recs if test(r["text"])) / len(recs)


def _netral_rate(recs: list[dict]) -> float | None:
    if not recs:
        return None
    rates = [1000 * len(re.findall(r"netral", r["text"], re.I)) / max(1, len(r["text"].split())) for r in recs]
    return statistics.mean(rates)


def _median_words(recs: list[dict]) -> float | None:
    return statistics.median(len(r["text"].split()) for r in recs) if recs else None


def table(g: dict[str, list[dict]]) -> tuple[list[str], list[list[str]], int]:
    pairs = [("written incidents", "real incidents"), ("written hard neg.", "real hard neg."), ("written ordinary", "real ordinary")]
    header = ["marker"]
    for w, r in pairs:
        header += [w, r, "gap"]
    rows = []
    gaps = 0

    def cells(a: float | None, b: float | None, fmt: str, limit: float | None) -> list[str]:
        nonlocal gaps
        sa = "-" if a is None else format(a, fmt)
        sb = "-" if b is None else format(b, fmt)
        if a is None or b is None:
            return [sa, sb, ""]
        gap = a - b
        flag = ""
        if limit is not None and abs(gap) > limit:
            flag = " !"
            gaps += 1
        return [sa, sb, f"{gap:+{fmt}}{flag}"]

    for name, test, _src in MARKERS:
        row = [name]
        for w, r in pairs:
            row += cells(_share(g[w], test), _share(g[r], test), ".0f", GAP)
        rows.append(row)
    row = ["netral* per 1,000 words (mean)"]
    for w, r in pairs:
        row += cells(_netral_rate(g[w]), _netral_rate(g[r]), ".1f", None)
    rows.append(row)
    row = ["median length (words)"]
    for w, r in pairs:
        row += cells(_median_words(g[w]), _median_words(g[r]), ".0f", None)
    rows.append(row)
    row = ["articles"]
    for w, r in pairs:
        row += [str(len(g[w])), str(len(g[r])), ""]
    rows.append(row)
    return header, rows, gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "models" / "corpus")
    default_real = ROOT / "var" / "realset" / "texts.jsonl"
    parser.add_argument("--real", default=str(default_real if default_real.exists() else ROOT / "var" / "realset" / "texts_*.jsonl"))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    g = groups(args.corpus, args.real)
    if not g["real incidents"] and not g["real ordinary"]:
        print(f"note: no real-set texts at {args.real}: only the written columns are filled")
    header, rows, gaps = table(g)
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            print("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
    print(f"\nshares of articles in %; '!' = written and real differ by more than {GAP:.0f} points ({gaps} such cells)")


if __name__ == "__main__":
    main()
