"""models.text: the Sastrawi transformer with protected words, signal words and a stem memo."""

from __future__ import annotations

import pickle

import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks

from models import text
from models.text import IndonesianTextProcessor, analyze, analyze_spans


def test_protected_words_bypass_the_stemmer() -> None:
    terms = analyze("Pemilu di Kecamatan Bekasi: relawan pemenangan dan pengawas di Pesawaran")
    for word in ("pemilu", "kecamatan", "bekasi", "relawan", "pemenangan", "pengawas", "pesawaran"):
        assert word in terms
    assert "milu" not in terms and "camat" not in terms and "bekas" not in terms and "rawan" not in terms


def test_other_words_are_stemmed() -> None:
    assert analyze("dilaporkan berfoto") == ["lapor", "foto"]


def test_signal_words_are_kept_and_stopwords_dropped() -> None:
    terms = analyze("ASN itu tidak netral dan ikut bersama turut memihak pihak dalam kasus yang ada")
    for word in ("tidak", "ikut", "bersama", "turut", "memihak", "pihak", "kasus"):
        assert word in terms
    for stop in ("itu", "dan", "dalam", "yang", "ada"):
        assert stop not in terms


def test_numbers_urls_and_unicode_are_normalised() -> None:
    terms = analyze("Ｐｅｍｉｌｕ 2024 cek https://contoh.id/berita?id=5 atau humas@contoh.go.id")
    assert terms == ["pemilu", "_num_", "cek", "_url_", "_email_"]


def test_spans_keep_the_words_as_written() -> None:
    spans = analyze_spans("Camat DIDUGA ikut Berkampanye")
    assert [(s.term, s.written) for s in spans] == [
        ("camat", "Camat"), ("duga", "DIDUGA"), ("ikut", "ikut"), ("berkampanye", "Berkampanye")
    ]


def test_stem_cache_memoises_tokens() -> None:
    text.clear_stem_cache()
    assert text.stem_cache_info() == 0
    analyze("menghadiri deklarasi dan menghadiri rapat")
    size = text.stem_cache_info()
    assert size >= 2
    assert text._STEM_CACHE["menghadiri"] == "hadir"
    analyze("menghadiri")
    assert text.stem_cache_info() == size


def test_transformer_output_and_no_stemming_option() -> None:
    docs = ["Guru PNS dilaporkan ke Bawaslu", "Harga cabai naik"]  # naik: a Sastrawi stopword
    assert IndonesianTextProcessor().fit(docs).transform(docs) == ["guru pns lapor bawaslu", "harga cabai"]
    assert IndonesianTextProcessor(stem=False).transform(docs)[0] == "guru pns dilaporkan bawaslu"


def test_transformer_rejects_a_single_string() -> None:
    with pytest.raises(ValueError, match="wrap it in a list"):
        IndonesianTextProcessor().transform("satu dokumen")


def test_transformer_clones_and_pickles() -> None:
    proc = IndonesianTextProcessor(extra_protected=("pemekaran",))
    assert clone(proc).get_params() == proc.get_params()
    again = pickle.loads(pickle.dumps(proc))
    assert again.transform(["pemekaran wilayah"]) == ["pemekaran wilayah"]


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_parameters_default_constructible,
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_estimator_cloneable,
        estimator_checks.check_estimator_repr,
        estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
        estimator_checks.check_mixin_order,
        estimator_checks.check_valid_tag_types,
        estimator_checks.check_estimator_tags_renamed,
    ],
    ids=lambda c: c.__name__,
)
def test_sklearn_estimator_checks(check) -> None:  # noqa: ANN001
    # The data-based checks of check_estimator feed numeric arrays, which a text transformer
    # cannot take; the contract checks that apply to it run here.
    check(IndonesianTextProcessor.__name__, IndonesianTextProcessor())
