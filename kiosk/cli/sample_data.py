"""A realistic small library, generated deterministically.

Used by ``kiosk demo`` (the bundled ``data/sample_catalog.csv`` is this
module's output), by benchmarks that need large catalogues, and by tests.
Rows follow SLiMS's item export: the same columns, in the same order.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiosk.slims.export import COLUMNS

LOCATIONS = ("Rak Umum", "Referensi", "Fiksi", "Koleksi Anak")
_SUBJECTS = {
    "000": ("Ilmu Komputer", "Computing", "Pemrograman Python", "Basis Data", "Jaringan"),
    "100": ("Filsafat", "Psikologi Pendidikan", "Etika", "Logika Dasar"),
    "200": ("Tafsir Al-Qur'an", "Sejarah Gereja", "Fikih Ibadah", "Studi Agama-agama"),
    "300": ("Sosiologi", "Hukum Perdata", "Ekonomi Mikro", "Pendidikan Anak", "Statistika"),
    "400": ("Tata Bahasa Indonesia", "English Grammar", "Kamus Jawa", "Linguistik"),
    "500": ("Matematika Diskrit", "Fisika Dasar", "Kimia Organik", "Biologi Sel", "Ekologi"),
    "600": ("Kesehatan Masyarakat", "Teknik Sipil", "Pertanian", "Resep Masakan Nusantara"),
    "700": ("Seni Rupa", "Musik Gamelan", "Fotografi", "Arsitektur Tropis", "Sepak Bola"),
    "800": ("Sastra Indonesia", "Puisi", "Kritik Sastra", "Drama"),
    "900": ("Sejarah Indonesia", "Geografi", "Biografi Tokoh", "Sejarah Asia Tenggara"),
}
_AUTHORS = (
    "Subagyo",
    "Hamka",
    "Pramoedya",
    "Kartini",
    "Soekarno",
    "Rendra",
    "Chairil",
    "Nasution",
    "Koentjaraningrat",
    "Tan Malaka",
    "Ayu Utami",
    "Dee Lestari",
    "Hirata",
    "Tere Liye",
    "Sapardi",
    "Mangunwijaya",
    "Gunawan",
    "Budiman",
    "Lubis",
    "Wijaya",
    "Ramadhan",
    "Knuth",
    "Tanenbaum",
    "Orwell",
    "García Márquez",
    "Müller",
    "O'Brien",
    "Ngũgĩ",
    "Rowling",
)
_TITLE_WORDS = (
    "Pengantar",
    "Dasar-dasar",
    "Sejarah",
    "Teori dan Praktik",
    "Panduan",
    "Kumpulan",
    "Introduction to",
    "Handbook of",
    "Kajian",
    "Ensiklopedia",
    "Catatan",
    "Menuju",
)
_FICTION = (
    "Laskar Pelangi",
    "Bumi Manusia",
    "Ronggeng Dukuh Paruk",
    "Saman",
    "Perahu Kertas",
    "Cantik Itu Luka",
    "Negeri 5 Menara",
    "Siti Nurbaya",
    "Atheis",
    "Burung-burung Manyar",
    "Harry Potter dan Batu Bertuah",
    "1984",
    "Seratus Tahun Kesunyian",
    "Supernova: Akar",
)
_SUBTITLES = (
    "",
    "",
    "",
    ": edisi revisi",
    ": teori, metode, dan aplikasi",
    " (jilid 2)",
    ': a "practical" guide',
    ", 1945–1965",
    " — catatan lapangan",
    "; kumpulan esai",
)


@dataclass(frozen=True)
class SampleItem:
    row: dict[str, str]
    on_loan: bool


def generate(n: int = 3000, seed: int = 20261123) -> list[SampleItem]:
    """``n`` items in several locations; about 3 % on loan."""
    rng = random.Random(seed)
    out: list[SampleItem] = []
    for i in range(1, n + 1):
        code = f"B{i:05d}"
        loc = rng.choices(LOCATIONS, weights=(70, 10, 15, 5))[0]
        author = rng.choice(_AUTHORS)
        mark = _author_mark(author)
        if loc == "Fiksi":
            title = rng.choice(_FICTION)
            call = f"F {mark} {title[0].lower()}"
            coll = "Fiksi"
        else:
            hundred = rng.choice(tuple(_SUBJECTS))
            subject = rng.choice(_SUBJECTS[hundred])
            title = f"{rng.choice(_TITLE_WORDS)} {subject}{rng.choice(_SUBTITLES)}"
            cls = f"{int(hundred) + rng.randrange(100):03d}"
            if rng.random() < 0.6:
                cls += "." + str(rng.randrange(1, 999)).rstrip("0")
            call = f"{cls} {mark} {title[0].lower()}"
            if loc == "Referensi":
                call = "R " + call
            coll = "Referensi" if loc == "Referensi" else "Umum"
            if rng.random() < 0.05:
                call += f" c.{rng.randrange(2, 4)}"
        status = rng.choices(("", "Repair", "No Loan", "Missing"), weights=(93, 3, 3, 1))[0]
        year = rng.randrange(2005, 2026)
        row = {
            "item_code": code,
            "call_number": call,
            "coll_type_name": coll,
            "inventory_code": f"INV/{year}/{i:05d}",
            "received_date": f"{year}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 9)}",
            "supplier_name": rng.choice(("", "Gramedia", "Toko Buku Gunung Agung", "Hibah")),
            "order_no": "",
            "location_name": loc,
            "order_date": "",
            "item_status_name": status,
            "site": "Perpustakaan Pusat",
            "source": rng.choice(("1", "2")),
            "invoice": "",
            "price": str(rng.randrange(25, 450) * 1000),
            "price_currency": "Rupiah",
            "invoice_date": "",
            "input_date": f"{year}-06-01 09:{rng.randrange(10, 59)}:00",
            "last_update": f"{year}-06-01 09:{rng.randrange(10, 59)}:00",
            "title": title,
        }
        out.append(SampleItem(row, on_loan=status == "" and rng.random() < 0.03))
    return out


def _author_mark(author: str) -> str:
    letters = [c for c in author.upper() if c.isalpha()]
    return "".join(letters[:3]).translate(str.maketrans("ÁÉÍÓÚÜĨŨ", "AEIOUUIU"))


def to_csv(items: list[SampleItem]) -> str:
    """The items exactly as SLiMS 9.6.1's item export writes them with its defaults.

    Every value in double quotes, inner quotes *not* escaped, a line break in a
    value turned into the letter ``n``, and a stray separator ending the header:
    not valid CSV, which is the point (the importer must read the real thing).
    """

    def enc(value: str) -> str:
        return '"' + value.replace("\r", "r").replace("\n", "n") + '"'

    lines = [",".join(enc(c) for c in COLUMNS) + ","]
    lines += [",".join(enc(it.row[c]) for c in COLUMNS) for it in items]
    return "\n".join(lines) + "\n"


def loans(items: list[SampleItem]) -> Iterator[str]:
    return (it.row["item_code"] for it in items if it.on_loan)


def main() -> None:
    p = argparse.ArgumentParser(description="write the sample catalogue (SLiMS item export)")
    p.add_argument("--items", type=int, default=3000)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    a = p.parse_args()
    items = generate(a.items)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "sample_catalog.csv").write_text(to_csv(items), encoding="utf-8")
    (a.out / "sample_loans.txt").write_text("".join(c + "\n" for c in loans(items)))


if __name__ == "__main__":
    main()
