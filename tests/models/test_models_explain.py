"""Explanations: top terms as written, with their contributions, and evidence sentences."""

from __future__ import annotations

from pathlib import Path

from models.registry import Registry

TEXT = (
    "Pasar tradisional di pusat kota ramai dikunjungi pembeli sejak pagi. "
    "Foto Rina Lestari, seorang guru PNS di Sambas, berpose dengan salam dua jari bersama caleg beredar di Facebook. "
    "Cuaca cerah berawan sepanjang hari."
)


def test_top_terms_are_words_as_written_strongest_first(small_registry: Path) -> None:
    score = Registry(small_registry).load().score("Guru Berpose Dengan Caleg", TEXT)
    assert 1 <= len(score.top_terms) <= 10
    values = [v for _, v in score.top_terms]
    assert values == sorted(values, reverse=True) and all(v > 0 for v in values)
    doc = "Guru Berpose Dengan Caleg.\n" + TEXT
    for written, _ in score.top_terms:
        assert written in doc, written  # as written, not stemmed or lowercased


def test_evidence_sentences_come_from_the_article(small_registry: Path) -> None:
    score = Registry(small_registry).load().score("", TEXT)
    assert 1 <= len(score.evidence_sentences) <= 3
    assert score.evidence_sentences[0].startswith("Foto Rina Lestari")
    for s in score.evidence_sentences:
        assert s in TEXT


def test_score_many_matches_score(small_registry: Path) -> None:
    model = Registry(small_registry).load()
    items = [("Guru Berpose", TEXT), ("Harga cabai", "Harga cabai di pasar naik.")]
    many = model.score_many(items)
    assert [s.probability for s in many] == [model.score(*i).probability for i in items]
    assert model.score_many([]) == []
