"""The model trained from the shipped corpus (once per session, via the shared fixture)."""

from __future__ import annotations

INCIDENT = (
    "Camat Diduga Ikut Deklarasi Paslon, Bawaslu Panggil",
    "Camat Sukamaju, Kabupaten Bekasi, Hendra Wibowo Saputra, diduga menghadiri deklarasi pasangan calon "
    "bupati pada Minggu malam. Foto dirinya berpose dengan salam dua jari bersama paslon beredar di grup "
    "WhatsApp warga. Bawaslu Kabupaten Bekasi memanggil yang bersangkutan untuk klarifikasi.",
)
APPEAL = (
    "Pj Bupati Ingatkan ASN Jaga Netralitas",
    "Penjabat Bupati mengingatkan seluruh aparatur sipil negara agar menjaga netralitas selama tahapan "
    "Pilkada dan tidak mengunggah dukungan kepada calon di media sosial, dalam apel pagi di halaman kantor bupati.",
)


def test_shipped_model_meets_the_corpus_figures(shipped_model) -> None:  # noqa: ANN001
    m = shipped_model.metadata["metrics"]
    assert m["average_precision"] >= 0.95
    assert m["recall_at_precision_0.85"] >= 0.90
    assert m["false_flags_per_1000_background"] <= 2.0
    assert shipped_model.metadata["training_seconds"] < 60


def test_shipped_model_separates_an_incident_from_an_appeal(shipped_model) -> None:  # noqa: ANN001
    incident, appeal = shipped_model.score_many([INCIDENT, APPEAL])
    assert incident.flagged and incident.probability > appeal.probability
    assert not appeal.flagged
    assert incident.evidence_sentences and incident.top_terms
