"""Extraction: dates, boilerplate, pagination, canonical links, joining, the worker pool."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from crawl_helpers import article_html

from crawlers.extraction import (
    ExtractorPool,
    canonical_link,
    clean_text,
    content_hash,
    extract_article,
    join_pages,
    next_page_urls,
    one_page_url,
    parse_indonesian_date,
)

WIB, WITA, WIT = (timezone(timedelta(hours=h)) for h in (7, 8, 9))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Selasa, 19 Des 2023 14:05 WIB", datetime(2023, 12, 19, 14, 5, tzinfo=WIB)),
        ("Selasa, 19 Desember 2023 | 14:05 WITA", datetime(2023, 12, 19, 14, 5, tzinfo=WITA)),
        ("Jumat, 5 Januari 2024 - 08.30 WIT", datetime(2024, 1, 5, 8, 30, tzinfo=WIT)),
        ("Diterbitkan 17 Agustus 2024, pukul 10.00 WIB", datetime(2024, 8, 17, 10, 0, tzinfo=WIB)),
        ("Kamis, 21/12/2023 10:30 WIB", datetime(2023, 12, 21, 10, 30, tzinfo=WIB)),
        ("2 Nop 2023", datetime(2023, 11, 2, tzinfo=WIB)),
        ("Senin, 4 Mar 2024 09:15:30", datetime(2024, 3, 4, 9, 15, 30, tzinfo=WIB)),
        ("2024-02-14 13:00", datetime(2024, 2, 14, 13, 0, tzinfo=WIB)),
        ("Rabu, 14 Feb 2024 13:00 GMT+8", datetime(2024, 2, 14, 13, 0, tzinfo=WITA)),
    ],
)
def test_indonesian_dates(text, expected):
    parsed = parse_indonesian_date(text)
    assert parsed == expected and parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["", "tanpa tanggal", "31 Februari 2024", "19 Des 23", "Halaman 2 dari 3"])
def test_not_dates(text):
    assert parse_indonesian_date(text) is None


def test_boilerplate_lines_are_removed_and_body_kept():
    raw = "\n".join(
        [
            "KENDARI - Seorang guru PPPK di Kendari diduga mengunggah dukungan untuk calon bupati.",
            "Baca juga: Bawaslu Sultra Terima 12 Laporan",
            "BACA JUGA : Pj Gubernur Ingatkan ASN",
            "ADVERTISEMENT",
            "SCROLL TO CONTINUE WITH CONTENT",
            "Unggahan itu dihapus setelah viral. Baca juga: Judul Lain yang Disisipkan",
            "Simak Video \"Bawaslu Temukan Pelanggaran\"",
            "[Gambas:Video 20detik]",
            "Ikuti kami di Google News",
            "Ikuti berita terkini dari Kabar Sultra di Google News, klik di sini",
            "Bagikan: Facebook Twitter WhatsApp",
            "Facebook | Twitter | WhatsApp",
            "Editor: Larasati Wulandari",
            "Penulis: Yusuf Mahendra",
            "Pewarta: Yusuf Mahendra",
            "Artikel ini telah tayang di KabarSultra.id dengan judul ...",
            "Copyright © 2023 Kabar Sultra",
            "Halaman 2 dari 3",
            "Selanjutnya",
            "Bawaslu berjanji menindaklanjuti laporan itu.",
        ]
    )
    assert clean_text(raw) == (
        "KENDARI - Seorang guru PPPK di Kendari diduga mengunggah dukungan untuk calon bupati.\n"
        "Unggahan itu dihapus setelah viral.\n"
        "Bawaslu berjanji menindaklanjuti laporan itu."
    )


def test_body_sentences_that_mention_editors_or_sharing_survive():
    raw = "Editor senior media lokal, Bayu Setiawan Putra, ikut bersaksi.\nIa membagikan foto itu di Facebook pada Senin malam."
    assert clean_text(raw) == raw


def test_per_source_cleanup_rules_are_added():
    raw = "Isi berita yang penting sekali.\nKLIK DI SINI UNTUK BERLANGGANAN\nPenutup berita."
    assert clean_text(raw, [r"^KLIK DI SINI"]) == "Isi berita yang penting sekali.\nPenutup berita."
    assert clean_text(raw, ["(unbalanced"]) == raw  # a bad rule is ignored, with a warning


def test_extract_article_fields():
    html = article_html(head='<link rel="canonical" href="https://kabar.example.id/berita/77/klarifikasi?utm_source=x"><meta name="author" content="Nurul Hidayati">')
    article = extract_article(html, "https://kabar.example.id/berita/77/klarifikasi?utm_source=wa")
    assert article is not None
    assert article.url == "https://kabar.example.id/berita/77/klarifikasi"
    assert article.title == "Bawaslu Makassar Klarifikasi ASN"
    assert article.published_at == datetime(2023, 12, 19, 14, 5, tzinfo=WITA)
    assert article.author == "Nurul Hidayati"
    assert article.language == "id"
    assert article.text.startswith("MAKASSAR - Badan Pengawas Pemilu")
    assert "Beranda" not in article.text and "Hak cipta" not in article.text
    assert article.content_hash == content_hash(article.text)


def test_meta_published_time_beats_visible_date():
    html = article_html(head='<meta property="article:published_time" content="2024-11-20T09:00:00+08:00">')
    assert extract_article(html, "https://x.example.id/a").published_at == datetime(2024, 11, 20, 9, 0, tzinfo=WITA)


def test_pages_without_article_give_none():
    assert extract_article("<html><body><nav>Beranda</nav></body></html>", "https://x.example.id/") is None
    assert extract_article("", "https://x.example.id/") is None


def test_content_hash_ignores_whitespace():
    assert content_hash("a  b\n c") == content_hash("a b c")


# ---------------------------------------------------------------- pagination and canonical


def test_next_pages_from_numbered_paginator_in_order():
    html = '<div class="paging"><a href="?page=3">3</a> <a href="?page=2">2</a> <a href="?page=2">Halaman selanjutnya</a> <a href="?page=all">Tampilkan semua</a></div>'
    assert next_page_urls(html, "https://k.example.id/read/2023/12/19/asn") == [
        "https://k.example.id/read/2023/12/19/asn?page=2",
        "https://k.example.id/read/2023/12/19/asn?page=3",
    ]


def test_next_page_from_rel_next_and_path_pages():
    html = '<head><link rel="next" href="https://w.example.id/2023/12/asn-pamekasan/2/"></head><a href="/2023/12/asn-pamekasan/3/">3</a>'
    assert next_page_urls(html, "https://w.example.id/2023/12/asn-pamekasan/") == [
        "https://w.example.id/2023/12/asn-pamekasan/2/",
        "https://w.example.id/2023/12/asn-pamekasan/3/",
    ]


def test_selanjutnya_to_another_article_is_not_a_page():
    html = '<a href="/berita/999/lain">Selanjutnya</a><a href="/berita/555/lain?page=2">Next</a>'
    assert next_page_urls(html, "https://k.example.id/berita/123/asn") == []


def test_from_page_two_only_later_pages():
    html = '<a href="?page=1">1</a><a href="?page=2">2</a><a href="?page=3">3</a>'
    assert next_page_urls(html, "https://k.example.id/berita/123/asn?page=2") == ["https://k.example.id/berita/123/asn?page=3"]


def test_one_page_url():
    assert one_page_url("https://k.example.id/read/1?page=2", "page=all") == "https://k.example.id/read/1?page=all"
    assert one_page_url("https://k.example.id/read/1", None) is None


def test_canonical_link():
    html = '<head><link href="/berita/1/asn?utm_medium=social#x" rel="canonical"></head>'
    assert canonical_link(html, "https://k.example.id/amp/berita/1/asn") == "https://k.example.id/berita/1/asn"
    assert canonical_link("<p>no head</p>", "https://k.example.id/x") is None


def test_join_pages():
    one = extract_article(article_html(["Bagian pertama dari berita tentang kepala dinas yang hadir di acara deklarasi calon."]), "https://k.example.id/a")
    two = extract_article(article_html(["Bagian kedua: kepala dinas itu membantah dan menyebut hanya silaturahmi biasa."]), "https://k.example.id/a?page=2")
    joined = join_pages([one, two])
    assert joined.pages == 2 and joined.url == one.url and joined.title == one.title
    assert joined.text == one.text + "\n" + two.text
    assert joined.content_hash == content_hash(joined.text)
    with pytest.raises(ValueError):
        join_pages([])


def test_extractor_pool_matches_in_process_extraction():
    html = article_html()

    async def go():
        pool = ExtractorPool(processes=1)
        try:
            return await asyncio.gather(*(pool.extract(html, "https://k.example.id/a") for _ in range(3)))
        finally:
            pool.close()

    results = asyncio.run(go())
    assert results == [extract_article(html, "https://k.example.id/a")] * 3
