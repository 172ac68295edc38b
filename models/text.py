"""Indonesian text processing for the classifier: a scikit-learn transformer plus picklable helpers.

`IndonesianTextProcessor` turns raw article text into a space-joined string of terms:

1. Unicode NFKC normalisation and lowercasing;
2. tokenising into words, numbers, URLs and e-mail addresses (numbers -> `_num_`, URLs -> `_url_`,
   e-mail addresses -> `_email_`);
3. dropping Indonesian stopwords (PySastrawi's list) EXCEPT the words that carry signal here
   (tidak, tak, bersama, ikut, turut, memihak, pihak, kasus, jangan, hanya, ...: see `SIGNAL_WORDS`);
4. stemming with PySastrawi through a process-wide memo over tokens (the stemmer is slow per call;
   the memo makes a warm cache nearly free), except for protected words that PySastrawi mangles
   (pemilu -> milu, kecamatan -> camat, relawan -> rawan, bekasi -> bekas): election and office
   terms (`PROTECTED_TERMS`) and every word of the place names in `models/data/wilayah/`.

The tokenizer and preprocessing are module-level functions so that fitted pipelines pickle and
serialise with skops. `analyze_spans` gives each term with the words as written, for explanations.

Config keys read: none (the classifier settings live in `models.training`).
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from sklearn.base import BaseEstimator, TransformerMixin

DATA_DIR = Path(__file__).resolve().parent / "data"
WILAYAH_DIR = DATA_DIR / "wilayah"

NUM_TOKEN = "_num_"
URL_TOKEN = "_url_"
EMAIL_TOKEN = "_email_"

# Words PySastrawi's stopword list drops but that separate incidents from appeals, pledges and
# statistics: negation, "together with", "took part", "taking sides", case, denials, appeals.
SIGNAL_WORDS = frozenset(
    ["tidak", "tak", "tidaklah", "enggak", "bukan", "bukanlah", "belum", "bersama", "bersama-sama", "ikut", "turut", "memihak", "pihak", "pihaknya", "sepihak", "kasus", "masalah", "jangan", "janganlah", "agar", "supaya", "harus", "harusnya", "seharusnya", "hendaknya", "diminta", "meminta", "mengingatkan", "diingatkan", "ingat", "hanya", "hanyalah", "cuma", "sekadar", "bapak", "ibu", "bung", "pak", "baru", "datang", "mendatangi", "didatangkan", "terlihat", "tampak", "kelihatan", "pernah", "sudah", "telah", "sempat", "akan", "bakal", "mendatang", "jumlah", "berjumlah", "sejumlah", "terbanyak", "sebanyak", "pertama", "kedua", "dilakukan", "melakukan", "terjadi", "terjadinya", "kerja", "bekerja", "tempat", "setempat"]
)

# Election, office and institution terms that must reach the vectorizer as written: PySastrawi
# over-stems most of them (pemilu -> milu, pemenangan -> menang, pengawas -> awas, ...).
PROTECTED_TERMS = frozenset(
    ["pemilu", "pemilihan", "pilkada", "pilpres", "pileg", "pilgub", "pilwalkot", "pilbup", "pilkades", "pemilukada", "kampanye", "berkampanye", "dikampanyekan", "deklarasi", "pendeklarasian", "pencalonan", "pencapresan", "nyaleg", "nyapres", "relawan", "pemenangan", "pengawas", "pengawasan", "pengawasnya", "pemantau", "pemantauan", "pelapor", "terlapor", "pelaporan", "penanganan", "pelanggaran", "dugaan", "temuan", "klarifikasi", "rekomendasi", "sanksi", "penjatuhan", "kecamatan", "kelurahan", "kabupaten", "perkotaan", "kota", "desa", "pemerintahan", "pemerintah", "pemda", "pemkab", "pemkot", "pemprov", "camat", "lurah", "sekda", "sekcam", "kades", "kadis", "kasek", "kadisdik", "kaban", "kabag", "kabid", "kasi", "kasubag", "kepala", "penjabat", "pj", "plt", "pejabat", "aparatur", "aparat", "kepegawaian", "pegawai", "kepegawaiannya", "asn", "pns", "pppk", "honorer", "cpns", "guru", "dosen", "bidan", "perawat", "penyuluh", "bawaslu", "panwaslu", "panwascam", "panwaslih", "panwaslucam", "gakkumdu", "kasn", "bkn", "bkd", "bkpsdm", "kemenpanrb", "menpan", "kpu", "kpud", "kpps", "ppk", "pps", "dkpp", "inspektorat", "ombudsman", "netral", "netralitas", "ketidaknetralan", "partisan", "politik", "berpolitik", "perpolitikan", "paslon", "capres", "cawapres", "caleg", "cagub", "cawagub", "cabup", "cawabup", "cawalkot", "calon", "pasangan", "parpol", "partai", "timses", "tim", "sukses", "medsos", "facebook", "instagram", "tiktok", "whatsapp", "twitter", "youtube", "viral", "beredar", "unggahan", "postingan", "status", "like", "ngelike", "tni", "polri", "polisi", "prajurit", "babinsa", "bhabinkamtibmas"]
)

_TOKEN_RE = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"']+)"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<num>\d+(?:[.,:/]\d+)*)"
    r"|(?P<word>[^\W\d_]+(?:[-'][^\W\d_]+)*)",
)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n+")


class Span(NamedTuple):
    """One term with where it came from: `written` is the text as it appears (after NFKC)."""

    term: str
    written: str
    start: int
    end: int


# ---------------------------------------------------------------- resources (loaded once)


@functools.cache
def gazetteer_words() -> frozenset[str]:
    """Lowercased words of every province, kabupaten/kota and kecamatan name in the gazetteer."""
    words: set[str] = set()
    for name in ("provinces.csv", "regencies.csv", "districts.csv"):
        path = WILAYAH_DIR / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for m in _TOKEN_RE.finditer(unicodedata.normalize("NFKC", row["name"]).lower()):
                    if m.lastgroup == "word" and len(m.group()) >= 3:
                        words.add(m.group())
    return frozenset(words)


@functools.cache
def protected_words() -> frozenset[str]:
    """Words that bypass the stemmer: election and office terms, signal words, place names."""
    return PROTECTED_TERMS | SIGNAL_WORDS | gazetteer_words()


@functools.cache
def stopwords() -> frozenset[str]:
    """PySastrawi's stopword list without the signal words."""
    from Sastrawi.StopWordRemover.StopWordRemoverFactory import StopWordRemoverFactory

    return frozenset(StopWordRemoverFactory().get_stop_words()) - SIGNAL_WORDS - PROTECTED_TERMS


@functools.cache
def _stemmer():  # noqa: ANN202 - PySastrawi has no types
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    stemmer = StemmerFactory().create_stemmer(isDev=False)
    # The CachedStemmer wraps the real one; our own dict memo replaces its cache.
    return getattr(stemmer, "delegatedStemmer", stemmer)


_STEM_CACHE: dict[str, str] = {}
# Raw token as written -> term (None = stopword), per stemming on/off: one lookup per token.
_TERM_CACHE: dict[bool, dict[str, str | None]] = {True: {}, False: {}}
_TERM_CACHE_MAX = 2_000_000
_MISSING = object()


def stem(word: str) -> str:
    """PySastrawi stem of one lowercased word, memoised process-wide."""
    hit = _STEM_CACHE.get(word)
    if hit is None:
        hit = _stemmer().stem(word) or word
        _STEM_CACHE[word] = hit
    return hit


def stem_cache_info() -> int:
    """Number of memoised words."""
    return len(_STEM_CACHE)


def clear_stem_cache() -> None:
    _STEM_CACHE.clear()
    for cache in _TERM_CACHE.values():
        cache.clear()


# ---------------------------------------------------------------- picklable text functions


def normalize(text: str) -> str:
    """NFKC normalisation (full-width letters, ligatures, odd spaces) without changing case."""
    return unicodedata.normalize("NFKC", text or "")


def split_terms(doc: str) -> list[str]:
    """Tokenizer for the vectorizer: the processor already joined terms with single spaces."""
    return doc.split()


def char_preprocess(doc: str) -> str:
    """Identity preprocessor for the character vectorizer (input is already processed)."""
    return doc


def _term(kind: str, token: str, *, do_stem: bool, protected: frozenset[str], stop: frozenset[str]) -> str | None:
    if kind == "word":
        low = token.lower()
        if low in stop or len(low) < 2:
            return None
        if not do_stem or low in protected:
            return low
        if "-" in low:
            # Reduplication (foto-foto, masing-masing) stems to the root; other compounds per part.
            head, _, tail = low.partition("-")
            if head == tail:
                return head if head in protected else stem(head)
        return stem(low)
    if kind == "num":
        return NUM_TOKEN
    if kind == "url":
        return URL_TOKEN
    return EMAIL_TOKEN


def _analyze_lists(
    text: str, do_stem: bool = True, extra_protected: Iterable[str] = ()
) -> tuple[list[str], list[int], list[int]]:
    """Terms with start and end offsets in the NFKC text (the fast path behind `analyze_spans`)."""
    terms: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    protected = protected_words()
    if extra_protected:
        protected = protected | frozenset(w.lower() for w in extra_protected)
    stop = stopwords()
    cache = _TERM_CACHE[do_stem] if not extra_protected else {}
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "word":
            token = m.group()
            term = cache.get(token, _MISSING)
            if term is _MISSING:
                term = _term("word", token, do_stem=do_stem, protected=protected, stop=stop)
                if len(cache) < _TERM_CACHE_MAX:
                    cache[token] = term
            if term is None:
                continue
        else:
            term = NUM_TOKEN if kind == "num" else URL_TOKEN if kind == "url" else EMAIL_TOKEN
        terms.append(term)  # type: ignore[arg-type]
        starts.append(m.start())
        ends.append(m.end())
    return terms, starts, ends


def analyze_spans(text: str, *, do_stem: bool = True, extra_protected: Iterable[str] = ()) -> list[Span]:
    """Every kept term of `text` with the words as written and their character offsets."""
    text = normalize(text)
    terms, starts, ends = _analyze_lists(text, do_stem, tuple(extra_protected))
    return [Span(t, text[a:b], a, b) for t, a, b in zip(terms, starts, ends, strict=True)]


def analyze(text: str, *, do_stem: bool = True, extra_protected: Iterable[str] = ()) -> list[str]:
    """The terms of `text` (what the vectorizer sees)."""
    return _analyze_lists(normalize(text), do_stem, tuple(extra_protected))[0]


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of the NFKC-normalised text, blank ones left out."""
    text = normalize(text)
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE_END_RE.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def join_document(title: str, text: str) -> str:
    """One document from title and body: the title is its own first sentence."""
    title = (title or "").strip()
    text = (text or "").strip()
    if not title:
        return text
    if title[-1] not in ".!?":
        title += "."
    return f"{title}\n{text}"


# ---------------------------------------------------------------- the transformer


class IndonesianTextProcessor(TransformerMixin, BaseEstimator):
    """Raw Indonesian text -> space-joined normalised, stopword-filtered, stemmed terms.

    Parameters
    ----------
    stem : bool, default=True
        Stem with PySastrawi (protected words are never stemmed).
    extra_protected : tuple of str, default=()
        Further words to keep as written (lowercased), on top of the election/office terms and
        the gazetteer place names.

    Stateless: `fit` only records `n_features_in_`-free input checks and returns self. Input is
    an iterable of strings (one document each); output is a list of strings.
    """

    def __init__(self, stem: bool = True, extra_protected: tuple[str, ...] = ()) -> None:
        self.stem = stem
        self.extra_protected = extra_protected

    def fit(self, X: Iterable[str], y: object = None) -> IndonesianTextProcessor:  # noqa: N803
        _check_docs(X)
        self.is_fitted_ = True
        return self

    def transform(self, X: Iterable[str]) -> list[str]:  # noqa: N803
        docs = _check_docs(X)
        return [" ".join(analyze(d, do_stem=self.stem, extra_protected=self.extra_protected)) for d in docs]

    def __sklearn_is_fitted__(self) -> bool:
        return True  # stateless: usable without fit

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags

    def get_feature_names_out(self, input_features: object = None) -> list[str]:
        return ["text"]


def _check_docs(X: Iterable[str]) -> list[str]:  # noqa: N803
    if isinstance(X, str):
        raise ValueError("Expected an iterable of documents (strings), got a single string; wrap it in a list.")
    docs = list(X)
    for i, d in enumerate(docs):
        if not isinstance(d, str):
            raise ValueError(f"Document {i} is {type(d).__name__}, expected str.")
    return docs


def iter_words(text: str) -> Iterator[str]:
    """Plain lowercased word tokens (no stopwords removed, no stemming), for statistics."""
    for m in _TOKEN_RE.finditer(normalize(text).lower()):
        if m.lastgroup == "word":
            yield m.group()
