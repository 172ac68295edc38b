"""A small written corpus for the classifier tests (every person fictional)."""

from __future__ import annotations

import json
import random
from pathlib import Path

INCIDENT = [
    "Camat {place} {name} diduga ikut menghadiri deklarasi pasangan calon bupati pada Sabtu malam.",
    "Foto {name}, seorang guru PNS di {place}, berpose dengan salam dua jari bersama caleg beredar di Facebook.",
    "Bawaslu Kabupaten {place} memanggil {name}, kepala dinas pendidikan, untuk klarifikasi dugaan pelanggaran netralitas.",
    "Lurah {name} kedapatan membagikan sembako bergambar calon wali kota kepada warga {place}.",
    "Sekretaris daerah {place} {name} terekam ikut berkampanye di panggung paslon nomor urut dua.",
    "Video {name}, pegawai PPPK di {place}, mengajak warga memilih calon tertentu viral di TikTok.",
    "Bawaslu merekomendasikan sanksi kepada {name} karena terbukti tidak netral dalam Pilkada {place}.",
    "{name} membantah dan menyebut kehadirannya hanya silaturahmi, bukan kampanye, kata warga {place}.",
    "Oknum ASN di {place} bernama {name} tercatat menjadi anggota tim sukses salah satu paslon.",
    "Kepala sekolah {name} di {place} diduga menggunakan mobil dinas untuk mengantar relawan pemenangan.",
]
NEGATIVE = [
    "Penjabat Bupati {place} {name} mengingatkan seluruh ASN agar menjaga netralitas selama tahapan pemilu.",
    "Ratusan pegawai di {place} mengikuti apel dan ikrar netralitas ASN yang dipimpin {name}.",
    "Bawaslu {place} menggelar sosialisasi pengawasan partisipatif bersama tokoh masyarakat, kata {name}.",
    "Harga cabai rawit di pasar {place} naik menjadi Rp80.000 per kilogram, ujar pedagang {name}.",
    "Tim sepak bola {place} menang 2-1 dalam laga persahabatan yang disaksikan {name}.",
    "Banjir merendam puluhan rumah warga di {place} setelah hujan deras semalam, kata {name}.",
    "Pemerintah daerah {place} membuka pendaftaran CPNS dan PPPK tahun ini, jelas {name}.",
    "Kapolres {place} {name} menegaskan anggota Polri wajib netral dalam pilkada.",
    "Kepala desa di {place} diminta tidak berpihak, kata {name} dalam rapat koordinasi.",
    "Festival budaya {place} menampilkan tari tradisional dan kuliner khas daerah, kata {name}.",
]
FILLER = [
    "Cuaca di {place} cerah berawan sepanjang hari.",
    "Pasar tradisional di pusat kota ramai dikunjungi pembeli sejak pagi.",
    "Jalan provinsi yang menghubungkan {place} dengan ibu kota kabupaten sedang diperbaiki.",
    "Warga berharap pembangunan terus berjalan dengan baik tahun depan.",
    "Kegiatan itu berlangsung hingga sore hari di aula kantor.",
    "Sejumlah wartawan turut meliput acara tersebut.",
]
PLACES = ["Bekasi", "Pesawaran", "Bone", "Sambas", "Jeneponto", "Lombok Timur", "Halmahera Barat", "Sleman"]
FIRST = ["Ahmad", "Siti", "Rudi", "Wayan", "Dewi", "Yohanes", "Nur", "Hendra", "Rina", "Made"]
LAST = ["Saputra", "Rahmawati", "Simanjuntak", "Pratama", "Lestari", "Wibowo", "Nasution", "Halim"]


def make_corpus(n_per_label: int = 24, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for label, pool in ((1, INCIDENT), (0, NEGATIVE)):
        for i in range(n_per_label):
            place = rng.choice(PLACES)
            sents = rng.sample(pool, 3) + rng.sample(FILLER, 2)
            rng.shuffle(sents)
            fill = {"place": place, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}"}
            text = " ".join(s.format(**fill) for s in sents)
            records.append(
                {
                    "id": f"{'inc' if label else 'neg'}-{i}",
                    "title": sents[0].format(**fill)[:60],
                    "text": text,
                    "label": label,
                    "category": "incident" if label else ("ordinary" if i % 2 else "appeal"),
                    "difficulty": "easy" if label else ("background" if i % 2 else "hard"),
                    "province": "Jawa Barat",
                    "source": "test",
                }
            )
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path
