"""Small HTML builders shared by the crawler tests (fictional people, real regions)."""

from __future__ import annotations


def html_page(body: str, head: str = "", charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<!DOCTYPE html><html lang=\"id\"><head>{meta}{head}</head><body>{body}</body></html>"


ARTICLE_PARAGRAPHS = [
    "MAKASSAR - Badan Pengawas Pemilu Kota Makassar memanggil seorang aparatur sipil negara berinisial "
    "dan berjabatan kepala seksi di salah satu dinas setelah fotonya bersama calon anggota legislatif beredar luas.",
    "Ketua Bawaslu Makassar, Hendra Wiratama Saputra, mengatakan klarifikasi dilakukan pada Senin pagi di kantor "
    "Bawaslu dan yang bersangkutan hadir bersama atasannya.",
    "Menurut Hendra, foto itu diambil dalam acara syukuran warga di Kecamatan Tamalate dan memperlihatkan "
    "simbol jari yang identik dengan nomor urut salah satu partai politik.",
]


def article_html(paragraphs: list[str] | None = None, *, title: str = "Bawaslu Makassar Klarifikasi ASN", extra_body: str = "", head: str = "", charset: str | None = "utf-8") -> str:
    paras = "".join(f"<p>{p}</p>" for p in (paragraphs or ARTICLE_PARAGRAPHS))
    body = (
        '<header><nav><a href="/">Beranda</a> <a href="/politik">Politik</a> <a href="/daerah">Daerah</a></nav></header>'
        f"<main><article><h1>{title}</h1><div class=\"date\">Selasa, 19 Des 2023 14:05 WITA</div>"
        f"<div class=\"content\">{paras}</div></article>{extra_body}</main>"
        "<footer><p>Hak cipta dilindungi undang-undang.</p></footer>"
    )
    return html_page(body, f"<title>{title}</title>{head}", charset)
