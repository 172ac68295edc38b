"""Pure helpers: highlighting escapes every piece first; both languages have every word."""

from __future__ import annotations

from monitor.web.i18n import STRINGS, translator
from monitor.web.render import highlight, paragraphs


def test_highlight_escapes_then_marks_whole_words() -> None:
    out = str(highlight("Camat <b>Budi</b> berfoto bersama paslon; camatnya & CAMAT", ["camat", "berfoto bersama"]))
    assert out == (
        "<mark>Camat</mark> &lt;b&gt;Budi&lt;/b&gt; <mark>berfoto bersama</mark> paslon; camatnya &amp; <mark>CAMAT</mark>"
    )


def test_highlight_never_lets_markup_through() -> None:
    for terms in ([], ["amp"], ["lt"], ["<script>"], ["a.b(c)*"], ["script"]):
        out = str(highlight("<script>alert('x')</script> &amp; a.b(c)*", terms))
        assert "<script>" not in out and "</script>" not in out
        assert out.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert str(highlight("tom &amp; jerry", ["amp"])) == "tom &amp;<mark>amp</mark>; jerry"


def test_paragraphs_split_on_line_breaks() -> None:
    assert paragraphs("satu\n\n dua \nTiga\n") == ["satu", "dua", "Tiga"]
    assert paragraphs("") == []


def test_both_languages_have_every_word() -> None:
    assert set(STRINGS["id"]) == set(STRINGS["en"])
    assert translator("en")("shown", shown=3, total=9) == "Showing 3 of 9 items"
    assert translator("xx")("login") == "Masuk"  # unknown language: Indonesian
