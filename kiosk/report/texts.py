"""The report's words, in English and Indonesian.

One table per language with the same keys, so a translation cannot go
missing silently (tests check both languages hold every key, and a name for
every verdict, command and SLiMS outcome). Longer than the screen's words in
kiosk.feedback: a report is read at a desk, not from a moving cart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kiosk.models import Command, Verdict
from kiosk.report.rows import SyncState

LANGUAGES: Final = ("en", "id")

#: Language → key → text. Keys ``s.<outcome>``, ``v.<verdict>`` and ``c.<command>``
#: name each SLiMS outcome (and ``s.pending``), verdict and command.
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Stock-take report",
        "generated": "Generated {when} · {scans} scans",
        "catalog": "Items in catalogue",
        "coverage": "Shelf coverage",
        "coverage_note": "{covered} of {catalog} catalogue items found or inside a walked span",
        "found": "Found",
        "missing": "Missing",
        "on_loan": "On loan",
        "on_loan_on_shelf": "On loan in SLiMS but on the shelf",
        "misshelved": "Misshelved",
        "wrong_location": "Wrong location",
        "unknown": "Unknown barcodes",
        "duplicates": "Scanned more than once",
        "invalid": "Invalid barcodes",
        "excluded": "Excluded by status",
        "not_covered": "Not yet covered",
        "no_label": "Items without a label (tally)",
        "sync": "SLiMS sync results",
        "sync_items": "SLiMS verdict per item",
        "by_location": "By location",
        "by_class": "By DDC class",
        "ranges": "Shelf spans walked",
        "fix": "Call numbers to fix in SLiMS",
        "code": "Item code",
        "call": "Call number",
        "item_title": "Title",
        "location": "Location",
        "run": "Run",
        "from": "From",
        "to": "To",
        "books": "Books in order",
        "belongs": "Belongs between",
        "found_after": "found after {x}",
        "belongs_in": "Belongs in",
        "found_in": "Found in",
        "times": "Times",
        "count": "Count",
        "outcome": "SLiMS outcome",
        "problems": "Problem",
        "status": "Status",
        "unplaced": "cannot be placed on a shelf",
        "none": "None.",
        "start": "start of shelf",
        "end": "end of shelf",
        "fiction": "Fiction",
        "other": "Other / unclassified",
        "missing_note": "Not scanned, not on loan, and inside a span walked at its location.",
        "not_covered_note": "Outside every span walked: not checked yet, so not missing.",
        "on_loan_note": "On loan in SLiMS and not on the shelf (loans are closed during the "
        "stock take).",
        "fix_note": "Fix these in SLiMS (Bibliography → item), then pull the catalogue again.",
        "sync_note": "Only items SLiMS accepted count as found there; others need a look.",
        "confirmed": "Confirmed in SLiMS",
        "s.accepted": "accepted",
        "s.uploaded": "uploaded (count verified)",
        "s.exported": "in the upload file (not confirmed by SLiMS)",
        "s.already_scanned": "already scanned in SLiMS",
        "s.not_in_stocktake": "not in this SLiMS stock take",
        "s.on_loan": "on loan in SLiMS: not counted",
        "s.skipped_rule": "skipped by an item-status rule",
        "s.pending": "not yet synced",
        "v.ok": "in order",
        "v.duplicate": "scanned again",
        "v.unknown": "not in the catalogue",
        "v.on_loan": "on loan in SLiMS",
        "v.wrong_location": "wrong location",
        "v.misshelved": "misshelved",
        "v.invalid": "not an item code",
        "v.excluded": "excluded by status",
        "v.command": "command",
        "v.error": "scan not stored",
        "c.undo": "undo the last scan",
        "c.run": "new shelf run",
        "c.location": "set the location",
        "c.sync": "sync with SLiMS",
        "c.nolabel": "book without a label",
        "c.pause": "pause scanning",
        "c.resume": "resume scanning",
    },
    "id": {
        "title": "Laporan stock opname",
        "generated": "Dibuat {when} · {scans} pindaian",
        "catalog": "Eksemplar di katalog",
        "coverage": "Cakupan rak",
        "coverage_note": "{covered} dari {catalog} eksemplar ditemukan atau berada dalam "
        "rentang rak yang disusuri",
        "found": "Ditemukan",
        "missing": "Hilang",
        "on_loan": "Dipinjam",
        "on_loan_on_shelf": "Tercatat dipinjam tetapi ada di rak",
        "misshelved": "Salah urutan rak",
        "wrong_location": "Salah lokasi",
        "unknown": "Barkode tidak dikenal",
        "duplicates": "Dipindai lebih dari sekali",
        "invalid": "Barkode tidak sah",
        "excluded": "Dikecualikan karena status",
        "not_covered": "Belum tercakup",
        "no_label": "Eksemplar tanpa label (hitungan)",
        "sync": "Hasil sinkronisasi SLiMS",
        "sync_items": "Putusan SLiMS per eksemplar",
        "by_location": "Per lokasi",
        "by_class": "Per kelas DDC",
        "ranges": "Rentang rak yang disusuri",
        "fix": "Nomor panggil yang perlu diperbaiki di SLiMS",
        "code": "Kode eksemplar",
        "call": "Nomor panggil",
        "item_title": "Judul",
        "location": "Lokasi",
        "run": "Deret",
        "from": "Dari",
        "to": "Sampai",
        "books": "Buku berurutan",
        "belongs": "Seharusnya di antara",
        "found_after": "ditemukan setelah {x}",
        "belongs_in": "Seharusnya di",
        "found_in": "Ditemukan di",
        "times": "Kali",
        "count": "Jumlah",
        "outcome": "Hasil SLiMS",
        "problems": "Masalah",
        "status": "Status",
        "unplaced": "tidak dapat ditempatkan di rak",
        "none": "Tidak ada.",
        "start": "awal rak",
        "end": "akhir rak",
        "fiction": "Fiksi",
        "other": "Lainnya / tanpa kelas",
        "missing_note": "Tidak dipindai, tidak dipinjam, dan berada dalam rentang rak yang "
        "disusuri di lokasinya.",
        "not_covered_note": "Di luar semua rentang yang disusuri: belum diperiksa, jadi belum "
        "dianggap hilang.",
        "on_loan_note": "Dipinjam menurut SLiMS dan tidak ada di rak (sirkulasi ditutup selama "
        "stock opname).",
        "fix_note": "Perbaiki di SLiMS (Bibliografi → eksemplar), lalu tarik katalog lagi.",
        "sync_note": "Hanya eksemplar yang diterima SLiMS dihitung ada di sana; sisanya perlu "
        "diperiksa.",
        "confirmed": "Sudah dikonfirmasi SLiMS",
        "s.accepted": "diterima",
        "s.uploaded": "terunggah (jumlah cocok)",
        "s.exported": "di berkas unggah (belum dikonfirmasi SLiMS)",
        "s.already_scanned": "sudah dipindai di SLiMS",
        "s.not_in_stocktake": "tidak ada di stock opname SLiMS",
        "s.on_loan": "dipinjam di SLiMS: tidak dihitung",
        "s.skipped_rule": "dilewati aturan status eksemplar",
        "s.pending": "belum disinkronkan",
        "v.ok": "sesuai urutan",
        "v.duplicate": "dipindai lagi",
        "v.unknown": "tidak ada di katalog",
        "v.on_loan": "dipinjam menurut SLiMS",
        "v.wrong_location": "salah lokasi",
        "v.misshelved": "salah urutan rak",
        "v.invalid": "bukan kode eksemplar",
        "v.excluded": "dikecualikan karena status",
        "v.command": "perintah",
        "v.error": "pindaian tidak tersimpan",
        "c.undo": "batalkan pindaian terakhir",
        "c.run": "deret rak baru",
        "c.location": "atur lokasi",
        "c.sync": "sinkronkan dengan SLiMS",
        "c.nolabel": "buku tanpa label",
        "c.pause": "jeda pemindaian",
        "c.resume": "lanjutkan pemindaian",
    },
}

#: DDC hundreds as SLiMS's classification reports name them (English, Indonesian).
DDC_NAMES: dict[str, tuple[str, str]] = {
    "000": ("Generalities, computing", "Karya umum, komputer"),
    "100": ("Philosophy, psychology", "Filsafat, psikologi"),
    "200": ("Religion", "Agama"),
    "300": ("Social sciences", "Ilmu sosial"),
    "400": ("Language", "Bahasa"),
    "500": ("Natural sciences, mathematics", "Ilmu murni, matematika"),
    "600": ("Technology, applied sciences", "Teknologi, ilmu terapan"),
    "700": ("Arts, recreation", "Kesenian, olahraga"),
    "800": ("Literature", "Kesusastraan"),
    "900": ("History, geography", "Sejarah, geografi"),
}


def outcome_name(t: Mapping[str, str], state: SyncState) -> str:
    """What SLiMS said about an item (or that it is not synced yet), in ``t``'s language."""
    return t.get(f"s.{state}", str(state))


def verdict_name(t: Mapping[str, str], verdict: Verdict) -> str:
    return t.get(f"v.{verdict}", str(verdict))


def command_name(t: Mapping[str, str], command: Command) -> str:
    return t.get(f"c.{command}", str(command))


def ddc_names(language: str) -> dict[str, str]:
    """DDC hundreds → their name in ``language``."""
    index = LANGUAGES.index(language)
    return {k: v[index] for k, v in DDC_NAMES.items()}
