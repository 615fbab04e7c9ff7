"""The report's words, in English and Indonesian.

One table per language with the same keys, so a translation cannot go
missing silently (tests check both languages hold every key, and a name for
every verdict, command and SLiMS outcome). Longer than the screen's words in
kiosk.feedback: a report is read at a desk, not from a moving cart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from kiosk.models import Command, Verdict
from kiosk.textfmt import num

if TYPE_CHECKING:  # the rows' dataclasses cost a status in words more than its words
    from kiosk.report.rows import Report, SyncState

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
        "todo": "To do",
        "todo_note": "Second look, in shelf order. Tick each line when it is done.",
        "todo_none": "Nothing to do: every scanned book stood where it belongs.",
        "todo.missing": "Not found on the shelf: look once more",
        "todo.misshelved": "Misshelved: put it back between its neighbours",
        "todo.wrong_location": "Wrong location: take it to its own location",
        "todo.on_loan_on_shelf": "On loan in SLiMS but on the shelf: check it in at circulation",
        "todo.unknown": "Unknown barcodes: find the book, then catalogue it or fix its label",
        "todo.found_again": "Found again (lost in SLiMS): change its status in SLiMS",
        "todo.sync_refused": "Not accepted by SLiMS: look the item up in SLiMS",
        "done": "Done",
        "summary": "Summary",
        "lists": "Other lists",
        "found": "Found",
        "missing": "Not found",
        "on_loan": "On loan",
        "on_loan_on_shelf": "On loan in SLiMS but on the shelf",
        "found_again": "Found again",
        "found_by_others": "of which found by other carts",
        "merged_from": "Every cart's work, from SLiMS's stock take {name}",
        "misshelved": "Misshelved",
        "wrong_location": "Wrong location",
        "unknown": "Unknown barcodes",
        "duplicates": "Scanned more than once",
        "invalid": "Unreadable barcodes",
        "excluded": "Skipped by item status",
        "not_covered": "Not scanned yet",
        "no_label": "Items without a label (tally)",
        "sync": "SLiMS sync results",
        "sync_refused": "Not accepted by SLiMS",
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
        "outcome": "Result in SLiMS",
        "problems": "Problem",
        "status": "Status",
        "due": "Due",
        "overdue": "Overdue",
        "days": "{n} days",
        "day": "1 day",
        "not_overdue": "not yet",
        "due_unknown": "not known",
        "unplaced": "cannot be placed on a shelf",
        "none": "None.",
        "start": "start of shelf",
        "end": "end of shelf",
        "fiction": "Fiction",
        "other": "Other / unclassified",
        "missing_note": "Not scanned, not on loan, and inside a span walked at its location.",
        "not_covered_note": "Outside every span walked: not checked yet, so not missing.",
        "on_loan_note": "On loan in SLiMS and not on the shelf (loans are closed during the "
        "stock take). Most overdue first.",
        "on_loan_no_due": "Due dates are missing: the catalogue pull could not read SLiMS's "
        "loan report (Reporting → Loan History needs Reporting rights).",
        "fix_note": "Fix these in SLiMS (Bibliography → item), then pull the catalogue again.",
        "sync_note": "Only items SLiMS accepted count as found there.",
        "more_sections": "Left out of this report: {names}. Add them with "
        "kiosk report --sections all.",
        "confirmed": "Confirmed in SLiMS",
        "written": "report written to {path} ({format})",
        "damage.title": "Scans may be missing: the cart's store was damaged",
        "damage.body": "{n} stored record(s) could not be read. Scans they held are in none "
        "of the lists of this report: a book may show as not found although it was scanned.",
        "damage.unknown": "An unknown number of stored records could not be read. Scans they "
        "held are in none of the lists of this report: a book may show as not found although "
        "it was scanned.",
        "damage.fix": "Stop the daemon and run 'kiosk store recover' to rebuild what the kept "
        "copies still hold, then write this report again.",
        "damage.kept": "kept in {name}",
        "s.accepted": "accepted",
        "s.uploaded": "uploaded (count verified)",
        "s.exported": "in the upload file, not yet in SLiMS",
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
        "v.excluded": "skipped by item status",
        "v.found_again": "lost in SLiMS, found again",
        "v.command": "command",
        "v.error": "scan not stored",
        "c.undo": "undo the last scan",
        "c.run": "new shelf run",
        "c.location": "set the location",
        "c.sync": "sync with SLiMS",
        "c.nolabel": "book without a label",
        "c.pause": "pause scanning",
        "c.resume": "resume scanning",
        "c.web": "show the cart page's address",
    },
    "id": {
        "title": "Laporan stok opname",
        "generated": "Dibuat {when} · {scans} kali pindai",
        "catalog": "Eksemplar di katalog",
        "coverage": "Rak yang sudah diperiksa",
        "coverage_note": "{covered} dari {catalog} eksemplar sudah ditemukan atau berada di "
        "bagian rak yang sudah dipindai",
        "todo": "Yang perlu dikerjakan",
        "todo_note": "Periksa ulang, urut sesuai rak. Centang setiap baris yang sudah beres.",
        "todo_none": "Tidak ada pekerjaan: semua buku yang dipindai ada di tempatnya.",
        "todo.missing": "Tidak ditemukan di rak: cari sekali lagi",
        "todo.misshelved": "Salah rak: kembalikan di antara buku tetangganya",
        "todo.wrong_location": "Salah lokasi: bawa ke lokasinya sendiri",
        "todo.on_loan_on_shelf": "Tercatat dipinjam tetapi ada di rak: kembalikan di sirkulasi",
        "todo.unknown": "Barcode tidak dikenal: cari bukunya, lalu katalogkan atau perbaiki "
        "labelnya",
        "todo.found_again": "Ditemukan kembali (tercatat hilang di SLiMS): ubah statusnya di SLiMS",
        "todo.sync_refused": "Tidak diterima SLiMS: periksa eksemplar ini di SLiMS",
        "done": "Beres",
        "summary": "Ringkasan",
        "lists": "Daftar lainnya",
        "found": "Ditemukan",
        "missing": "Tidak ditemukan",
        "on_loan": "Sedang dipinjam",
        "on_loan_on_shelf": "Tercatat dipinjam tetapi ada di rak",
        "found_again": "Ditemukan kembali",
        "found_by_others": "di antaranya ditemukan troli lain",
        "merged_from": "Hasil semua troli, dari stok opname SLiMS {name}",
        "misshelved": "Salah rak",
        "wrong_location": "Salah lokasi",
        "unknown": "Barcode tidak dikenal",
        "duplicates": "Dipindai lebih dari sekali",
        "invalid": "Barcode tidak terbaca",
        "excluded": "Dilewati karena status eksemplar",
        "not_covered": "Belum dipindai",
        "no_label": "Eksemplar tanpa label (dihitung manual)",
        "sync": "Hasil kirim ke SLiMS",
        "sync_refused": "Tidak diterima SLiMS",
        "by_location": "Per lokasi",
        "by_class": "Per kelas DDC",
        "ranges": "Bagian rak yang sudah dipindai",
        "fix": "Nomor panggil yang perlu dibetulkan di SLiMS",
        "code": "Kode eksemplar",
        "call": "Nomor panggil",
        "item_title": "Judul",
        "location": "Lokasi",
        "run": "Deret",
        "from": "Dari",
        "to": "Sampai",
        "books": "Buku urut",
        "belongs": "Tempatnya di antara",
        "found_after": "ditemukan sesudah {x}",
        "belongs_in": "Lokasi seharusnya",
        "found_in": "Ditemukan di",
        "times": "Kali",
        "count": "Jumlah",
        "outcome": "Hasil di SLiMS",
        "problems": "Masalah",
        "status": "Status",
        "due": "Harus kembali",
        "overdue": "Terlambat",
        "days": "{n} hari",
        "day": "1 hari",
        "not_overdue": "belum",
        "due_unknown": "tidak diketahui",
        "unplaced": "tidak bisa ditempatkan di rak",
        "none": "Tidak ada.",
        "start": "awal rak",
        "end": "akhir rak",
        "fiction": "Fiksi",
        "other": "Lainnya / tanpa kelas",
        "missing_note": "Tidak terpindai, tidak sedang dipinjam, dan berada di bagian rak yang "
        "sudah dipindai di lokasinya.",
        "not_covered_note": "Di luar bagian rak yang sudah dipindai: belum diperiksa, jadi belum "
        "dianggap hilang.",
        "on_loan_note": "Sedang dipinjam menurut SLiMS dan tidak ada di rak (peminjaman "
        "ditutup selama stok opname). Yang paling lama terlambat di atas.",
        "on_loan_no_due": "Tanggal harus kembali tidak ada: saat mengambil katalog, laporan "
        "peminjaman SLiMS tidak bisa dibaca (Pelaporan → Sejarah Peminjaman perlu hak akses "
        "Pelaporan).",
        "fix_note": "Betulkan di SLiMS (Bibliografi → eksemplar), lalu ambil ulang katalognya.",
        "sync_note": "Hanya eksemplar yang diterima SLiMS terhitung ditemukan di sana.",
        "more_sections": "Tidak dimuat di laporan ini: {names}. Tambahkan dengan "
        "kiosk report --sections all.",
        "confirmed": "Sudah tercatat di SLiMS",
        "written": "laporan disimpan di {path} ({format})",
        "damage.title": "Mungkin ada pindaian yang hilang: penyimpanan data di troli rusak",
        "damage.body": "{n} catatan tersimpan tidak dapat dibaca. Pindaian di dalamnya tidak "
        "masuk ke daftar mana pun di laporan ini: buku bisa tercatat tidak ditemukan padahal "
        "sudah dipindai.",
        "damage.unknown": "Sejumlah catatan tersimpan (jumlahnya tidak diketahui) tidak dapat "
        "dibaca. Pindaian di dalamnya tidak masuk ke daftar mana pun di laporan ini: buku bisa "
        "tercatat tidak ditemukan padahal sudah dipindai.",
        "damage.fix": "Hentikan daemon lalu jalankan 'kiosk store recover' untuk memulihkan apa "
        "yang masih ada di salinan yang disimpan, kemudian buat laporan ini lagi.",
        "damage.kept": "disimpan di {name}",
        "s.accepted": "diterima",
        "s.uploaded": "sudah diunggah (jumlahnya cocok)",
        "s.exported": "ada di berkas unggah, belum masuk SLiMS",
        "s.already_scanned": "sudah dipindai sebelumnya di SLiMS",
        "s.not_in_stocktake": "tidak termasuk stok opname ini di SLiMS",
        "s.on_loan": "sedang dipinjam di SLiMS: tidak dihitung",
        "s.skipped_rule": "dilewati karena aturan status eksemplar",
        "s.pending": "belum dikirim",
        "v.ok": "urut",
        "v.duplicate": "dipindai lagi",
        "v.unknown": "tidak ada di katalog",
        "v.on_loan": "tercatat dipinjam",
        "v.wrong_location": "salah lokasi",
        "v.misshelved": "salah rak",
        "v.invalid": "bukan kode eksemplar",
        "v.excluded": "dilewati karena status",
        "v.found_again": "hilang di SLiMS, ditemukan kembali",
        "v.command": "perintah",
        "v.error": "pindaian tidak tersimpan",
        "c.undo": "batalkan pindaian terakhir",
        "c.run": "deret rak baru",
        "c.location": "pilih lokasi",
        "c.sync": "kirim ke SLiMS",
        "c.nolabel": "buku tanpa label",
        "c.pause": "jeda pemindaian",
        "c.resume": "lanjutkan pemindaian",
        "c.web": "tampilkan alamat halaman troli",
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


def damage_notice(rep: Report, lang: str) -> tuple[str, str, str, list[str]]:
    """Title, what it means, what to do, and one line per damaged file, for the report's top.

    Empty strings and no lines when the store holds no record of damage.
    """
    if not rep.store_damage:
        return "", "", "", []
    t = TEXT[lang]
    lost = rep.records_lost
    body = t["damage.unknown"] if lost is None else t["damage.body"].format(n=num(lost, lang))
    details = [
        f"{r.what}: {'?' if r.lost is None else num(r.lost, lang)}"
        + (f" ({t['damage.kept'].format(name=r.kept)})" if r.kept else "")
        for r in rep.store_damage
    ]
    return t["damage.title"], body, t["damage.fix"], details
